/**
 * Credentials obtained with the identity certificate (role certificates, access tokens) are only good with that
 * certificate: ZTS binds tokens to it, and a role cert outliving a rotated key is useless to a TLS peer. This wraps
 * such a provider so a rotation of the identity drops them.
 * @packageDocumentation
 */
import {
  type Clock,
  type Credential,
  type CredentialMetrics,
  type CredentialProvider,
  type GetOptions,
  type IdentityError,
  type Logger,
  type RefreshEvent,
  type RefreshingProvider,
  type RefreshPolicy,
  refreshingProvider,
} from '@ecs-identity/core';
import { mergeRefreshPolicy, meteredRefreshHooks, withAsyncDispose } from '@ecs-identity/core/internal';
import type { X509Identity } from './credentials.js';
import { AthenzError } from './errors.js';
import { ATHENZ_FETCH_TIMEOUT_MS } from './refresh-defaults.js';

/**
 * Options shared by the providers of credentials obtained with the service identity. `refresh` / `retry` are core's
 * (see `athenzRefreshDefaults` for each provider's defaults).
 * @public
 */
export interface IdentityBoundOptions extends RefreshPolicy {
  /** The service identity (its certificate authenticates the calls). */
  identity: CredentialProvider<X509Identity>;
  /** Called when a background refresh fails. Default: a warning through `logger`. */
  onError?: ((error: unknown) => void) | undefined;
  /** Called with each refresh event (refreshed, refresh-failed, expiring). */
  onEvent?: ((event: RefreshEvent) => void) | undefined;
  /**
   * The overall bound on one fetch, every attempt and wait included (core's `fetchTimeoutMs`): when it passes, the
   * fetch is aborted and `get()` rejects with a retryable `TIMEOUT`. Default 90 s.
   */
  fetchTimeoutMs?: number | undefined;
  /** OpenTelemetry metrics (core's `credentialMetrics`): attempts, failures by code, the credential's time to expiry. */
  metrics?: CredentialMetrics | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
}

/** A credential that remembers which identity certificate it was obtained with. @internal */
export interface BoundCredential extends Credential {
  readonly identitySerial: string;
}

/**
 * Returns `inner` with two additions: `get()` never returns a credential bound to an older identity certificate
 * than the current one, and each identity rotation starts a refresh in the background.
 * @internal
 */
export function boundToIdentity<C extends BoundCredential>(
  inner: RefreshingProvider<C>,
  identity: CredentialProvider<X509Identity>,
  onError: (e: unknown) => void,
): RefreshingProvider<C> {
  const unsubscribe = identity.subscribe(() => {
    inner.get({ forceRefresh: true }).catch(onError);
  });
  async function get(options: GetOptions = {}): Promise<C> {
    const signalOnly = options.signal ? { signal: options.signal } : {};
    let credential = await inner.get(options);
    // A refresh that began before a rotation finishes with the old certificate: try again, a bounded few times.
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await identity.get(signalOnly);
      if (credential.identitySerial === current.serialNumber) return credential;
      credential = await inner.get({ ...signalOnly, forceRefresh: true });
    }
    throw new AthenzError('EXPIRED', 'the identity certificate kept changing while a bound credential was fetched', {
      retryable: true,
    });
  }
  return withAsyncDispose({
    get,
    peek: () => inner.peek(),
    subscribe: (listener: (credential: C) => void) => inner.subscribe(listener),
    async close() {
      unsubscribe();
      await inner.close();
    },
  });
}

/**
 * A refreshing provider of credentials obtained with the current service identity: every fetch starts from
 * `identity.get()` (with the provider's `refresh` / `retry` defaults under the caller's), the result is bound to that identity ({@link boundToIdentity}), and a failed
 * background refresh is logged as `<label>: refresh failed` unless `onError` is given.
 * @internal
 */
export function identityBoundProvider<C extends BoundCredential>(spec: {
  /** The refreshing provider's name (in its log lines). */
  name: string;
  /** How a failed refresh is logged by default. */
  label: string;
  options: IdentityBoundOptions;
  /** The provider's refresh / retry defaults (`athenzRefreshDefaults`). */
  defaults: RefreshPolicy;
  logger: Logger;
  clock: Clock;
  fetch: (identity: X509Identity, signal: AbortSignal) => Promise<C>;
}): RefreshingProvider<C> {
  const { options, logger, clock } = spec;
  const onError =
    options.onError ??
    ((e: unknown) => logger.warn({ code: (e as IdentityError).code }, `${spec.label}: refresh failed`));
  // Attempts, failures and the credential's expiry reach the metrics through the refresh events.
  const metered = meteredRefreshHooks(options.metrics, { onEvent: options.onEvent });
  const inner = refreshingProvider<C>({
    name: spec.name,
    fetch: async (signal) => spec.fetch(await options.identity.get({ signal }), signal),
    ...mergeRefreshPolicy(spec.defaults, options),
    fetchTimeoutMs: options.fetchTimeoutMs ?? ATHENZ_FETCH_TIMEOUT_MS,
    onError,
    ...metered.options,
    logger,
    clock,
    random: options.random,
  });
  metered.attach(inner);
  return boundToIdentity(inner, options.identity, onError);
}
