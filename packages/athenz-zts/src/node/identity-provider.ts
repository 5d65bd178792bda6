/**
 * The service identity provider: what `siad -cmd post` and `-cmd rotate` do on Fargate, in-process. It composes the
 * context (task facts, names, provider, attestation: `athenzContext`), the saved identity (read, judged, and the start
 * it decides: `loadSavedIdentity`), and a core refreshing provider: the first get() registers or refreshes with what an
 * earlier run saved; then it refreshes ahead of expiry with fresh attestation, persisting every new certificate before
 * handing it out.
 * @packageDocumentation
 */
import {
  type Clock,
  type CredentialMetrics,
  IdentityError,
  type Logger,
  type RefreshEvent,
  type RefreshingProvider,
  type RefreshPolicy,
  refreshingProvider,
  safeLogger,
  systemClock,
} from '@ecs-identity/core';
import { measured, mergeRefreshPolicy, meteredRefreshHooks } from '@ecs-identity/core/internal';
import { preloadSts } from '../attestation.js';
import { type AthenzContextOptions, athenzContext, type ResolvedAthenzContext } from '../context.js';
import type { X509Identity } from '../credentials.js';
import { buildServiceCsr, type CsrSubject, type SpiffeOptions, spiffeNamespace } from '../csr.js';
import { AthenzError } from '../errors.js';
import type { IdentitySink, StoredPair } from '../identity-sink.js';
import {
  exportPkcs8,
  generateKeyPair,
  type KeyType,
  privateKeyPemFormat,
  privateKeyPemFromPkcs8,
  publicKeySpki,
} from '../keys.js';
import { ATHENZ_FETCH_TIMEOUT_MS, athenzRefreshDefaults } from '../refresh-defaults.js';
import { identityOf, judgeSaved, loadSavedPair, readSavedPair, worthRefreshing } from '../saved-identity.js';
import type { ClientTls, ZtsClient } from '../zts-client.js';
import type { InstanceRef } from '../zts-types.js';

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

/** What goes into the certificate request. @public */
export interface AthenzCsrOptions {
  /** Also a `*.<service>.<dashed-domain>.<suffix>` name per suffix. Default false. */
  wildcard?: boolean | undefined;
  /** More DNS names (each must end with one of `dnsSuffixes`). */
  extraDnsNames?: string[] | undefined;
  /**
   * The SPIFFE URI form (see `buildServiceCsr`). With a trust domain the URI is `spiffe://<td>/ns/<namespace>/sa/...`
   * and register and refresh send `namespace` (default `default`), as siad does: ZTS checks the URI against it.
   */
  spiffe?: SpiffeOptions | false | undefined;
  subject?: CsrSubject | undefined;
  /** Requested certificate lifetime in minutes (the server may lower it). Default: the server's (7 days on ECS). */
  expiryMinutes?: number | undefined;
}

/** The identity's key. @public */
export interface AthenzKeyOptions {
  /** Key type for new keys. Default `rsa` (RSA 2048). */
  type?: KeyType | undefined;
  /** A new key on every refresh. Default false: the key is reused, like siad. */
  rotate?: boolean | undefined;
  /** A Web Crypto implementation (default `globalThis.crypto`). */
  crypto?: Crypto | undefined;
}

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

interface Key {
  keys: CryptoKeyPair;
  /**
   * The key's PEM. A new key's PKCS#8 export (the step that can fail) runs with the network calls; turning it into
   * PEM (CPU only) waits until ZTS has the request, since the PEM is needed only once the certificate is back.
   */
  keyPem: string | (() => Promise<string>);
  /** Settles once the key is known to be exportable: a key that cannot be written out fails before ZTS is asked. */
  exportable: Promise<unknown>;
}

/** A key whose PEM is known (saved, or the current identity's). */
const knownKey = (keys: CryptoKeyPair, keyPem: string): Key => ({ keys, keyPem, exportable: Promise.resolve() });

/** The PEM of a key, made now if it is not yet. */
const pemOf = (key: Key): Promise<string> =>
  typeof key.keyPem === 'string' ? Promise.resolve(key.keyPem) : key.keyPem();

/**
 * Sends a ZTS request, then makes the key's PEM while the answer is awaited (the CPU work overlaps the round trip).
 */
async function sendThenPem<T>(key: Key, send: () => Promise<T>): Promise<T> {
  const answer = send();
  if (typeof key.keyPem !== 'string') {
    const make = key.keyPem;
    // After the request has been handed to the socket, not before it.
    setImmediate(() => make().catch(() => {}));
  }
  return answer;
}

const refOf = (ctx: ResolvedAthenzContext): InstanceRef => ({
  provider: ctx.provider,
  domain: ctx.domain,
  service: ctx.service,
  instanceId: ctx.task.taskId,
});
const tlsOf = (id: X509Identity): ClientTls => ({ keyPem: id.privateKeyPem, certPem: id.certificatePem });

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
  const start = checkOptions(options);
  const clock = options.clock ?? systemClock;
  const logger = safeLogger(options.logger);
  const { zts, sink } = options;
  const csr = options.csr ?? {};
  const key = options.key ?? {};
  const crypto = { crypto: key.crypto };
  const reRegister = options.instance?.reRegister ?? true;
  const caBundle = zts.caBundle;
  const caBundlePem = Array.isArray(caBundle) ? caBundle.join('\n') : caBundle;
  const saved = { ...crypto, caBundlePem };
  const context = athenzContext(options);
  // The context the last fetch resolved (what close() deletes the record of).
  let resolved: ResolvedAthenzContext | undefined;
  const resolve = async (signal: AbortSignal): Promise<ResolvedAthenzContext> => {
    resolved = await context.resolve(signal);
    return resolved;
  };
  // The CSR's SPIFFE URI names a namespace only in the trust-domain form; ZTS then checks it against `namespace`.
  const namespace = spiffeNamespace(csr.spiffe);
  // The newest identity ZTS issued whose save failed: the next refresh must use it, not the one before
  // (refreshing with a certificate two generations old revokes the record).
  let unsaved: X509Identity | undefined;

  // The attestation (network) runs while the key (CPU; slow for RSA) may still be in the making.
  async function csrAndAttestation(ctx: ResolvedAthenzContext, k: Key | Promise<Key>, signal: AbortSignal) {
    const [built, attestationData] = await Promise.all([
      Promise.resolve(k).then(({ keys }) =>
        buildServiceCsr({
          keys,
          domain: ctx.domain,
          service: ctx.service,
          provider: ctx.provider,
          instanceId: ctx.task.taskId,
          dnsSuffixes: options.dnsSuffixes,
          wildcard: csr.wildcard,
          extraDnsNames: csr.extraDnsNames,
          spiffe: csr.spiffe,
          subject: csr.subject,
          ...crypto,
        }),
      ),
      ctx.attest(signal),
    ]);
    return { csr: built.pem, attestationData };
  }

  async function finish(
    ctx: ResolvedAthenzContext,
    k: Key,
    certPem: string,
    chainPem: string | null | undefined,
    how: string,
  ): Promise<X509Identity> {
    const keyPem = await pemOf(k);
    const identity = await identityOf(ctx, k.keys, keyPem, certPem, { ...saved, chainPem });
    if (sink) {
      try {
        await sink.saveIdentity(ctx.domain, ctx.service, { keyPem, certPem }, chainPem ?? undefined);
      } catch (e) {
        unsaved = identity;
        throw e;
      }
    }
    unsaved = undefined;
    logger.info(
      {
        domain: ctx.domain,
        service: ctx.service,
        serial: identity.serialNumber,
        expiresAt: identity.expiresAt.toISOString(),
      },
      `athenz identity ${how}`,
    );
    return identity;
  }

  async function newKeys(): Promise<Key> {
    const keys = await generateKeyPair({ type: key.type, ...crypto });
    const format = privateKeyPemFormat(keys.privateKey);
    const pkcs8 = exportPkcs8(keys.privateKey, crypto);
    pkcs8.catch(() => {}); // awaited before the register, unless the context or attestation fails first
    // Exported now, while the network calls run, for the key check once the certificate is back.
    publicKeySpki(keys.publicKey, crypto).catch(() => {});
    let pem: Promise<string> | undefined;
    const keyPem = () => {
      pem ??= pkcs8.then((der) => privateKeyPemFromPkcs8(der, keys.privateKey, format));
      return pem;
    };
    return { keys, keyPem, exportable: pkcs8 };
  }

  // What register and refresh ask for besides the CSR: the lifetime, and the namespace the SPIFFE URI names.
  const request: { expiryTime?: number; namespace?: string } = {};
  if (csr.expiryMinutes) request.expiryTime = csr.expiryMinutes;
  if (namespace) request.namespace = namespace;

  async function register(ctx: ResolvedAthenzContext, signal: AbortSignal, existing?: Key | Promise<Key>) {
    const keyP = existing ?? newKeys();
    const { csr: pem, attestationData } = await csrAndAttestation(ctx, keyP, signal);
    const k = await keyP;
    // Exported while the metadata and STS calls ran; a key that cannot be written out fails here, before ZTS is asked.
    await k.exportable;
    const id = await sendThenPem(k, () =>
      measured(options.metrics, 'register', () =>
        zts.register(
          {
            provider: ctx.provider,
            domain: ctx.domain,
            service: ctx.service,
            attestationData,
            csr: pem,
            ...request,
          },
          { signal },
        ),
      ),
    );
    return finish(ctx, k, id.x509Certificate as string, id.x509CertificateSigner, 'registered');
  }

  async function refresh(
    ctx: ResolvedAthenzContext,
    current: X509Identity,
    signal: AbortSignal,
    mayReRegister = reRegister,
  ): Promise<X509Identity> {
    const k = key.rotate
      ? await newKeys()
      : knownKey({ privateKey: current.privateKey, publicKey: current.publicKey }, current.privateKeyPem);
    const { csr: pem, attestationData } = await csrAndAttestation(ctx, k, signal);
    await k.exportable; // as in register(): a rotated key that cannot be written out fails before ZTS is asked
    try {
      const id = await sendThenPem(k, () =>
        measured(options.metrics, 'refresh', () =>
          zts.refresh(refOf(ctx), { csr: pem, attestationData, ...request }, tlsOf(current), { signal }),
        ),
      );
      return await finish(ctx, k, id.x509Certificate as string, id.x509CertificateSigner, 'refreshed');
    } catch (e) {
      if (mayReRegister && IdentityError.is(e, 'ZTS_REVOKED', 'ZTS_NOT_FOUND')) {
        logger.warn(
          { code: e.code, domain: ctx.domain, service: ctx.service },
          'athenz refresh refused; registering anew with a new key',
        );
        return register(ctx, signal);
      }
      throw e;
    }
  }

  /** What an earlier run saved, read leniently for `auto` (a failed read is only a warning: then it registers). */
  async function loadStored(domain: string, service: string): Promise<StoredPair | undefined> {
    try {
      return await sink?.loadIdentity(domain, service);
    } catch (e) {
      logger.warn({ code: (e as IdentityError).code }, 'athenz identity: reading the saved key and certificate failed');
      return undefined;
    }
  }

  /** `start: 'refresh'`: the saved pair must be there, be ours and be unexpired; nothing else is tried. */
  async function refreshSaved(signal: AbortSignal): Promise<X509Identity> {
    const store = sink as IdentitySink; // checked when the provider was made
    // With the names known locally, a missing pair fails before any network call.
    const early = context.localNames();
    const earlyPair = early ? await loadSavedPair(store, early.domain, early.service) : undefined;
    const ctx = await resolve(signal);
    const pair = earlyPair ?? (await loadSavedPair(store, ctx.domain, ctx.service));
    // No safety margin here (unlike auto): with registering ruled out, a refresh shortly before expiry is still worth trying.
    const identity = judgeSaved(await readSavedPair(ctx, pair, saved), ctx, clock.now());
    return refresh(ctx, identity, signal, false);
  }

  async function fetch(signal: AbortSignal, previous: X509Identity | undefined): Promise<X509Identity> {
    const base = unsaved ?? previous;
    if (base) return refresh(await resolve(signal), base, signal);
    // Loading the AWS SDK is a one-time cost; in a fresh process it overlaps the metadata calls and the key.
    preloadSts().catch(() => {});
    if (start === 'refresh') return refreshSaved(signal);
    const ctxP = resolve(signal);
    // Cold start. When no saved key can exist (or it is not wanted), the new key (the slowest step with RSA) is made
    // while the metadata, credentials and attestation calls run.
    const early = context.localNames();
    let stored: StoredPair | undefined | 'unknown' = 'unknown';
    if (!sink || start === 'register') stored = undefined;
    else if (early) stored = await loadStored(early.domain, early.service);
    const keyP = stored === undefined ? newKeys() : undefined;
    keyP?.catch(() => {}); // awaited below, unless the context fails first
    const ctx = await ctxP;
    if (stored === 'unknown') stored = await loadStored(ctx.domain, ctx.service);
    const read = stored ? await readSavedPair(ctx, stored, saved) : undefined;
    if (stored && !read?.keys) {
      logger.warn(
        { domain: ctx.domain, service: ctx.service },
        'athenz identity: the saved key is unusable; a new one is made',
      );
    }
    if (read?.identity && worthRefreshing(read.identity, clock.now())) return refresh(ctx, read.identity, signal);
    // siad keeps an existing key file when it registers again; so do we.
    return register(ctx, signal, read?.keys ? knownKey(read.keys, read.keyPem) : keyP);
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
      await zts.deleteInstance(refOf(ctx), tlsOf(last));
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
