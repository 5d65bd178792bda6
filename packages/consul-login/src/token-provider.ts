/**
 * `consulTokenProvider()`: a core `CredentialProvider<ConsulToken>` that logs in on first use, logs in again when
 * the token expires or is reported gone, and logs out on `close()`.
 * @packageDocumentation
 */
import {
  type GetOptions,
  IdentityError,
  meteredRefreshHooks,
  type RefreshingProvider,
  type RefreshingProviderOptions,
  refreshingProvider,
  safeLogger,
} from '@ecs-identity/core';
import { type ConsulAclClient, consulAclClient } from './acl-client.js';
import type { ConsulToken } from './consul-token.js';
import { type ConsulLoginOptions, consulLogin } from './login.js';

/** @public */
export interface ConsulTokenProviderOptions extends Omit<ConsulLoginOptions, 'signal'> {
  /** Log the token out on `close()`. Default true (what consul-ecs does at shutdown). */
  logoutOnClose?: boolean;
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
  // The accessor id of the token reported gone; a new login brings a new id, so the mark clears itself.
  let goneAccessorId: string | undefined;
  const metered = meteredRefreshHooks(options.metrics, options.refresh);

  const inner = refreshingProvider<ConsulToken>({
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...options.refresh,
    ...metered.options,
    name: 'consul token',
    fetch: (signal) => consulLogin({ ...options, acl, signal }),
    dispose: async (last) => {
      if (last === undefined || options.logoutOnClose === false) return;
      try {
        await acl.logout(last);
        log.info({ accessorId: last.accessorId }, 'logged out of Consul');
      } catch (e) {
        // Already gone is what logout wants.
        if (IdentityError.is(e, 'CONSUL_TOKEN_NOT_FOUND')) return;
        throw e;
      }
    },
  });
  metered.attach(inner);

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
