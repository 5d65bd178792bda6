/**
 * What every `ecs-identity athenz` command shares: siad's flags and `ATHENZ_SIA_*` variables, and turning them into
 * the task facts, the task-role credentials, the ZTS client and the siad file layout.
 * @packageDocumentation
 */
import {
  type AthenzIdentityOptions,
  buildX509Identity,
  createZtsClient,
  importPrivateKeyPem,
  type KeyType,
  type NodeZtsTransport,
  normalizeRolePath,
  providerName,
  type ResolvedService,
  resolveService,
  type SiadFileSinkOptions,
  type SpiffeOptions,
  siadFileSink,
  siadPaths,
  validateProvider,
  type X509Identity,
  type ZtsClient,
  ztsTransport,
} from '@ecs-identity/athenz-zts/node';
import { type CredentialProvider, IdentityError } from '@ecs-identity/core';
import {
  type AwsCredentials,
  containerCredentials,
  getTaskIdentity,
  type TaskIdentity,
} from '@ecs-identity/ecs-metadata';
import type { CommandContext } from './command.js';
import { splitList, UsageError } from './flags.js';
import { readTextFile } from './read-file.js';

/** The resolved setting of an athenz command. @internal */
export interface AthenzSetup {
  task: TaskIdentity;
  credentials: CredentialProvider<AwsCredentials>;
  zts: ZtsClient;
  transport: NodeZtsTransport;
  service: ResolvedService;
  provider: string;
  sinkOptions: SiadFileSinkOptions;
  paths: ReturnType<typeof siadPaths>;
  caBundlePem?: string;
  spiffe?: SpiffeOptions;
  /** The identity provider options siad's naming flags set: `omitDomain`, and `keyType` for post, rotate and run. */
  naming: Pick<AthenzIdentityOptions, 'omitDomain' | 'keyType'>;
  close(): Promise<void>;
}

const KEY_TYPES: readonly KeyType[] = ['rsa', 'ec'];

/** `-key-type`: `rsa` or `ec` (absent on the commands that make no key). @internal */
export function keyTypeOf(values: CommandContext['values']): KeyType | undefined {
  const v = values['key-type'];
  if (v === undefined) return undefined;
  if (!KEY_TYPES.includes(v as KeyType)) {
    throw new UsageError(`-key-type ${JSON.stringify(v)} is not one of ${KEY_TYPES.join(', ')}`);
  }
  return v as KeyType;
}

function opt(values: CommandContext['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** `-zts host` + `-ztsport` → `https://host:port/zts/v1`; a full URL is taken as is. @internal */
export function ztsBaseUrl(zts: string | undefined, port: number): string {
  if (!zts) throw new UsageError('-zts is required (the ZTS host name, or its URL)');
  if (/^https?:\/\//i.test(zts)) return zts;
  if (!/^[A-Za-z0-9.-]+$/.test(zts) && !/^\[[0-9A-Fa-f:]+\]$/.test(zts)) {
    throw new UsageError(`-zts ${JSON.stringify(zts)} is neither a host name nor an http(s) URL`);
  }
  return `https://${zts}:${port}/zts/v1`;
}

/** The DNS suffixes from -dnsdomains (required by every command that builds a service CSR). @internal */
export function dnsSuffixes(values: CommandContext['values']): string[] {
  const list = splitList(values.dnsdomains);
  if (list.length === 0) throw new UsageError('-dnsdomains is required (e.g. -dnsdomains aws.athenz.example.com)');
  return list;
}

/**
 * The STS endpoint for attestation: the one given, else regional when asked, else global as siad does; but regional
 * outside the `aws` partition, where there is no global endpoint.
 * @internal
 */
export function attestationStsEndpoint(given: string | undefined, regional: boolean, partition: string): string {
  return given ?? (regional || partition !== 'aws' ? 'regional' : 'global');
}

/** The STS endpoint for attestation from -sts-endpoint and -regionalsts ({@link attestationStsEndpoint}). @internal */
export function stsEndpointOf(values: CommandContext['values'], partition: string): string {
  return attestationStsEndpoint(opt(values, 'sts-endpoint'), values.regionalsts === true, partition);
}

/**
 * `-role-path` / `ATHENZ_SIA_ROLE_PATH`, normalised as siad does (`ecs`, `/ecs`, `/ecs/` → `/ecs/`); what cannot be
 * an IAM path is a usage error naming where it came from, before any network call.
 * @internal
 */
export function rolePathOf(ctx: Pick<CommandContext, 'values' | 'sources'>): string | undefined {
  const value = opt(ctx.values, 'role-path');
  if (value === undefined) return undefined;
  const source = ctx.sources['role-path'];
  const where = source?.startsWith('env:') ? `environment variable ${source.slice(4)}` : '-role-path';
  try {
    return normalizeRolePath(value, where);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/**
 * Reads the task, resolves the service and builds the ZTS client. Call `close()` when done. `signal` ends the task
 * metadata and credentials reads early (a stop during start-up).
 * @internal
 */
export async function athenzSetup(ctx: CommandContext, signal?: AbortSignal): Promise<AthenzSetup> {
  const { values, io, logger } = ctx;
  const url = ztsBaseUrl(opt(values, 'zts'), values.ztsport as number);
  if ((opt(values, 'domain') === undefined) !== (opt(values, 'service') === undefined)) {
    throw new UsageError('-domain and -service go together');
  }
  const keyType = keyTypeOf(values);
  const omitDomain = values['omit-domain'] === true;
  const rolePath = rolePathOf(ctx);
  const caFile = opt(values, 'ztscacert');
  const caBundlePem = caFile ? await readTextFile(caFile, 'ZTS CA file (-ztscacert)') : undefined;
  const agentUrl = values['ecs-agent-url'] as string;
  const task = await getTaskIdentity({ env: io.env, agentUrl, logger, ...(signal ? { signal } : {}) });
  const credentials = containerCredentials({
    env: io.env,
    agentUrl,
    refresh: { background: false },
    logger,
  });
  try {
    const iamRoleArn = opt(values, 'iam-role-arn');
    const domain = opt(values, 'domain');
    const service = opt(values, 'service');
    // Only ask the credentials endpoint for the role when nothing else names the service.
    const taskRoleArn =
      domain === undefined && iamRoleArn === undefined
        ? (await credentials.get(signal ? { signal } : undefined)).roleArn
        : undefined;
    const resolved = resolveService({
      ...(domain === undefined ? {} : { domain }),
      ...(service === undefined ? {} : { service }),
      ...(iamRoleArn === undefined ? {} : { iamRoleArn }),
      ...(taskRoleArn === undefined ? {} : { taskRoleArn }),
      ...(rolePath === undefined ? {} : { rolePath }),
      ...(omitDomain ? { omitDomain } : {}),
      partition: task.partition,
      accountId: task.accountId,
    });
    const prefix = values.providerprefix as string;
    const provider = validateProvider(providerName(task.region, prefix), '-providerprefix');
    const sinkOptions: SiadFileSinkOptions = {
      root: values['sia-dir'] as string,
      ...(opt(values, 'keydir') ? { keyDir: opt(values, 'keydir') } : {}),
      ...(opt(values, 'certdir') ? { certDir: opt(values, 'certdir') } : {}),
      ...(opt(values, 'tokendir') ? { tokenDir: opt(values, 'tokendir') } : {}),
    };
    const transport = ztsTransport({ ...(caBundlePem ? { caBundle: caBundlePem } : {}) });
    const zts = createZtsClient({ url, transport });
    const trustDomain = opt(values, 'spiffe-trust-domain');
    return {
      task,
      credentials,
      zts,
      transport,
      service: resolved,
      provider,
      sinkOptions,
      paths: siadPaths(resolved.domain, resolved.service, sinkOptions),
      ...(caBundlePem ? { caBundlePem } : {}),
      ...(trustDomain ? { spiffe: { trustDomain } } : {}),
      naming: { omitDomain, ...(keyType ? { keyType } : {}) },
      async close() {
        transport.close();
        await credentials.close();
      },
    };
  } catch (e) {
    await credentials.close();
    throw e;
  }
}

/** A provider that always hands out the same identity (the one siad's files hold). @internal */
export function staticIdentity(identity: X509Identity): CredentialProvider<X509Identity> {
  return {
    get: async () => identity,
    subscribe: () => () => {},
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
}

/**
 * The identity saved in the siad layout, as `rolecert` and `token` use it (siad reads the same files).
 * @throws IdentityError `FILE_IO` when there is none, `EXPIRED` when its certificate has expired
 * @internal
 */
export async function savedIdentity(setup: AthenzSetup, nowMs: number): Promise<X509Identity> {
  const { domain, service } = setup.service;
  const pair = await siadFileSink(setup.sinkOptions).loadIdentity(domain, service);
  if (!pair) {
    throw new IdentityError(
      'FILE_IO',
      `no key and certificate for ${domain}.${service} at ${setup.paths.keyPath} and ${setup.paths.certPath}: run "ecs-identity athenz post" first`,
    );
  }
  const keys = await importPrivateKeyPem(pair.keyPem);
  const identity = await buildX509Identity({
    domain,
    service,
    provider: setup.provider,
    instanceId: setup.task.taskId,
    keys,
    privateKeyPem: pair.keyPem,
    certificatePem: pair.certPem,
    ...(setup.caBundlePem ? { caBundlePem: setup.caBundlePem } : {}),
  });
  if (identity.expiresAt.getTime() <= nowMs) {
    throw new IdentityError(
      'EXPIRED',
      `the certificate ${setup.paths.certPath} expired at ${identity.expiresAt.toISOString()}: run "ecs-identity athenz post"`,
    );
  }
  return identity;
}

/** The facts of a service certificate that may be printed (no key). @internal */
export function certificateFacts(id: X509Identity) {
  return {
    principal: `${id.domain}.${id.service}`,
    provider: id.provider,
    instanceId: id.instanceId,
    serial: id.serialNumber,
    ...(id.spiffeId ? { spiffeId: id.spiffeId } : {}),
    notBefore: id.notBefore.toISOString(),
    expiresAt: id.expiresAt.toISOString(),
  };
}

/** The facts of an identity that may be printed, with siad's file paths. @internal */
export function identitySummary(id: X509Identity, setup: AthenzSetup) {
  return {
    ...certificateFacts(id),
    keyFile: setup.paths.keyPath,
    certFile: setup.paths.certPath,
    ...(setup.paths.caCertPath ? { caCertFile: setup.paths.caCertPath } : {}),
  };
}
