/**
 * The agent's credentials, built from the configuration with the SDK's public providers: one Consul token provider
 * per login, the Athenz identity provider (siad's layout as its store), one role-certificate provider per role and
 * one access-token provider per token. Each becomes an entry with a key (`consul.client`, `athenz.identity`, ...),
 * what templates see of it, what may be printed of it, and the files it is written to.
 * @packageDocumentation
 */

import {
  type AccessToken,
  accessTokenProvider,
  createZtsClient,
  type RoleCertificateSet,
  roleCertificateProvider,
  type SpiffeOptions,
  type X509Identity,
  type ZtsClient,
} from '@ecs-identity/athenz-zts';
import { athenzIdentityProvider, type SiadFileSink, siadFileSink } from '@ecs-identity/athenz-zts/node';
import {
  type ConsulToken,
  consulAclClient,
  consulTokenProvider,
  type TokenLogoutEvent,
} from '@ecs-identity/consul-login';
import {
  type Credential,
  type CredentialMetrics,
  type CredentialProvider,
  IdentityError,
  type Logger,
  type RefreshEvent,
} from '@ecs-identity/core';
import { writeFileAtomic, writeKeyCertPair } from '@ecs-identity/core/node';
import type { AwsCredentials, TaskIdentity } from '@ecs-identity/ecs-metadata';
import { attestationStsEndpoint, certificateFacts, ztsBaseUrl } from '../athenz-setup.js';
import { readTextFile } from '../read-file.js';
import { parseMode } from './config.js';
import type { AgentConfig, FileSinkConfig } from './config-schema.js';
import { type CredentialFields, iso } from './view.js';

/** What kind of credential an entry holds. @internal */
export type CredentialKind = 'consul-token' | 'athenz-identity' | 'athenz-role-certificate' | 'athenz-access-token';

/** One credential of the agent. @internal */
export interface CredentialEntry<C extends Credential = Credential> {
  /** `consul.<name>`, `athenz.identity`, `athenz.roleCertificates.<name>`, `athenz.accessTokens.<name>`. */
  readonly key: string;
  readonly kind: CredentialKind;
  readonly provider: CredentialProvider<C>;
  /** The fields templates read (secrets included: only files whose template names them receive them). */
  fields(credential: C): CredentialFields;
  /** What may be printed or put in the status (no secret). */
  summary(credential: C): Record<string, unknown>;
  /** Writes the credential to its configured files. */
  writeSinks(credential: C): Promise<void>;
  /** The paths its files are written to (for the event lines). */
  readonly sinkPaths: readonly string[];
}

/** A provider that failed to let go of what it held at close (a logout, the instance record's delete). @internal */
export interface CloseFailure {
  readonly key: string;
  readonly error: unknown;
}

/** The built credentials and how to release them. @internal */
export interface AgentCredentials {
  /** In configuration order: Consul logins, then the Athenz identity, role certificates, access tokens. */
  readonly entries: readonly CredentialEntry[];
  /** The Consul logins, in configuration order, with their ACL clients (for logout). */
  readonly consulLogins: readonly { readonly key: string; readonly acl: ReturnType<typeof consulAclClient> }[];
  /**
   * Stops every provider: the Consul providers log out the tokens they replaced or got too late (the token in use
   * stays: the agent decides), the identity deletes its instance record when built to. Resolves with what failed.
   */
  close(): Promise<CloseFailure[]>;
}

/** What the agent hears from the provider of one credential. @internal */
export interface CredentialHooks {
  /** Each failed fetch (just before its `refresh-failed` event). */
  onError(error: unknown): void;
  /** Each refresh event (`refreshed`, `refresh-failed`, `expiring`). */
  onEvent(event: RefreshEvent): void;
  /** Consul logins: each logout the provider does (a replaced token after its grace period, a late login answer). */
  onLogout(event: TokenLogoutEvent): void;
  /** The credential's OpenTelemetry metrics, when the agent has any. */
  readonly metrics?: CredentialMetrics;
}

/** What building the credentials needs. @internal */
export interface CredentialDeps {
  readonly config: AgentConfig;
  readonly task: TaskIdentity;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly aws: CredentialProvider<AwsCredentials>;
  readonly logger: Logger;
  /** The hooks of the credential `key`. */
  readonly hooks: (key: string) => CredentialHooks;
  /** Delete the Athenz instance record when the identity is closed (daemon mode with `deleteOnExit`). */
  readonly deleteIdentityOnClose: boolean;
}

function ownerOf(s: { uid?: number | undefined; gid?: number | undefined }) {
  return { uid: s.uid, gid: s.gid };
}

/** Writes `value` to each file sink (in order: a failure stops at the file that failed, named by the error). */
async function writeFiles(sinks: readonly FileSinkConfig[], value: string, defaultMode: number): Promise<void> {
  for (const s of sinks) await writeFileAtomic(s.path, value, { mode: parseMode(s.mode, defaultMode), ...ownerOf(s) });
}

function consulEntries(deps: CredentialDeps): {
  entries: CredentialEntry<ConsulToken>[];
  logins: AgentCredentials['consulLogins'];
} {
  const consul = deps.config.consul;
  if (!consul) return { entries: [], logins: [] };
  const { env } = deps;
  const caPem = consul.caPemEnv ? env[consul.caPemEnv] || undefined : undefined;
  const connection = {
    env,
    address: consul.address,
    tls: {
      caPem,
      caFile: caPem ? undefined : consul.caFile,
      certFile: consul.clientCertFile,
      keyFile: consul.clientKeyFile,
    },
  };
  const entries: CredentialEntry<ConsulToken>[] = [];
  const logins: { key: string; acl: ReturnType<typeof consulAclClient> }[] = [];
  for (const [name, login] of Object.entries(consul.logins)) {
    const key = `consul.${name}`;
    const partition = login.partition ?? consul.partition ?? (env.CONSUL_PARTITION || undefined);
    const namespace = login.namespace ?? consul.namespace ?? (env.CONSUL_NAMESPACE || undefined);
    const datacenter = login.datacenter ?? consul.datacenter;
    const acl = consulAclClient({ ...connection, partition, namespace, datacenter });
    const serverId = login.serverIdHeaderValue ?? consul.serverIdHeaderValue;
    const attempts = login.replicationAttempts ?? 20;
    const hooks = deps.hooks(key);
    const provider = consulTokenProvider({
      acl,
      env,
      authMethod: login.method,
      meta: login.meta,
      aws: {
        includeEntity: login.includeEntity ?? true,
        serverIdHeaderValue: serverId,
        region: login.region,
        stsEndpoint: login.stsEndpoint,
        iamEndpoint: login.iamEndpoint,
      },
      replication: attempts === 0 ? false : { attempts },
      task: deps.task,
      credentials: deps.aws,
      // The agent decides at exit whether the token in use is logged out (daemon mode, or an init run that failed);
      // replaced tokens and late login answers are the provider's to log out.
      logout: { onClose: false, supersededGraceMs: login.supersededGraceMs },
      refresh: login.refresh,
      retry: login.retry,
      onError: hooks.onError,
      onEvent: hooks.onEvent,
      onLogout: hooks.onLogout,
      metrics: hooks.metrics,
      logger: deps.logger,
    });
    const sinks = login.sinks ?? [];
    entries.push({
      key,
      kind: 'consul-token',
      provider,
      fields: (t) => ({
        secretId: t.secretId,
        accessorId: t.accessorId,
        authMethod: t.authMethod ?? login.method,
        partition: t.partition ?? partition,
        namespace: t.namespace ?? namespace,
        expiresAt: iso(t.expiresAt),
      }),
      summary: (t) => ({
        accessorId: t.accessorId,
        authMethod: t.authMethod ?? login.method,
        ...(t.expiresAt ? { expiresAt: iso(t.expiresAt) } : {}),
        serviceIdentities: t.serviceIdentities.map((s) => s.serviceName),
      }),
      writeSinks: (t) => writeFiles(sinks, t.secretId, 0o600),
      sinkPaths: sinks.map((s) => s.path),
    });
    logins.push({ key, acl });
  }
  return { entries, logins };
}

function stsEndpointOf(athenz: NonNullable<AgentConfig['athenz']>, env: CredentialDeps['env'], partition: string) {
  return attestationStsEndpoint(athenz.stsEndpoint ?? (env.AWS_ENDPOINT_URL_STS || undefined), false, partition);
}

function identityFields(id: X509Identity): CredentialFields {
  return {
    principal: `${id.domain}.${id.service}`,
    domain: id.domain,
    service: id.service,
    provider: id.provider,
    instanceId: id.instanceId,
    certificatePem: id.certificatePem,
    privateKeyPem: id.privateKeyPem,
    chainPem: id.chainPem,
    caBundlePem: id.caBundlePem,
    spiffeId: id.spiffeId,
    serialNumber: id.serialNumber,
    notBefore: iso(id.notBefore),
    expiresAt: iso(id.expiresAt),
  };
}

async function athenzEntries(
  deps: CredentialDeps,
): Promise<{ entries: CredentialEntry[]; close: () => Promise<void> }> {
  const athenz = deps.config.athenz;
  if (!athenz) return { entries: [], close: async () => {} };
  const { env, task, logger } = deps;
  let url: string;
  try {
    url = ztsBaseUrl(athenz.zts, athenz.ztsPort ?? 4443);
  } catch (e) {
    throw new IdentityError('INVALID_CONFIG', `athenz.zts: ${(e as Error).message}`);
  }
  const caBundlePem = athenz.caFile ? await readTextFile(athenz.caFile, 'ZTS CA file (athenz.caFile)') : undefined;
  if ((athenz.domain === undefined) !== (athenz.service === undefined)) {
    throw new IdentityError('INVALID_CONFIG', 'athenz.domain and athenz.service go together');
  }
  const sia = athenz.sia ?? {};
  const siad = siadFileSink({
    root: sia.dir ?? '/var/lib/sia',
    keyDir: sia.keyDir,
    certDir: sia.certDir,
    tokenDir: sia.tokenDir,
    uid: sia.uid,
    gid: sia.gid,
  });
  const zts = createZtsClient({ url, caBundle: caBundlePem });
  const spiffe = athenz.spiffeTrustDomain ? { trustDomain: athenz.spiffeTrustDomain } : undefined;
  const identityHooks = deps.hooks('athenz.identity');
  const identity = athenzIdentityProvider({
    zts,
    task,
    credentials: deps.aws,
    env,
    // Names, attestation role and provider are resolved by the provider (the ATHENZ_SIA_* variables as defaults).
    names: {
      domain: athenz.domain,
      service: athenz.service,
      iamRoleArn: athenz.iamRoleArn,
      rolePath: athenz.rolePath,
      omitDomain: athenz.omitDomain,
      providerPrefix: athenz.providerPrefix,
    },
    dnsSuffixes: athenz.dnsSuffixes,
    csr: {
      wildcard: athenz.sanDnsWildcard,
      extraDnsNames: athenz.sanDnsNames?.length ? athenz.sanDnsNames : undefined,
      spiffe,
      expiryMinutes: athenz.expiryMinutes || undefined,
    },
    key: { type: athenz.keyType },
    refresh: athenz.refresh,
    retry: athenz.retry,
    sts: { endpoint: stsEndpointOf(athenz, env, task.partition) },
    sink: siad,
    instance: { deleteOnClose: deps.deleteIdentityOnClose },
    onError: identityHooks.onError,
    onEvent: identityHooks.onEvent,
    metrics: identityHooks.metrics,
    logger,
  });
  const identitySinks = athenz.identity?.sinks ?? [];
  const entries: CredentialEntry[] = [
    {
      key: 'athenz.identity',
      kind: 'athenz-identity',
      provider: identity,
      fields: identityFields,
      summary: certificateFacts,
      async writeSinks(id) {
        for (const s of identitySinks) {
          await writeKeyCertPair({
            keyPath: s.keyPath,
            certPath: s.certPath,
            keyPem: id.privateKeyPem,
            certPem: id.certificatePem,
            keyMode: parseMode(s.keyMode, 0o400),
            certMode: parseMode(s.certMode, 0o444),
            ...ownerOf(s),
          });
          if (s.chainPath && id.chainPem) {
            await writeFileAtomic(s.chainPath, id.chainPem, { mode: parseMode(s.certMode, 0o444), ...ownerOf(s) });
          }
        }
      },
      sinkPaths: identitySinks.flatMap((s) => [s.keyPath, s.certPath, ...(s.chainPath ? [s.chainPath] : [])]),
    } satisfies CredentialEntry<X509Identity> as CredentialEntry,
  ];
  entries.push(...athenzBoundEntries(deps, athenz, { zts, identity, siad, spiffe }));
  return { entries, close: () => zts.close() };
}

/** What the role certificate and access token entries share: the ZTS client, the identity and siad's layout. */
interface AthenzShared {
  zts: ZtsClient;
  identity: CredentialProvider<X509Identity>;
  siad: SiadFileSink;
  spiffe: SpiffeOptions | undefined;
}

/** One entry per role certificate and per access token the configuration declares, on the agent's identity. */
function athenzBoundEntries(
  deps: CredentialDeps,
  athenz: NonNullable<AgentConfig['athenz']>,
  { zts, identity, siad, spiffe }: AthenzShared,
): CredentialEntry[] {
  const { logger } = deps;
  const entries: CredentialEntry[] = [];
  for (const [name, spec] of Object.entries(athenz.roleCertificates ?? {})) {
    const key = `athenz.roleCertificates.${name}`;
    const sinks = spec.sinks ?? [];
    const hooks = deps.hooks(key);
    const roles = roleCertificateProvider({
      zts,
      identity,
      roles: [spec.role],
      csr: { expiryMinutes: spec.expiryMinutes || undefined, spiffe },
      sink: siad,
      refresh: spec.refresh,
      retry: spec.retry,
      onError: hooks.onError,
      onEvent: hooks.onEvent,
      metrics: hooks.metrics,
      logger,
    });
    const one = (set: RoleCertificateSet) => Object.values(set.certificates)[0] as (typeof set.certificates)[string];
    entries.push({
      key,
      kind: 'athenz-role-certificate',
      provider: roles,
      fields: (set) => {
        const c = one(set);
        return {
          role: c.roleName,
          certificatePem: c.certificatePem,
          privateKeyPem: c.privateKeyPem,
          spiffeId: c.spiffeId,
          serialNumber: c.certificate.serialNumber,
          notBefore: iso(c.notBefore),
          expiresAt: iso(c.expiresAt),
        };
      },
      summary: (set) => ({
        role: one(set).roleName,
        serial: one(set).certificate.serialNumber,
        expiresAt: iso(set.expiresAt),
      }),
      writeSinks: (set) => writeFiles(sinks, one(set).certificatePem, 0o444),
      sinkPaths: sinks.map((s) => s.path),
    } satisfies CredentialEntry<RoleCertificateSet> as CredentialEntry);
  }
  for (const [name, spec] of Object.entries(athenz.accessTokens ?? {})) {
    const key = `athenz.accessTokens.${name}`;
    const sinks = spec.sinks ?? [];
    const hooks = deps.hooks(key);
    const tokens = accessTokenProvider({
      zts,
      identity,
      scope: spec.scope,
      expiresInSeconds: spec.expiresInSeconds || undefined,
      verify: spec.verifyIssuer ? { issuer: spec.verifyIssuer } : undefined,
      sink: siad,
      sinkName: name,
      refresh: spec.refresh,
      retry: spec.retry,
      onError: hooks.onError,
      onEvent: hooks.onEvent,
      metrics: hooks.metrics,
      logger,
    });
    entries.push({
      key,
      kind: 'athenz-access-token',
      provider: tokens,
      fields: (t) => ({
        token: t.token,
        idToken: t.idToken,
        tokenType: t.tokenType,
        scope: t.scope,
        expiresAt: iso(t.expiresAt),
      }),
      summary: (t) => ({ scope: t.scope, expiresAt: iso(t.expiresAt) }),
      writeSinks: (t) => writeFiles(sinks, t.token, 0o400),
      sinkPaths: sinks.map((s) => s.path),
    } satisfies CredentialEntry<AccessToken> as CredentialEntry);
  }
  return entries;
}

/**
 * Builds every credential the configuration declares (nothing is fetched yet).
 * @internal
 */
export async function buildCredentials(deps: CredentialDeps): Promise<AgentCredentials> {
  const consul = consulEntries(deps);
  let athenz: Awaited<ReturnType<typeof athenzEntries>>;
  try {
    athenz = await athenzEntries(deps);
  } catch (e) {
    await Promise.allSettled(consul.entries.map((c) => c.provider.close()));
    throw e;
  }
  const entries: CredentialEntry[] = [...(consul.entries as CredentialEntry[]), ...athenz.entries];
  return {
    entries,
    consulLogins: consul.logins,
    async close() {
      // Dependents first: tokens and role certificates, then the identity (its close may delete the record).
      const [identity, ...rest] = athenz.entries;
      const dependents = [...consul.entries, ...rest];
      const settled = await Promise.allSettled(dependents.map((c) => c.provider.close()));
      // A Consul provider's close fails when a logout it owed failed (each is also an onLogout event); the Athenz
      // dependents hold nothing on a server.
      const failures: CloseFailure[] = settled.flatMap((r, i) =>
        r.status === 'rejected' && dependents[i]?.kind === 'consul-token'
          ? [{ key: dependents[i].key, error: r.reason }]
          : [],
      );
      try {
        await identity?.provider.close();
      } catch (error) {
        failures.push({ key: 'athenz.identity', error });
      } finally {
        await athenz.close();
      }
      return failures;
    },
  };
}
