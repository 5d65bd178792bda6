/**
 * The service identity provider: what `siad -cmd post` and `-cmd rotate` do on Fargate, in-process. The first get()
 * registers or refreshes with the key and certificate an earlier run saved (the `start` option chooses which, or
 * leaves it to what is saved); then it refreshes ahead of expiry with fresh attestation, persisting every new
 * certificate before handing it out.
 * @packageDocumentation
 */
import {
  type Clock,
  type CredentialMetrics,
  type CredentialProvider,
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
import {
  type AwsCredentials,
  containerCredentials,
  getTaskIdentity,
  type TaskIdentity,
} from '@ecs-identity/ecs-metadata';
import { preloadSts, type StsAttestor, type StsEndpoint, stsAttestor } from '../attestation.js';
import { buildX509Identity, isCertificateValidAt, type X509Identity } from '../credentials.js';
import { buildServiceCsr, type CsrSubject, type SpiffeOptions, spiffeNamespace } from '../csr.js';
import type { IdentitySink, StoredPair } from '../identity-sink.js';
import {
  type CryptoOption,
  exportPkcs8,
  generateKeyPair,
  importPrivateKeyPem,
  type KeyType,
  privateKeyPemFormat,
  privateKeyPemFromPkcs8,
  publicKeySpki,
} from '../keys.js';
import { DEFAULT_PROVIDER_PREFIX, providerName, validateProvider } from '../names.js';
import { ATHENZ_FETCH_TIMEOUT_MS, athenzRefreshDefaults } from '../refresh-defaults.js';
import { resolveService } from '../resolve-identity.js';
import type { ClientTls, ZtsClient } from '../zts-client.js';
import type { InstanceRef } from '../zts-types.js';

/** The task facts the identity needs (ecs-metadata's `taskIdentity()` gives them). @public */
export type TaskFacts = Pick<TaskIdentity, 'partition' | 'region' | 'accountId' | 'taskId'>;

/**
 * How the first `get()` obtains the identity (siad's `post` and `rotate`).
 * - `auto`: refresh with the key and certificate the sink holds when they are still valid, else register (keeping
 *   a saved key that still parses).
 * - `register`: register a new identity with a new key; what the sink holds is not read (the new pair is still
 *   saved to it).
 * - `refresh`: refresh with the saved key and certificate, never registering instead. Fails with `INVALID_CONFIG`
 *   when the sink holds no usable pair for the service and with `EXPIRED` when the saved certificate has expired,
 *   both before ZTS is called (a failed read of the sink: its IdentityError, else `FILE_IO`); a refusal of that first
 *   refresh (`ZTS_REVOKED`, `ZTS_NOT_FOUND`) is thrown as is.
 *
 * Only the start differs: later refreshes (and `reRegister`) work the same in every mode.
 * @public
 */
export type AthenzStartMode = 'auto' | 'register' | 'refresh';

const START_MODES: readonly AthenzStartMode[] = ['auto', 'register', 'refresh'];

/**
 * `refresh` / `retry` are core's refresh and retry options; unset fields keep `athenzRefreshDefaults.identity`
 * (refresh 12 to 24 hours after issue, never after half the certificate's life; a failed refresh tried again once
 * within 6 h, 12 h, 24 h..., tighter near expiry; a first fetch retried 3 times within a minute).
 * @public
 */
export interface AthenzIdentityOptions extends CryptoOption, RefreshPolicy {
  /** The ZTS client (Node: `createZtsClient({ url, transport: ztsTransport({ caBundle }) })`). */
  zts: ZtsClient;
  /** Region, account, partition and task id, or a function that finds them (called once). Default: the ECS task metadata endpoint. */
  task?: (TaskFacts | ((signal: AbortSignal) => Promise<TaskFacts>)) | undefined;
  /** The task-role credentials: attestation source, and the task role ARN. Default: ecs-metadata's `containerCredentials()` (closed with this provider). */
  credentials?: CredentialProvider<AwsCredentials> | undefined;
  /** Athenz domain and service; else `iamRoleArn`, else the task role `<domain>.<service>-service`. */
  domain?: string | undefined;
  service?: string | undefined;
  /** Default: `env.ATHENZ_SIA_IAM_ROLE_ARN`. */
  iamRoleArn?: string | undefined;
  /**
   * IAM path of the attestation role (siad's `role_path`): `ecs`, `/ecs` and `/ecs/` all mean `/ecs/`; what cannot be
   * an IAM path is refused (`INVALID_CONFIG`). Default: `env.ATHENZ_SIA_ROLE_PATH`, else `/` (the task role's own path
   * when the names come from it; an `iamRoleArn` carries its own path). See {@link resolveService}.
   */
  rolePath?: string | undefined;
  /**
   * siad's `omit_domain`: assume the IAM role named `<service>` (not `<domain>.<service>`), and attest `role` and the
   * STS session name `<service>`. Default: `env.ATHENZ_SIA_OMIT_DOMAIN` is `true` or `1` (siad's rule), else false.
   */
  omitDomain?: boolean | undefined;
  /** Environment for `ATHENZ_SIA_IAM_ROLE_ARN`, `ATHENZ_SIA_ROLE_PATH`, `ATHENZ_SIA_OMIT_DOMAIN` and the default task metadata / credentials lookups. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The provider name. Default `<providerPrefix>.<region>`. */
  provider?: string | undefined;
  /** Default `athenz.aws-ecs`. */
  providerPrefix?: string | undefined;
  /** DNS suffixes for the SAN names (siad `dns_domains`). At least one. */
  dnsSuffixes: string[];
  wildcard?: boolean | undefined;
  extraDnsNames?: string[] | undefined;
  /**
   * The SPIFFE URI form (see `buildServiceCsr`). With a trust domain the URI is `spiffe://<td>/ns/<namespace>/sa/...`
   * and register and refresh send `namespace` (default `default`), as siad does: ZTS checks the URI against it.
   */
  spiffe?: SpiffeOptions | false | undefined;
  subject?: CsrSubject | undefined;
  /** Key type for new keys. Default `rsa` (RSA 2048). */
  keyType?: KeyType | undefined;
  /** A new key on every refresh (default false: the key is reused, like siad). */
  rotateKey?: boolean | undefined;
  /** Requested certificate lifetime in minutes (the server may lower it). Default: the server's (7 days on ECS). */
  expiryMinutes?: number | undefined;
  /** STS endpoint for attestation. Default `regional`. */
  stsEndpoint?: StsEndpoint | undefined;
  /** STS session name. Default `<domain>.<service>` (`<service>` with `omitDomain`). */
  sessionName?: string | undefined;
  /** Per-request timeout of the STS AssumeRole call. Default 5000 ms. */
  stsTimeoutMs?: number | undefined;
  /**
   * The overall bound on one fetch, every attempt and wait included (core's `fetchTimeoutMs`): when it passes, the
   * fetch is aborted and `get()` rejects with a retryable `TIMEOUT`. Default 90 s.
   */
  fetchTimeoutMs?: number | undefined;
  /** Persists each identity before it is handed out, and finds the last one after a restart. */
  sink?: IdentitySink | undefined;
  /**
   * Register or refresh on the first `get()` ({@link AthenzStartMode}). Default `auto`. `refresh` (rotate what an
   * earlier run registered, failing rather than registering anew) needs a `sink`.
   */
  start?: AthenzStartMode | undefined;
  /** The CA bundle (PEM) to expose on the identity (`caBundlePem`). */
  caBundlePem?: string | undefined;
  /** Delete the instance record on close(). Default false. */
  deleteOnClose?: boolean | undefined;
  /**
   * When a refresh is refused because the certificate was revoked or its record is gone, register anew with a new key.
   * Default true. Never for the first refresh of `start: 'refresh'`.
   */
  reRegister?: boolean | undefined;
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

interface Context {
  domain: string;
  service: string;
  provider: string;
  task: TaskFacts;
  attestationRoleArn: string;
  /** The attestation's `role`: `<domain>.<service>`, or `<service>` with omitDomain. */
  attestationRole: string;
  /** One STS client for every attestation of this provider; each attestation is still a new AssumeRole. */
  attestor: StsAttestor;
}

// A stored certificate this close to expiry is not worth refreshing with: the refresh could land after it lapsed.
const STORED_CERT_MARGIN_MS = 60_000;

function processEnv(): Record<string, string | undefined> {
  const p = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return p?.env ?? {};
}

/**
 * Creates the service identity provider.
 * @example
 * ```ts
 * import { athenzIdentityProvider, createZtsClient, siadFileSink, ztsTransport } from '@ecs-identity/athenz-zts/node';
 *
 * // task facts and task-role credentials come from the ECS agent by default
 * const identity = athenzIdentityProvider({
 *   zts: createZtsClient({ url: 'https://zts.example.com:4443/zts/v1', transport: ztsTransport({ caBundle }) }),
 *   dnsSuffixes: ['aws.athenz.example.com'],
 *   sink: siadFileSink(),
 * });
 * const { certificatePem, privateKeyPem } = await identity.get();
 * identity.subscribe((id) => console.log('rotated, now valid until', id.expiresAt));
 * ```
 * @public
 */
export function athenzIdentityProvider(options: AthenzIdentityOptions): AthenzIdentityProvider {
  if (!options?.zts)
    throw new IdentityError('INVALID_ARGUMENT', 'athenzIdentityProvider: zts (a ZtsClient) is required');
  if (!Array.isArray(options.dnsSuffixes) || options.dnsSuffixes.length === 0) {
    throw new IdentityError(
      'INVALID_ARGUMENT',
      'athenzIdentityProvider: dnsSuffixes must list at least one DNS suffix',
    );
  }
  const start = options.start ?? 'auto';
  if (!START_MODES.includes(start)) {
    throw new IdentityError(
      'INVALID_ARGUMENT',
      `athenzIdentityProvider: start must be one of ${START_MODES.join(', ')} (got ${JSON.stringify(start)})`,
    );
  }
  if (start === 'refresh' && !options.sink) {
    throw new IdentityError(
      'INVALID_ARGUMENT',
      "athenzIdentityProvider: start 'refresh' needs a sink to read the saved key and certificate from",
    );
  }
  const clock = options.clock ?? systemClock;
  const logger = safeLogger(options.logger);
  const zts = options.zts;
  const reRegister = options.reRegister ?? true;
  const env = options.env ?? processEnv();
  const ownCredentials = options.credentials ? undefined : containerCredentials({ env });
  const credentials = (options.credentials ?? ownCredentials) as CredentialProvider<AwsCredentials>;
  const taskSource = options.task ?? ((signal: AbortSignal) => getTaskIdentity({ signal, env }));
  const iamRoleArn = options.iamRoleArn ?? (env.ATHENZ_SIA_IAM_ROLE_ARN || undefined);
  const rolePath = options.rolePath ?? (env.ATHENZ_SIA_ROLE_PATH || undefined);
  const omitDomain =
    options.omitDomain ?? (env.ATHENZ_SIA_OMIT_DOMAIN === 'true' || env.ATHENZ_SIA_OMIT_DOMAIN === '1');
  // The CSR's SPIFFE URI names a namespace only in the trust-domain form; ZTS then checks it against `namespace`.
  const namespace = spiffeNamespace(options.spiffe);

  /** The names and the attestation role, the same way wherever they are needed (resolveService). */
  const resolveNames = (account: { partition: string; accountId: string }, taskRoleArn?: string) =>
    resolveService({
      ...(options.domain === undefined ? {} : { domain: options.domain }),
      ...(options.service === undefined ? {} : { service: options.service }),
      ...(iamRoleArn === undefined ? {} : { iamRoleArn }),
      ...(taskRoleArn === undefined ? {} : { taskRoleArn }),
      ...(rolePath === undefined ? {} : { rolePath }),
      ...(omitDomain ? { omitDomain } : {}),
      ...account,
    });

  let context: Promise<Context> | undefined;
  // The newest identity ZTS issued whose save failed: the next refresh must use it, not the one before
  // (refreshing with a certificate two generations old revokes the record).
  let unsaved: X509Identity | undefined;

  async function resolveContext(signal: AbortSignal): Promise<Context> {
    // The task-role credentials are needed for the attestation anyway (and maybe for the names): fetch them alongside
    // the task metadata rather than after it.
    const credsP = credentials.get({ signal });
    credsP.catch(() => {}); // awaited below when needed; attestation asks again and sees the error then
    const task = typeof taskSource === 'function' ? await taskSource(signal) : taskSource;
    if (!task?.region || !task.accountId || !task.taskId || !task.partition) {
      throw new IdentityError('INVALID_CONFIG', 'the task facts need partition, region, accountId and taskId');
    }
    let taskRoleArn: string | undefined;
    if (options.domain === undefined && iamRoleArn === undefined) {
      taskRoleArn = (await credsP).roleArn;
    }
    const resolved = resolveNames({ partition: task.partition, accountId: task.accountId }, taskRoleArn);
    const provider = options.provider
      ? validateProvider(options.provider)
      : providerName(task.region, options.providerPrefix ?? DEFAULT_PROVIDER_PREFIX);
    return {
      domain: resolved.domain,
      service: resolved.service,
      provider,
      task,
      attestationRoleArn: resolved.attestationRoleArn,
      attestationRole: resolved.attestationRole,
      attestor: stsAttestor({
        region: task.region,
        credentials,
        ...(options.stsEndpoint ? { stsEndpoint: options.stsEndpoint } : {}),
        ...(options.stsTimeoutMs === undefined ? {} : { timeoutMs: options.stsTimeoutMs }),
      }),
    };
  }

  function ctxOf(signal: AbortSignal): Promise<Context> {
    if (!context) {
      context = resolveContext(signal);
      // A failed resolution (metadata not up yet) is tried again on the next fetch.
      context.catch(() => {
        context = undefined;
      });
    }
    return context;
  }

  const refOf = (ctx: Context): InstanceRef => ({
    provider: ctx.provider,
    domain: ctx.domain,
    service: ctx.service,
    instanceId: ctx.task.taskId,
  });
  const tlsOf = (id: X509Identity): ClientTls => ({ keyPem: id.privateKeyPem, certPem: id.certificatePem });

  // The attestation (network) runs while the key (CPU; slow for RSA) may still be in the making.
  async function csrAndAttestation(ctx: Context, key: Key | Promise<Key>, signal: AbortSignal) {
    const [csr, attestationData] = await Promise.all([
      Promise.resolve(key).then(({ keys }) =>
        buildServiceCsr({
          keys,
          domain: ctx.domain,
          service: ctx.service,
          provider: ctx.provider,
          instanceId: ctx.task.taskId,
          dnsSuffixes: options.dnsSuffixes,
          ...(options.wildcard === undefined ? {} : { wildcard: options.wildcard }),
          ...(options.extraDnsNames ? { extraDnsNames: options.extraDnsNames } : {}),
          ...(options.spiffe === undefined ? {} : { spiffe: options.spiffe }),
          ...(options.subject ? { subject: options.subject } : {}),
          ...(options.crypto ? { crypto: options.crypto } : {}),
        }),
      ),
      ctx.attestor.attest({
        domain: ctx.domain,
        service: ctx.service,
        taskId: ctx.task.taskId,
        roleArn: ctx.attestationRoleArn,
        ...(omitDomain ? { omitDomain } : {}),
        signal,
        ...(options.sessionName ? { sessionName: options.sessionName } : {}),
      }),
    ]);
    return { csr: csr.pem, attestationData };
  }

  /** The identity for a certificate of ours: checked against the names and the key (buildX509Identity). */
  function identityOf(
    ctx: Context,
    keys: CryptoKeyPair,
    keyPem: string,
    certPem: string,
    chainPem?: string | null,
  ): Promise<X509Identity> {
    return buildX509Identity({
      domain: ctx.domain,
      service: ctx.service,
      provider: ctx.provider,
      instanceId: ctx.task.taskId,
      keys,
      privateKeyPem: keyPem,
      certificatePem: certPem,
      ...(chainPem ? { chainPem } : {}),
      ...(options.caBundlePem ? { caBundlePem: options.caBundlePem } : {}),
      ...(options.crypto ? { crypto: options.crypto } : {}),
    });
  }

  async function finish(
    ctx: Context,
    key: Key,
    certPem: string,
    chainPem: string | null | undefined,
    how: string,
  ): Promise<X509Identity> {
    const keys = key.keys;
    const keyPem = await pemOf(key);
    const identity = await identityOf(ctx, keys, keyPem, certPem, chainPem);
    if (options.sink) {
      try {
        await options.sink.saveIdentity(ctx.domain, ctx.service, { keyPem, certPem }, chainPem ?? undefined);
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
    const keys = await generateKeyPair({
      ...(options.keyType ? { type: options.keyType } : {}),
      ...(options.crypto ? { crypto: options.crypto } : {}),
    });
    const format = privateKeyPemFormat(keys.privateKey);
    const pkcs8 = exportPkcs8(keys.privateKey, options);
    pkcs8.catch(() => {}); // awaited before the register, unless the context or attestation fails first
    // Exported now, while the network calls run, for the key check once the certificate is back.
    publicKeySpki(keys.publicKey, options).catch(() => {});
    let pem: Promise<string> | undefined;
    const keyPem = () => {
      pem ??= pkcs8.then((der) => privateKeyPemFromPkcs8(der, keys.privateKey, format));
      return pem;
    };
    return { keys, keyPem, exportable: pkcs8 };
  }

  async function register(ctx: Context, signal: AbortSignal, existing?: Key | Promise<Key>) {
    const keyP = existing ?? newKeys();
    const { csr, attestationData } = await csrAndAttestation(ctx, keyP, signal);
    const key = await keyP;
    // Exported while the metadata and STS calls ran; a key that cannot be written out fails here, before ZTS is asked.
    await key.exportable;
    const id = await sendThenPem(key, () =>
      measured(options.metrics, 'register', () =>
        zts.register(
          {
            provider: ctx.provider,
            domain: ctx.domain,
            service: ctx.service,
            attestationData,
            csr,
            ...(options.expiryMinutes ? { expiryTime: options.expiryMinutes } : {}),
            ...(namespace ? { namespace } : {}),
          },
          { signal },
        ),
      ),
    );
    return finish(ctx, key, id.x509Certificate as string, id.x509CertificateSigner, 'registered');
  }

  async function refresh(
    ctx: Context,
    current: X509Identity,
    signal: AbortSignal,
    mayReRegister = reRegister,
  ): Promise<X509Identity> {
    const key = options.rotateKey
      ? await newKeys()
      : knownKey({ privateKey: current.privateKey, publicKey: current.publicKey }, current.privateKeyPem);
    const { csr, attestationData } = await csrAndAttestation(ctx, key, signal);
    await key.exportable; // as in register(): a rotated key that cannot be written out fails before ZTS is asked
    try {
      const id = await sendThenPem(key, () =>
        measured(options.metrics, 'refresh', () =>
          zts.refresh(
            refOf(ctx),
            {
              csr,
              attestationData,
              ...(options.expiryMinutes ? { expiryTime: options.expiryMinutes } : {}),
              ...(namespace ? { namespace } : {}),
            },
            tlsOf(current),
            { signal },
          ),
        ),
      );
      return await finish(ctx, key, id.x509Certificate as string, id.x509CertificateSigner, 'refreshed');
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

  async function loadStored(domain: string, service: string): Promise<StoredPair | undefined> {
    try {
      return await options.sink?.loadIdentity(domain, service);
    } catch (e) {
      logger.warn({ code: (e as IdentityError).code }, 'athenz identity: reading the saved key and certificate failed');
      return undefined;
    }
  }

  /**
   * The saved pair read back: its key if it parses, and its identity if the certificate is ours and fits the key;
   * `problem` says why not. Whether the certificate is still valid is the caller's question.
   */
  async function readStored(
    ctx: Context,
    stored: StoredPair,
  ): Promise<{ key?: Key; identity?: X509Identity; problem?: IdentityError }> {
    const who = `${ctx.domain}.${ctx.service}`;
    let keys: CryptoKeyPair;
    try {
      keys = await importPrivateKeyPem(stored.keyPem, options);
    } catch (cause) {
      // the import error is not quoted: it is about the saved private key
      return { problem: new IdentityError('INVALID_CONFIG', `the saved private key of ${who} is unusable`, { cause }) };
    }
    const key = knownKey(keys, stored.keyPem);
    try {
      return { key, identity: await identityOf(ctx, keys, stored.keyPem, stored.certPem) };
    } catch (cause) {
      const why = cause instanceof Error ? `: ${cause.message}` : '';
      return {
        key,
        problem: new IdentityError('INVALID_CONFIG', `the saved certificate of ${who} is not usable${why}`, { cause }),
      };
    }
  }

  /** Domain and service when they are known without any network call (options or ATHENZ_SIA_IAM_ROLE_ARN). */
  function localNames(): { domain: string; service: string } | undefined {
    if (options.domain === undefined && !iamRoleArn) return undefined;
    try {
      // only the names are wanted here; the role ARN is resolved for real with the task facts
      return resolveNames({ partition: 'aws', accountId: '000000000000' });
    } catch {
      return undefined;
    }
  }

  /** Whether a saved certificate is worth refreshing with when registering is the alternative. */
  function worthRefreshing(identity: X509Identity): boolean {
    const now = clock.now();
    return (
      isCertificateValidAt(identity.certificate, now) && identity.expiresAt.getTime() - now >= STORED_CERT_MARGIN_MS
    );
  }

  /** `start: 'refresh'`: the saved pair must be there, be ours and be unexpired; nothing else is tried. */
  async function savedForRefresh(signal: AbortSignal): Promise<{ ctx: Context; identity: X509Identity }> {
    const sink = options.sink as IdentitySink; // checked when the provider was made
    const load = async (domain: string, service: string): Promise<StoredPair> => {
      let pair: StoredPair | undefined;
      try {
        pair = await sink.loadIdentity(domain, service);
      } catch (e) {
        if (IdentityError.is(e)) throw e;
        throw new IdentityError('FILE_IO', `reading the saved key and certificate of ${domain}.${service} failed`, {
          cause: e,
        });
      }
      if (!pair) {
        throw new IdentityError(
          'INVALID_CONFIG',
          `no saved key and certificate for ${domain}.${service} to refresh with (start 'refresh' does not register): register first`,
        );
      }
      return pair;
    };
    // With the names known locally, a missing pair fails before any network call.
    const early = localNames();
    const earlyPair = early ? await load(early.domain, early.service) : undefined;
    const ctx = await ctxOf(signal);
    const saved = await readStored(ctx, earlyPair ?? (await load(ctx.domain, ctx.service)));
    if (!saved.identity) throw saved.problem as IdentityError;
    // No safety margin here (unlike auto): with registering ruled out, a refresh shortly before expiry is still worth trying.
    const expiresAt = saved.identity.expiresAt;
    if (expiresAt.getTime() <= clock.now()) {
      throw new IdentityError(
        'EXPIRED',
        `the saved certificate of ${ctx.domain}.${ctx.service} expired at ${expiresAt.toISOString()}; an expired certificate cannot be refreshed: register anew`,
      );
    }
    return { ctx, identity: saved.identity };
  }

  async function fetch(signal: AbortSignal, previous: X509Identity | undefined): Promise<X509Identity> {
    const base = unsaved ?? previous;
    if (base) return refresh(await ctxOf(signal), base, signal);
    // Loading the AWS SDK is a one-time cost; in a fresh process it overlaps the metadata calls and the key.
    preloadSts().catch(() => {});
    if (start === 'refresh') {
      const { ctx, identity } = await savedForRefresh(signal);
      return refresh(ctx, identity, signal, false);
    }
    const ctxP = ctxOf(signal);
    // Cold start. When no saved key can exist (or it is not wanted), the new key (the slowest step with RSA) is made
    // while the metadata, credentials and attestation calls run.
    const early = localNames();
    let stored: StoredPair | undefined | 'unknown' = 'unknown';
    if (!options.sink || start === 'register') stored = undefined;
    else if (early) stored = await loadStored(early.domain, early.service);
    const keyP = stored === undefined ? newKeys() : undefined;
    keyP?.catch(() => {}); // awaited below, unless the context fails first
    const ctx = await ctxP;
    if (stored === 'unknown') stored = await loadStored(ctx.domain, ctx.service);
    const saved = stored ? await readStored(ctx, stored) : {};
    if (stored && !saved.key) {
      logger.warn(
        { domain: ctx.domain, service: ctx.service },
        'athenz identity: the saved key is unusable; a new one is made',
      );
    }
    if (saved.identity && worthRefreshing(saved.identity)) return refresh(ctx, saved.identity, signal);
    // siad keeps an existing key file when it registers again; so do we.
    return register(ctx, signal, saved.key ?? keyP);
  }

  // Attempts, failures and the certificate's expiry reach the metrics through the refresh events.
  const metered = meteredRefreshHooks(options.metrics, { onEvent: options.onEvent });
  const provider = refreshingProvider<X509Identity>({
    name: 'athenz identity',
    fetch,
    ...mergeRefreshPolicy(athenzRefreshDefaults.identity, options),
    fetchTimeoutMs: options.fetchTimeoutMs ?? ATHENZ_FETCH_TIMEOUT_MS,
    dispose: async (last) => {
      const ctx = await context?.catch(() => undefined);
      ctx?.attestor.close();
      await ownCredentials?.close();
      if (!options.deleteOnClose || !last || !ctx) return;
      await zts.deleteInstance(refOf(ctx), tlsOf(last));
      logger.info({ domain: ctx.domain, service: ctx.service }, 'athenz instance record deleted');
    },
    ...(options.onError ? { onError: options.onError } : {}),
    ...metered.options,
    logger,
    clock,
    ...(options.random ? { random: options.random } : {}),
  });
  metered.attach(provider);
  return provider;
}
