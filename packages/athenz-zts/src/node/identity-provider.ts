/**
 * The service identity provider: what `siad -cmd post` and `-cmd rotate` do on Fargate, in-process. It composes the
 * context (task facts, names, provider, attestation: `athenzContext`), the saved identity (read, judged, and the start
 * it decides: `loadSavedIdentity`), the issuer (one register or refresh with ZTS, saved before it is handed out:
 * `IdentityIssuer`) and a core refreshing provider: the first get() registers or refreshes with what an earlier run
 * saved; then it refreshes ahead of expiry with fresh attestation.
 * @packageDocumentation
 */
import {
  type Clock,
  type CredentialMetrics,
  type IdentityError,
  type Logger,
  type RefreshEvent,
  type RefreshingProvider,
  type RefreshPolicy,
  refreshingProvider,
  safeLogger,
  systemClock,
} from '@ecs-identity/core';
import { mergeRefreshPolicy, meteredRefreshHooks } from '@ecs-identity/core/internal';
import {
  type AthenzContext,
  type AthenzContextOptions,
  athenzContextWith,
  type ResolvedAthenzContext,
} from '../context.js';
import type { X509Identity } from '../credentials.js';
import { AthenzError } from '../errors.js';
import type { IdentitySink, StoredPair } from '../identity-sink.js';
import { ATHENZ_FETCH_TIMEOUT_MS, athenzRefreshDefaults } from '../refresh-defaults.js';
import {
  judgeSaved,
  loadSavedPair,
  readSavedPair,
  type SavedIdentityOptions,
  worthRefreshing,
} from '../saved-identity.js';
import type { ZtsClient } from '../zts-client.js';
import {
  type AthenzCsrOptions,
  type AthenzKeyOptions,
  clientTlsOf,
  IdentityIssuer,
  instanceRefOf,
  knownKey,
} from './identity-issuer.js';
import { preloadSts } from './sts-sdk.js';

export type { AthenzCsrOptions, AthenzKeyOptions } from './identity-issuer.js';

/**
 * How the first `get()` obtains the identity (siad's `post` and `rotate`).
 * - `auto`: refresh with the key and certificate the sink holds when they are still valid, else register (keeping
 *   a saved key that still parses).
 * - `register`: register a new identity with a new key; what the sink holds is not read (the new pair is still
 *   saved to it).
 * - `refresh`: refresh with the saved key and certificate, never registering instead (see `loadSavedIdentity`: no
 *   usable pair is `INVALID_CONFIG`, an expired certificate `EXPIRED`, both before ZTS is called); a refusal of that
 *   first refresh (`ZTS_REVOKED`, `ZTS_NOT_FOUND`) is thrown as is.
 *
 * Only the start differs: later refreshes (and `reRegister`) work the same in every mode.
 * @public
 */
export type AthenzStartMode = 'auto' | 'register' | 'refresh';

const START_MODES: readonly AthenzStartMode[] = ['auto', 'register', 'refresh'];

/** The ZTS instance record: how it is started, re-registered and deleted. @public */
export interface AthenzInstanceOptions {
  /** Register or refresh on the first `get()` ({@link AthenzStartMode}). Default `auto`; `refresh` needs a `sink`. */
  start?: AthenzStartMode | undefined;
  /**
   * When a refresh is refused because the certificate was revoked or its record is gone, register anew with a new key.
   * Default true. Never for the first refresh of `start: 'refresh'`.
   */
  reRegister?: boolean | undefined;
  /** Delete the instance record on close(). Default false. */
  deleteOnClose?: boolean | undefined;
}

/**
 * The context (`task`, `credentials`, `env`, `names`, `sts`: see `athenzContext`), what the certificate holds, and
 * core's `refresh` / `retry` (unset fields keep `athenzRefreshDefaults.identity`: refresh 12 to 24 hours after issue,
 * never after half the certificate's life; a failed refresh tried again once within 6 h, 12 h, 24 h..., tighter near
 * expiry; a first fetch retried 3 times within a minute).
 * @public
 */
export interface AthenzIdentityOptions extends AthenzContextOptions, RefreshPolicy {
  /** The ZTS client (`createZtsClient({ url, caBundle })`); its `caBundle` is the identity's `caBundlePem`. */
  zts: ZtsClient;
  /** DNS suffixes for the SAN names (siad `dns_domains`). At least one. */
  dnsSuffixes: string[];
  /** What goes into the certificate request: `wildcard`, `extraDnsNames`, `spiffe`, `subject`, `expiryMinutes`. */
  csr?: AthenzCsrOptions | undefined;
  /** The key: `type`, `rotate`, `crypto`. */
  key?: AthenzKeyOptions | undefined;
  /** Persists each identity before it is handed out, and finds the last one after a restart. */
  sink?: IdentitySink | undefined;
  /** The instance record: `start`, `reRegister`, `deleteOnClose`. */
  instance?: AthenzInstanceOptions | undefined;
  /**
   * The overall bound on one fetch, every attempt and wait included (core's `fetchTimeoutMs`): when it passes, the
   * fetch is aborted and `get()` rejects with a retryable `TIMEOUT`. Default 90 s.
   */
  fetchTimeoutMs?: number | undefined;
  onError?: ((error: unknown) => void) | undefined;
  /** Called with each refresh event (refreshed, refresh-failed, expiring). */
  onEvent?: ((event: RefreshEvent) => void) | undefined;
  /**
   * OpenTelemetry metrics (core's `credentialMetrics`): attempts, failures by code, the certificate's time to expiry,
   * and the duration of each ZTS `register` and `refresh` call.
   */
  metrics?: CredentialMetrics | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
}

/** The identity provider: a core RefreshingProvider of {@link X509Identity}. @public */
export type AthenzIdentityProvider = RefreshingProvider<X509Identity>;

function checkOptions(options: AthenzIdentityOptions): AthenzStartMode {
  if (!options?.zts) throw new AthenzError('INVALID_ARGUMENT', 'athenzIdentityProvider: zts (a ZtsClient) is required');
  if (!Array.isArray(options.dnsSuffixes) || options.dnsSuffixes.length === 0) {
    throw new AthenzError('INVALID_ARGUMENT', 'athenzIdentityProvider: dnsSuffixes must list at least one DNS suffix');
  }
  const start = options.instance?.start ?? 'auto';
  if (!START_MODES.includes(start)) {
    throw new AthenzError(
      'INVALID_ARGUMENT',
      `athenzIdentityProvider: instance.start must be one of ${START_MODES.join(', ')} (got ${JSON.stringify(start)})`,
    );
  }
  if (start === 'refresh' && !options.sink) {
    throw new AthenzError(
      'INVALID_ARGUMENT',
      "athenzIdentityProvider: instance.start 'refresh' needs a sink to read the saved key and certificate from",
    );
  }
  return start;
}

/** What the first fetch works with: the context, the sink, the issuer. */
interface Start {
  sink: IdentitySink | undefined;
  context: AthenzContext;
  /** The context resolved (and remembered by the provider for close()). */
  resolve(signal: AbortSignal): Promise<ResolvedAthenzContext>;
  issuer: IdentityIssuer;
  saved: SavedIdentityOptions;
  logger: Logger;
  clock: Clock;
}

/** What an earlier run saved, read leniently for `auto` (a failed read is only a warning: then it registers). */
async function loadStored(s: Start, domain: string, service: string): Promise<StoredPair | undefined> {
  try {
    return await s.sink?.loadIdentity(domain, service);
  } catch (e) {
    s.logger.warn({ code: (e as IdentityError).code }, 'athenz identity: reading the saved key and certificate failed');
    return undefined;
  }
}

/** `start: 'refresh'`: the saved pair must be there, be ours and be unexpired; nothing else is tried. */
async function refreshSaved(s: Start, signal: AbortSignal): Promise<X509Identity> {
  const sink = s.sink as IdentitySink; // checked when the provider was made
  // With the names known locally, a missing pair fails before any network call.
  const early = s.context.localNames();
  const earlyPair = early ? await loadSavedPair(sink, early.domain, early.service) : undefined;
  const ctx = await s.resolve(signal);
  const pair = earlyPair ?? (await loadSavedPair(sink, ctx.domain, ctx.service));
  // No safety margin here (unlike auto): with registering ruled out, a refresh shortly before expiry is still worth trying.
  const identity = judgeSaved(await readSavedPair(ctx, pair, s.saved), ctx, s.clock.now());
  return s.issuer.refresh(ctx, identity, signal, false);
}

/**
 * `start: 'auto'` (refresh a valid saved pair, else register keeping a saved key that parses) and `'register'` (a new
 * key, the sink not read). When no saved key can exist (or it is not wanted), the new key (the slowest step with RSA)
 * is made while the metadata, credentials and attestation calls run.
 */
async function registerOrRefresh(s: Start, mode: 'auto' | 'register', signal: AbortSignal): Promise<X509Identity> {
  const ctxP = s.resolve(signal);
  const early = s.context.localNames();
  let stored: StoredPair | undefined | 'unknown' = 'unknown';
  if (!s.sink || mode === 'register') stored = undefined;
  else if (early) stored = await loadStored(s, early.domain, early.service);
  const keyP = stored === undefined ? s.issuer.newKeySoon() : undefined;
  keyP?.catch(() => {}); // awaited below, unless the context fails first
  const ctx = await ctxP;
  if (stored === 'unknown') stored = await loadStored(s, ctx.domain, ctx.service);
  const read = stored ? await readSavedPair(ctx, stored, s.saved) : undefined;
  if (stored && !read?.keys) {
    s.logger.warn(
      { domain: ctx.domain, service: ctx.service },
      'athenz identity: the saved key is unusable; a new one is made',
    );
  }
  if (read?.identity && worthRefreshing(read.identity, s.clock.now())) {
    return s.issuer.refresh(ctx, read.identity, signal);
  }
  // siad keeps an existing key file when it registers again; so do we.
  return s.issuer.register(ctx, signal, read?.keys ? knownKey(read.keys, read.keyPem) : keyP);
}

/**
 * Creates the service identity provider.
 * @example
 * ```ts
 * import { createZtsClient } from '@ecs-identity/athenz-zts';
 * import { athenzIdentityProvider, siadFileSink } from '@ecs-identity/athenz-zts/node';
 *
 * // task facts and task-role credentials come from the ECS agent by default
 * await using identity = athenzIdentityProvider({
 *   zts: createZtsClient({ url: 'https://zts.example.com:4443/zts/v1', caBundle }),
 *   dnsSuffixes: ['aws.athenz.example.com'],
 *   sink: siadFileSink(),
 * });
 * const { certificatePem, privateKeyPem } = await identity.get();
 * identity.subscribe((id) => console.log('rotated, now valid until', id.expiresAt));
 * ```
 * @public
 */
export function athenzIdentityProvider(options: AthenzIdentityOptions): AthenzIdentityProvider {
  const mode = checkOptions(options);
  const logger = safeLogger(options.logger);
  const { zts, sink } = options;
  const caBundlePem = Array.isArray(zts.caBundle) ? zts.caBundle.join('\n') : zts.caBundle;
  const key = options.key ?? {};
  const issuer = new IdentityIssuer({
    zts,
    dnsSuffixes: options.dnsSuffixes,
    csr: options.csr ?? {},
    key,
    sink,
    reRegister: options.instance?.reRegister ?? true,
    caBundlePem,
    metrics: options.metrics,
    logger,
  });
  const context = athenzContextWith(preloadSts, options);
  // The context the last fetch resolved (what close() deletes the record of).
  let resolved: ResolvedAthenzContext | undefined;
  const resolve = async (signal: AbortSignal): Promise<ResolvedAthenzContext> => {
    resolved = await context.resolve(signal);
    return resolved;
  };
  const clock = options.clock ?? systemClock;
  const start: Start = { sink, context, resolve, issuer, saved: { crypto: key.crypto, caBundlePem }, logger, clock };

  async function fetch(signal: AbortSignal, previous: X509Identity | undefined): Promise<X509Identity> {
    const base = issuer.unsaved ?? previous;
    if (base) return issuer.refresh(await resolve(signal), base, signal);
    // Loading the AWS SDK is a one-time cost; in a fresh process it overlaps the metadata calls and the key.
    preloadSts().catch(() => {});
    return mode === 'refresh' ? refreshSaved(start, signal) : registerOrRefresh(start, mode, signal);
  }

  // Attempts, failures and the certificate's expiry reach the metrics through the refresh events.
  const metered = meteredRefreshHooks(options.metrics, { onEvent: options.onEvent });
  const provider = refreshingProvider<X509Identity>({
    name: 'athenz identity',
    fetch,
    ...mergeRefreshPolicy(athenzRefreshDefaults.identity, options),
    fetchTimeoutMs: options.fetchTimeoutMs ?? ATHENZ_FETCH_TIMEOUT_MS,
    dispose: async (last) => {
      const ctx = resolved;
      await context.close();
      if (!options.instance?.deleteOnClose || !last || !ctx) return;
      await zts.deleteInstance(instanceRefOf(ctx), clientTlsOf(last));
      logger.info({ domain: ctx.domain, service: ctx.service }, 'athenz instance record deleted');
    },
    onError: options.onError,
    ...metered.options,
    logger,
    clock,
    random: options.random,
  });
  metered.attach(provider);
  return provider;
}
