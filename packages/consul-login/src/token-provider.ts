/**
 * `consulTokenProvider()`: a core `CredentialProvider<ConsulToken>` that logs in on first use, logs in again when
 * the token expires or is reported gone, logs out every token it made and no longer uses (a replaced one after a
 * grace period, one whose login answered too late at once), and logs out the last one on `close()`.
 * @packageDocumentation
 */
import {
  type GetOptions,
  type RefreshEvent,
  type RefreshingProvider,
  type RefreshPolicy,
  refreshingProvider,
  safeLogger,
  systemClock,
} from '@ecs-identity/core';
import { mergeRefreshPolicy, meteredRefreshHooks, withAsyncDispose } from '@ecs-identity/core/internal';
import type { ConsulAclClient } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';
import { ConsulError } from './errors.js';
import { aclOf, type ConsulLoginOptions, type ConsulLogoutOptions, loginWith } from './login.js';
import type { Platform } from './platform.js';
import { type TokenLogoutEvent, TokenLogouts } from './token-logouts.js';

/**
 * The default overall bound on one login (core's `fetchTimeoutMs`): the task metadata read, the 60 s login phase and
 * the 10 s replication wait, with room to spare.
 */
const DEFAULT_FETCH_TIMEOUT_MS = 120_000;

/** How long a replaced token stays valid by default before it is logged out. @internal */
export const DEFAULT_SUPERSEDED_GRACE_MS = 30_000;

/**
 * The Consul token provider's defaults for core's `refresh` / `retry` options: core's refresh schedule (at the latest
 * at 0.8 of a token's TTL or 5 minutes before it ends, spread over the second half of that) and backoff (a failed
 * login with a valid token cached is tried again once within 5 minutes, 10, 20... at most 4 hours and a quarter of
 * the TTL left); a login with no valid token is retried at once as `consulLogin` does: 8 attempts, 200 ms → 5 s
 * backoff, 60 s overall, each with a new bearer token.
 * @internal
 */
export const consulTokenRefreshDefaults: Readonly<RefreshPolicy> = Object.freeze({
  refresh: Object.freeze({}),
  retry: Object.freeze({
    initial: Object.freeze({ maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 5000, deadlineMs: 60_000 }),
  }),
});

/**
 * When and how the tokens of a provider are logged out: a replaced one after a grace period, the last one on close,
 * and one whose login answered too late.
 * @public
 */
export interface ConsulTokenLogoutOptions extends ConsulLogoutOptions {
  /** Log the token in use out on `close()`. Default true (what consul-ecs does at shutdown). */
  onClose?: boolean | undefined;
  /**
   * How long a token replaced by a newer one stays valid before it is logged out, so that readers of the sink file
   * (or holders of the old token) can switch. Default 30 000 ms; 0 logs it out at once. `close()` ends the wait.
   */
  supersededGraceMs?: number | undefined;
}

/**
 * The login's options, and core's `refresh` / `retry` (unset fields keep the Consul token's defaults: core's schedule;
 * `retry.initial` is the quick retry of a login made with no valid token, 8 attempts within 60 s by default, one
 * attempt per backoff otherwise).
 * @public
 */
export interface ConsulTokenProviderOptions
  extends Omit<ConsulLoginOptions, 'signal' | 'retry' | 'logout'>,
    RefreshPolicy {
  /** When tokens are logged out: `onClose`, `supersededGraceMs`, `lateAnswerWindowMs`. */
  logout?: ConsulTokenLogoutOptions | undefined;
  /** Called after each logout the provider does (superseded, late answer, close), with the error if it failed. */
  onLogout?: ((event: TokenLogoutEvent) => void) | undefined;
  /** Called with each failed background login (the cached token keeps being served while valid). */
  onError?: ((error: unknown) => void) | undefined;
  /** Called with each refresh event (refreshed, refresh-failed, expiring). */
  onEvent?: ((event: RefreshEvent) => void) | undefined;
  /**
   * The bound on one whole login, its metadata read, attempts and replication wait included (core's
   * `fetchTimeoutMs`): then a retryable `TIMEOUT`. Default 120 000 ms.
   */
  fetchTimeoutMs?: number | undefined;
  random?: (() => number) | undefined;
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
 * The Consul token provider (see the entries' `consulTokenProvider`), with `platform`'s TLS.
 * @internal
 */
export function tokenProviderWith(platform: Platform, options: ConsulTokenProviderOptions = {}): ConsulTokenProvider {
  const acl = aclOf(platform, options);
  const log = safeLogger(options.logger);
  const graceMs = options.logout?.supersededGraceMs ?? DEFAULT_SUPERSEDED_GRACE_MS;
  if (!(typeof graceMs === 'number' && graceMs >= 0 && Number.isFinite(graceMs))) {
    throw new ConsulError(
      'INVALID_ARGUMENT',
      `logout.supersededGraceMs must be a finite number >= 0, got ${String(graceMs)}`,
    );
  }
  const logouts = new TokenLogouts(acl, { clock: options.clock, logger: log, onLogout: options.onLogout });
  // The accessor id of the token reported gone; a new login brings a new id, so the mark clears itself.
  let goneAccessorId: string | undefined;
  // The newest token handed out: replaced, it is logged out after the grace period.
  let inUse: ConsulToken | undefined;
  const isGone = (token: ConsulToken | undefined): boolean =>
    token !== undefined && token.accessorId === goneAccessorId;

  const { refresh, retry } = mergeRefreshPolicy(consulTokenRefreshDefaults, options);
  const clock = options.clock ?? systemClock;
  // No valid token: the task has nothing, so the login itself retries at once (it refetches stale AWS credentials
  // between attempts). With a valid token, one attempt per backoff of core's.
  const coldLogin = { ...retry.initial, random: options.random };
  const hasValidToken = (previous: ConsulToken | undefined): boolean =>
    previous !== undefined &&
    !isGone(previous) &&
    (previous.expiresAt === undefined || previous.expiresAt.getTime() > clock.now());

  // Attempts, failures and the token's expiry reach the metrics through the refresh events.
  const metered = meteredRefreshHooks(options.metrics, { onEvent: options.onEvent });
  const inner = refreshingProvider<ConsulToken>({
    clock: options.clock,
    logger: options.logger,
    random: options.random,
    onError: options.onError,
    ...metered.options,
    fetchTimeoutMs: options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
    refresh,
    retry: { ...retry, initial: { maxAttempts: 1 } },
    name: 'consul token',
    fetch: (signal, previous) =>
      loginWith(
        platform,
        { ...options, acl, signal, retry: hasValidToken(previous) ? { maxAttempts: 1 } : coldLogin },
        logouts,
      ),
    dispose: async (last) => {
      // A login that finished during close() was never handed out: its token goes whatever logoutOnClose says.
      if (last !== undefined && last !== inUse) logouts.now(last, 'close');
      if (inUse !== undefined && options.logout?.onClose !== false) logouts.now(inUse, 'close');
      // Replaced tokens still in their grace period, late answers, and the last token: all now, all waited for.
      const failures = await logouts.flush();
      if (failures.length > 0) {
        const first = failures[0];
        throw new ConsulError(
          'LOGOUT_FAILED',
          `consul token: ${failures.length} logout(s) failed on close (first: ${first instanceof Error ? first.message : String(first)})`,
          { cause: first },
        );
      }
    },
  });
  metered.attach(inner);
  inner.subscribe((token) => {
    const replaced = inUse;
    inUse = token;
    // A token reported gone needs no logout.
    if (replaced !== undefined && replaced !== token && replaced.accessorId !== goneAccessorId) {
      logouts.after(replaced, graceMs, 'superseded');
    }
  });

  return withAsyncDispose({
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
    subscribe: (listener: (token: ConsulToken) => void) => inner.subscribe(listener),
    close: () => inner.close(),
    invalidate(token?: ConsulToken) {
      const target = token ?? inner.peek();
      if (target !== undefined) goneAccessorId = target.accessorId;
    },
  });
}
