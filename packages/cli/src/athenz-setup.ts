/**
 * What every `ecs-identity athenz` command shares: siad's flags and `ATHENZ_SIA_*` variables, and turning them into
 * the task facts, the task-role credentials, the ZTS client and the siad file layout.
 * @packageDocumentation
 */

import {
  type AthenzNamesOptions,
  athenzContext,
  createZtsClient,
  type KeyType,
  loadSavedIdentity,
  normalizeRolePath,
  type ResolvedAthenzContext,
  type SpiffeOptions,
  type X509Identity,
  type ZtsClient,
} from '@ecs-identity/athenz-zts';
import {
  type AthenzIdentityOptions,
  type SiadFileSink,
  type SiadPaths,
  siadFileSink,
} from '@ecs-identity/athenz-zts/node';
import type { CredentialProvider } from '@ecs-identity/core';
import { type AwsCredentials, containerCredentials, getTaskIdentity } from '@ecs-identity/ecs-metadata';
import type { CommandContext } from './command.js';
import { splitList, UsageError } from './flags.js';
import { readTextFile } from './read-file.js';

/** The resolved setting of an athenz command. @internal */
export interface AthenzSetup {
  /** The task, the service, the provider and the attestation role (athenz-zts's context, resolved). */
  context: ResolvedAthenzContext;
  credentials: CredentialProvider<AwsCredentials>;
  zts: ZtsClient;
  /** siad's layout, which owns every path. */
  sink: SiadFileSink;
  paths: SiadPaths;
  spiffe?: SpiffeOptions;
  /** What the identity provider is given: the context's facts as resolved here, and siad's `-key-type`. */
  identity: Pick<AthenzIdentityOptions, 'task' | 'credentials' | 'env' | 'names' | 'sts'> & { keyType?: KeyType };
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
 * The names siad's flags give the context (`-domain`, `-service`, `-iam-role-arn`, `-role-path`, `-omit-domain`,
 * `-providerprefix`). The flags carry the `ATHENZ_SIA_*` variables as their defaults: the context reads no environment
 * of its own.
 * @internal
 */
export function athenzNamesOf(values: CommandContext['values'], rolePath: string | undefined): AthenzNamesOptions {
  return {
    domain: opt(values, 'domain'),
    service: opt(values, 'service'),
    iamRoleArn: opt(values, 'iam-role-arn'),
    rolePath,
    omitDomain: values['omit-domain'] === true,
    providerPrefix: values.providerprefix as string | undefined,
  };
}

/**
 * Reads the task, resolves the service (athenz-zts's context) and builds the ZTS client and siad's layout. Call
 * `close()` when done. `signal` ends the task metadata and credentials reads early (a stop during start-up).
 * @internal
 */
export async function athenzSetup(ctx: CommandContext, signal?: AbortSignal): Promise<AthenzSetup> {
  const { values, io, logger } = ctx;
  const url = ztsBaseUrl(opt(values, 'zts'), values.ztsport as number);
  if ((opt(values, 'domain') === undefined) !== (opt(values, 'service') === undefined)) {
    throw new UsageError('-domain and -service go together');
  }
  const keyType = keyTypeOf(values);
  const rolePath = rolePathOf(ctx);
  const caFile = opt(values, 'ztscacert');
  const caBundle = caFile ? await readTextFile(caFile, 'ZTS CA file (-ztscacert)') : undefined;
  const agentUrl = values['ecs-agent-url'] as string;
  const task = await getTaskIdentity({ env: io.env, agentUrl, logger, signal });
  const credentials = containerCredentials({ env: io.env, agentUrl, refresh: { background: false }, logger });
  const sts = { endpoint: stsEndpointOf(values, task.partition) };
  const context = athenzContext({ env: {}, task, credentials, names: athenzNamesOf(values, rolePath), sts });
  try {
    const resolved = await context.resolve(signal);
    const sink = siadFileSink({
      root: values['sia-dir'] as string,
      keyDir: opt(values, 'keydir'),
      certDir: opt(values, 'certdir'),
      tokenDir: opt(values, 'tokendir'),
    });
    const zts = createZtsClient({ url, caBundle });
    const trustDomain = opt(values, 'spiffe-trust-domain');
    return {
      context: resolved,
      credentials,
      zts,
      sink,
      paths: sink.paths(resolved.domain, resolved.service),
      ...(trustDomain ? { spiffe: { trustDomain } } : {}),
      identity: {
        task,
        credentials,
        env: {},
        // Resolved once, here: the provider's own context needs no network call to name the service again.
        names: {
          domain: resolved.domain,
          service: resolved.service,
          iamRoleArn: resolved.attestationRoleArn,
          omitDomain: resolved.omitDomain,
          provider: resolved.provider,
        },
        sts,
        ...(keyType ? { keyType } : {}),
      },
      async close() {
        await zts.close();
        await context.close();
        await credentials.close();
      },
    };
  } catch (e) {
    await context.close();
    await credentials.close();
    throw e;
  }
}

/**
 * The identity saved in the siad layout, as `rolecert` and `token` use it (siad reads the same files): athenz-zts's
 * saved identity, checked the way the identity provider checks it.
 * @throws IdentityError `INVALID_CONFIG` when there is none (or it is not usable), `EXPIRED` when it has expired
 * @internal
 */
export function savedIdentity(setup: AthenzSetup, nowMs: number): Promise<X509Identity> {
  return loadSavedIdentity(setup.sink, setup.context, nowMs, { caBundlePem: caBundlePemOf(setup.zts) });
}

/** The CA bundle of the ZTS client, as the one PEM an identity exposes. @internal */
export function caBundlePemOf(zts: ZtsClient): string | undefined {
  return Array.isArray(zts.caBundle) ? zts.caBundle.join('\n') : zts.caBundle;
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
