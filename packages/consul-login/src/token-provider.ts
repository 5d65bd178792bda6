/**
 * `consulTokenProvider()`: a core `CredentialProvider<ConsulToken>` that logs in on first use, logs in again when
 * the token expires or is reported gone, logs out every token it made and no longer uses (a replaced one after a
 * grace period, one whose login answered too late at once), and logs out the last one on `close()`.
 * @packageDocumentation
 */
import {
  type GetOptions,
  IdentityError,
  type RefreshingProvider,
  type RefreshingProviderOptions,
  refreshingProvider,
  safeLogger,
} from '@ecs-identity/core';
import { type ConsulAclClient, consulAclClient } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';
import { type ConsulLoginOptions, consulLoginTracked } from './login.js';
import { type TokenLogoutEvent, TokenLogouts } from './token-logouts.js';

/** How long a replaced token stays valid by default before it is logged out. @public */
export const DEFAULT_SUPERSEDED_GRACE_MS = 30_000;

/** @public */
export interface ConsulTokenProviderOptions extends Omit<ConsulLoginOptions, 'signal'> {
  /** Log the token out on `close()`. Default true (what consul-ecs does at shutdown). */
  logoutOnClose?: boolean;
  /**
   * How long a token replaced by a newer one stays valid before it is logged out, so that readers of the sink file
   * (or holders of the old token) can switch. Default 30 000 ms; 0 logs it out at once. `close()` ends the wait.
   */
  supersededGraceMs?: number;
  /** Called after each logout the provider does (superseded, late answer, close), with the error if it failed. */
  onLogout?: (event: TokenLogoutEvent) => void;
  /** Tuning of core's refreshing provider (refresh window, jitter, background refresh...). */
  refresh?: Partial<Omit<RefreshingProviderOptions<ConsulToken>, 'name' | 'fetch' | 'dispose'>>;
}

/** @public */
export interface ConsulTokenProvider extends RefreshingProvider<ConsulToken> {
  /** The ACL client the provider logs in and out with. */
  readonly acl: ConsulAclClient;
  /**
   * Says the token is gone (Consul answered `ACL not found`, e.g. it was deleted): the next `get()` logs in again.
   * With a token, only that token is dropped (a report about an older token is ignored).
   */
  invalidate(token?: ConsulToken): void;
}

/**
 * A Consul token provider for a long-running task: the first `get()` logs in (task identity, AWS credentials,
 * bearer token, ACL login, replication wait, sink), concurrent callers share it, a token with an `ExpirationTime`
 * is replaced ahead of expiry, {@link ConsulTokenProvider.invalidate} forces a new login, and `close()` logs out.
 * No token is left behind: a replaced token is logged out after `supersededGraceMs`, the token of a login whose answer
 * came after the client gave up is logged out when it arrives (see `lateAnswerWindowMs`), and `close()` logs out
 * everything still pending and rejects with `LOGOUT_FAILED` if a logout failed (a token already gone counts as done).
 *
 * @example
 * ```ts
 * const consul = consulTokenProvider({ address: 'https://consul.example:8501' });
 * const { secretId } = await consul.get();
 * process.on('SIGTERM', () => consul.close());
 * ```
 * @public
 */
export function consulTokenProvider(options: ConsulTokenProviderOptions = {}): ConsulTokenProvider {
  const acl = options.acl ?? consulAclClient(options);
  const log = safeLogger(options.logger);
  const graceMs = options.supersededGraceMs ?? DEFAULT_SUPERSEDED_GRACE_MS;
  if (!(typeof graceMs === 'number' && graceMs >= 0 && Number.isFinite(graceMs))) {
    throw new IdentityError(
      'INVALID_ARGUMENT',
      `supersededGraceMs must be a finite number >= 0, got ${String(graceMs)}`,
    );
  }
  const logouts = new TokenLogouts(acl, {
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    logger: log,
    ...(options.onLogout === undefined ? {} : { onLogout: options.onLogout }),
  });
  // The accessor id of the token reported gone; a new login brings a new id, so the mark clears itself.
  let goneAccessorId: string | undefined;
  // The newest token handed out: replaced, it is logged out after the grace period.
  let inUse: ConsulToken | undefined;

  const inner = refreshingProvider<ConsulToken>({
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...options.refresh,
    name: 'consul token',
    fetch: (signal) => consulLoginTracked({ ...options, acl, signal }, logouts),
    dispose: async (last) => {
      // A login that finished during close() was never handed out: its token goes whatever logoutOnClose says.
      if (last !== undefined && last !== inUse) logouts.now(last, 'close');
      if (inUse !== undefined && options.logoutOnClose !== false) logouts.now(inUse, 'close');
      // Replaced tokens still in their grace period, late answers, and the last token: all now, all waited for.
      const failures = await logouts.flush();
      if (failures.length > 0) {
        const first = failures[0];
        throw new IdentityError(
          'LOGOUT_FAILED',
          `consul token: ${failures.length} logout(s) failed on close (first: ${first instanceof Error ? first.message : String(first)})`,
          { cause: first },
        );
      }
    },
  });
  inner.subscribe((token) => {
    const replaced = inUse;
    inUse = token;
    // A token reported gone needs no logout.
    if (replaced !== undefined && replaced !== token && replaced.accessorId !== goneAccessorId) {
      logouts.after(replaced, graceMs, 'superseded');
    }
  });

  const isGone = (token: ConsulToken | undefined): boolean =>
    token !== undefined && token.accessorId === goneAccessorId;

  return {
    acl,
    peek: () => {
      const token = inner.peek();
      return isGone(token) ? undefined : token;
    },
    async get(getOptions?: GetOptions) {
      const cached = inner.peek();
      const token = await inner.get(isGone(cached) ? { ...getOptions, forceRefresh: true } : getOptions);
      if (!isGone(token)) return token;
      // The cached token was reported gone while a get() was being served: log in again.
      return inner.get({ ...getOptions, forceRefresh: true });
    },
    subscribe: (listener) => inner.subscribe(listener),
    close: () => inner.close(),
    invalidate(token) {
      const target = token ?? inner.peek();
      if (target !== undefined) goneAccessorId = target.accessorId;
    },
  };
}
