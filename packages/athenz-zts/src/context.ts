/**
 * The context of an Athenz identity: the task's facts, which Athenz service it is (and so the provider and the IAM
 * role its attestation assumes), and the attestor that proves it to ZTS. One piece, the same for the identity
 * provider, the CLI's commands and its `doctor`.
 * @packageDocumentation
 */
import type { CredentialProvider } from '@ecs-identity/core';
import { type Environment, processEnv, withAsyncDispose } from '@ecs-identity/core/internal';
import { type AwsCredentials, containerCredentials, getTaskIdentity, type TaskFacts } from '@ecs-identity/ecs-metadata';
import {
  noSdk,
  type StsAttestor,
  type StsAttestorOptions,
  type StsEndpoint,
  type StsModule,
  stsAttestorWith,
} from './attestation.js';
import { AthenzError } from './errors.js';
import { DEFAULT_PROVIDER_PREFIX, providerName, validateProvider } from './names.js';
import { type ResolvedService, resolveService } from './resolve-identity.js';

/**
 * Which Athenz service the task is: the names, else `ATHENZ_SIA_IAM_ROLE_ARN`, else the task role named
 * `<domain>.<service>-service` (siad's rules, see `resolveService`); and the ZTS provider.
 * @public
 */
export interface AthenzNamesOptions {
  /** Athenz domain and service (given together). Default: from `iamRoleArn`, else from the task role. */
  domain?: string | undefined;
  service?: string | undefined;
  /** The `<domain>.<service>` role to assume. Default: `env.ATHENZ_SIA_IAM_ROLE_ARN`. */
  iamRoleArn?: string | undefined;
  /**
   * IAM path of the attestation role (siad's `role_path`): `ecs`, `/ecs` and `/ecs/` all mean `/ecs/`. Default:
   * `env.ATHENZ_SIA_ROLE_PATH`, else `/` (the task role's own path when the names come from it; an `iamRoleArn`
   * carries its own path).
   */
  rolePath?: string | undefined;
  /**
   * siad's `omit_domain`: assume the IAM role named `<service>`, and attest `role` and the STS session name
   * `<service>`. Default: `env.ATHENZ_SIA_OMIT_DOMAIN` is `true` or `1`.
   */
  omitDomain?: boolean | undefined;
  /** The ZTS provider. Default `<providerPrefix>.<region>`. */
  provider?: string | undefined;
  /** Default `athenz.aws-ecs` (siad's `-providerprefix`). */
  providerPrefix?: string | undefined;
}

/** How the attestation calls STS. @public */
export interface AthenzStsOptions {
  /** Default `regional`; `global` (us-east-1, siad's default without `-regionalsts`) or a URL. */
  endpoint?: StsEndpoint | undefined;
  /** Per-request timeout of the `sts:AssumeRole` call. Default 5000 ms. */
  timeoutMs?: number | undefined;
  /** STS session name. Default `<domain>.<service>` (`<service>` with `omitDomain`). */
  sessionName?: string | undefined;
  /**
   * Loads `@aws-sdk/client-sts` (see `stsAttestor`). Default in Node: `import('@aws-sdk/client-sts')`; the
   * browser-safe build has no default: pass `() => import('@aws-sdk/client-sts')` (without it, `INVALID_CONFIG`).
   */
  loadSdk?: StsAttestorOptions['loadSdk'];
}

/** @public */
export interface AthenzContextOptions {
  /** Region, account, partition and task id, or a function that finds them. Default: the ECS task metadata endpoint. */
  task?: TaskFacts | ((signal: AbortSignal) => Promise<TaskFacts>) | undefined;
  /**
   * The task-role credentials: the attestation's source, and the task role ARN. Default: ecs-metadata's
   * `containerCredentials()` (closed with the context).
   */
  credentials?: CredentialProvider<AwsCredentials> | undefined;
  /** Where `ATHENZ_SIA_*` and the ECS variables are read. Default `process.env`. */
  env?: Environment | undefined;
  /** Which service, and the attestation role (siad's naming rules). */
  names?: AthenzNamesOptions | undefined;
  /** The attestation's STS call. */
  sts?: AthenzStsOptions | undefined;
}

/** The resolved context: the task, the service and the provider, and the attestation that proves them. @public */
export interface ResolvedAthenzContext {
  readonly task: TaskFacts;
  /** Lower-cased. */
  readonly domain: string;
  readonly service: string;
  /** The ZTS provider (`athenz.aws-ecs.<region>`). */
  readonly provider: string;
  /** Where the names came from. */
  readonly source: ResolvedService['source'];
  /** The role the attestation assumes. */
  readonly attestationRoleArn: string;
  /** The attestation's `role`: `<domain>.<service>`, or `<service>` with omitDomain. */
  readonly attestationRole: string;
  readonly omitDomain: boolean;
  /** A fresh attestation (a new `sts:AssumeRole`): the JSON string a register or refresh carries. Never log it. */
  attest(signal?: AbortSignal): Promise<string>;
}

/** The context of one task's Athenz identity (see {@link athenzContext}). @public */
export interface AthenzContext {
  /** The task-role credentials the context uses (the given ones, or the container credentials it made). */
  readonly credentials: CredentialProvider<AwsCredentials>;
  /** Domain and service when they are known without any network call (the names, or `iamRoleArn`); else undefined. */
  localNames(): { domain: string; service: string } | undefined;
  /**
   * Reads the task facts (and, when nothing else names the service, the task role from the credentials) and resolves
   * the names, the provider and the attestation role. Resolved once: later calls share the answer; a failure (the
   * metadata not up yet) is tried again by the next call.
   */
  resolve(signal?: AbortSignal): Promise<ResolvedAthenzContext>;
  /** Releases the attestor's STS client and closes the credentials the context made. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * The context of an Athenz identity whose attestation loads the AWS SDK with `sts.loadSdk`, else the build's
 * `defaultLoad` (see `stsAttestorWith`). The entries export it as `athenzContext`.
 * @internal
 */
export function athenzContextWith(
  defaultLoad: (() => Promise<StsModule>) | undefined,
  options: AthenzContextOptions = {},
): AthenzContext {
  const sts = options.sts ?? {};
  const loadSdk = sts.loadSdk ?? defaultLoad ?? noSdk('athenzContext', 'sts.loadSdk');
  const env = options.env ?? processEnv();
  const names = options.names ?? {};
  const own = options.credentials === undefined ? containerCredentials({ env }) : undefined;
  const credentials = (options.credentials ?? own) as CredentialProvider<AwsCredentials>;
  const taskSource = options.task ?? ((signal: AbortSignal) => getTaskIdentity({ signal, env }));
  const iamRoleArn = names.iamRoleArn ?? (env.ATHENZ_SIA_IAM_ROLE_ARN || undefined);
  const rolePath = names.rolePath ?? (env.ATHENZ_SIA_ROLE_PATH || undefined);
  const omitDomain = names.omitDomain ?? (env.ATHENZ_SIA_OMIT_DOMAIN === 'true' || env.ATHENZ_SIA_OMIT_DOMAIN === '1');
  const resolveNames = (account: { partition: string; accountId: string }, taskRoleArn?: string) =>
    resolveService({
      domain: names.domain,
      service: names.service,
      iamRoleArn,
      taskRoleArn,
      rolePath,
      omitDomain,
      ...account,
    });
  let attestor: StsAttestor | undefined;
  let resolved: Promise<ResolvedAthenzContext> | undefined;

  async function resolveOnce(signal: AbortSignal): Promise<ResolvedAthenzContext> {
    // The task-role credentials are needed for the attestation anyway (and maybe for the names): fetch them alongside
    // the task metadata rather than after it.
    const creds = credentials.get({ signal });
    creds.catch(() => {}); // awaited below when needed; the attestation asks again and sees the error then
    const task = typeof taskSource === 'function' ? await taskSource(signal) : taskSource;
    if (!task?.region || !task.accountId || !task.taskId || !task.partition) {
      throw new AthenzError('INVALID_CONFIG', 'the task facts need partition, region, accountId and taskId');
    }
    const taskRoleArn = names.domain === undefined && iamRoleArn === undefined ? (await creds).roleArn : undefined;
    const service = resolveNames({ partition: task.partition, accountId: task.accountId }, taskRoleArn);
    const provider = names.provider
      ? validateProvider(names.provider)
      : providerName(task.region, names.providerPrefix ?? DEFAULT_PROVIDER_PREFIX);
    attestor ??= stsAttestorWith(undefined, {
      region: task.region,
      credentials,
      stsEndpoint: sts.endpoint,
      timeoutMs: sts.timeoutMs,
      loadSdk,
    });
    const { attest } = attestor;
    return {
      task,
      domain: service.domain,
      service: service.service,
      provider,
      source: service.source,
      attestationRoleArn: service.attestationRoleArn,
      attestationRole: service.attestationRole,
      omitDomain,
      attest: (signal) =>
        attest({
          domain: service.domain,
          service: service.service,
          taskId: task.taskId,
          roleArn: service.attestationRoleArn,
          omitDomain,
          sessionName: sts.sessionName,
          signal,
        }),
    };
  }

  const context = {
    credentials,
    localNames() {
      if (names.domain === undefined && !iamRoleArn) return undefined;
      try {
        // Only the names are wanted here; the role ARN is resolved for real with the task facts.
        const { domain, service } = resolveNames({ partition: 'aws', accountId: '000000000000' });
        return { domain, service };
      } catch {
        return undefined;
      }
    },
    resolve(signal?: AbortSignal) {
      if (!resolved) {
        resolved = resolveOnce(signal ?? new AbortController().signal);
        // A failed resolution (metadata not up yet) is tried again on the next call.
        resolved.catch(() => {
          resolved = undefined;
        });
      }
      return resolved;
    },
    async close() {
      attestor?.close();
      await own?.close();
    },
  };
  return withAsyncDispose(context);
}
