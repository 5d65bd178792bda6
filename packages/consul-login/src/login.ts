/**
 * `consulLogin()`: what the seed's consul-client startup script does, in one call: task identity → AWS credentials →
 * bearer token → ACL login with the task's meta → replication wait → optional sink.
 * @packageDocumentation
 */
import {
  type Clock,
  type CredentialMetrics,
  type CredentialProvider,
  IdentityError,
  type Logger,
  type RetryOptions,
  retry,
  safeLogger,
  withDeadline,
} from '@ecs-identity/core';
import { measured } from '@ecs-identity/core/internal';
import {
  type AwsCredentials,
  type ContainerCredentialsOptions,
  containerCredentials,
  getTaskIdentity,
  type TaskIdentity,
  type TaskMetadataOptions,
} from '@ecs-identity/ecs-metadata';
import { type ConsulAclClient, type ConsulAclClientOptions, consulAclClient } from './acl-client.js';
import { type BearerTokenOptions, buildBearerToken } from './bearer-token.js';
import type { ConsulToken } from './consul-token.js';
import { DEFAULT_LATE_ANSWER_WINDOW_MS, loginListeningLate } from './late-login.js';
import { type ReplicationWaitOptions, waitForReplication } from './replication.js';
import { TokenLogouts } from './token-logouts.js';

/** The consul-ecs default auth method for service tokens (`iam-ecs-client-token` is the client agents'). @public */
export const DEFAULT_AUTH_METHOD = 'iam-ecs-service-token';
/** Token meta key for the task id (as consul-ecs sets it). @public */
export const META_TASK_ID = 'consul.hashicorp.com/task-id';
/** Token meta key for the cluster ARN (as consul-ecs sets it). @public */
export const META_CLUSTER = 'consul.hashicorp.com/cluster';

/** The task facts a login needs (a subset of ecs-metadata's `TaskIdentity`). @public */
export type TaskFacts = Pick<TaskIdentity, 'region' | 'taskId' | 'clusterArn'>;

/** @public */
export interface ConsulLoginOptions extends ConsulAclClientOptions {
  /** A ready ACL client (else one is made from `address`, `http`, `agent`...). */
  acl?: ConsulAclClient | undefined;
  /**
   * Per-request timeout in ms of the Consul calls (default 10 000) and, when given, of the GetCallerIdentity call the
   * bearer token may need (default 5000).
   */
  timeoutMs?: number | undefined;
  /** Default `iam-ecs-service-token`. */
  authMethod?: string | undefined;
  /** Token meta, merged over the task's `consul.hashicorp.com/task-id` and `consul.hashicorp.com/cluster` (yours win). */
  meta?: Record<string, string> | undefined;
  datacenter?: string | undefined;
  partition?: string | undefined;
  namespace?: string | undefined;
  /** AWS credentials. Default: the task role's, from the ECS container credentials endpoint. */
  credentials?: CredentialProvider<AwsCredentials> | undefined;
  /** Options for the default container credentials provider. */
  containerCredentials?: ContainerCredentialsOptions | undefined;
  /** The task's region, id and cluster ARN, or how to get them. Default: from the ECS task metadata endpoint. */
  task?: (TaskFacts | (() => Promise<TaskFacts>)) | undefined;
  /** Options for the default task metadata read. */
  metadata?: TaskMetadataOptions | undefined;
  /** STS region. Default: the task's region. */
  region?: string | undefined;
  stsEndpoint?: BearerTokenOptions['stsEndpoint'] | undefined;
  iamEndpoint?: BearerTokenOptions['iamEndpoint'] | undefined;
  iamRegion?: string | undefined;
  /** The auth method's `ServerIDHeaderValue`, if it has one. */
  serverIdHeaderValue?: string | undefined;
  /** Embed the IAM entity request (`-aws-include-entity`). Default true. */
  includeEntity?: boolean | undefined;
  /** The stale self-read wait (default 20 tries, 100 ms apart, 10 s in all), or `false` to skip it. */
  replication?: ReplicationWaitOptions | false | undefined;
  /**
   * Retries of the login (each attempt builds a new bearer token). Default: 8 attempts, backoff from 200 ms up to
   * 5 s; retryable errors only (network, timeouts, 429, 5xx, expired AWS credentials). `deadlineMs` (default 60 s)
   * bounds the whole login phase, the attempt in flight included: then a retryable `TIMEOUT`.
   */
  retry?: RetryOptions | undefined;
  /**
   * When a login attempt times out (or is aborted), keep listening this long for its answer and log out the token it
   * brings: Consul completes a login the client gave up on. Default 30 000 ms; 0 cancels the request instead.
   */
  lateAnswerWindowMs?: number | undefined;
  /** Called with the new token after replication (the `./node` entry's `sinkFile` writes the SecretID here). */
  sink?: ((token: ConsulToken) => Promise<void> | void) | undefined;
  /**
   * OpenTelemetry metrics (core's `credentialMetrics`): each `POST /v1/acl/login` attempt's duration (operation
   * `login`); `consulTokenProvider` adds the attempts, failures and time to expiry.
   */
  metrics?: CredentialMetrics | undefined;
  clock?: Clock | undefined;
  logger?: Logger | undefined;
  signal?: AbortSignal | undefined;
}

async function resolveTask(options: ConsulLoginOptions): Promise<TaskFacts> {
  const { task } = options;
  if (typeof task === 'function') return task();
  if (task !== undefined) return task;
  return getTaskIdentity({
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...options.metadata,
  });
}

function checkTask(task: TaskFacts): TaskFacts {
  for (const key of ['region', 'taskId', 'clusterArn'] as const) {
    if (typeof task?.[key] !== 'string' || task[key] === '') {
      throw new IdentityError('INVALID_ARGUMENT', `task.${key} must be a non-empty string`);
    }
  }
  return task;
}

// AWS said the credentials themselves are bad or stale: the next attempt should fetch new ones.
function credentialsLookStale(error: unknown): boolean {
  if (IdentityError.is(error, 'INVALID_CREDENTIALS', 'EXPIRED')) return true;
  return error instanceof Error && /ExpiredToken|InvalidClientTokenId|RequestExpired/.test(error.message);
}

/** Logs a token out, reporting (not throwing) a failure: used to undo a login that cannot be completed. */
async function undoLogin(acl: ConsulAclClient, token: ConsulToken, log: Logger): Promise<void> {
  try {
    await acl.logout(token);
  } catch (e) {
    log.warn({ accessorId: token.accessorId, err: e instanceof Error ? e.message : String(e) }, 'logout failed');
  }
}

/**
 * Logs in to Consul with the task's IAM role, as `consul login -type aws-iam -aws-auto-bearer-token
 * -aws-include-entity` in consul-ecs does, and returns the ACL token once the servers have replicated it.
 * On failure after the login (replication, sink) the token is logged out again, so nothing is left half done.
 *
 * @example
 * ```ts
 * import { consulLogin } from '@ecs-identity/consul-login';
 * const token = await consulLogin({ address: 'https://consul.example:8501', serverIdHeaderValue: 'consul.example' });
 * fetch(`${consul}/v1/catalog/services`, { headers: { 'X-Consul-Token': token.secretId } });
 * ```
 * @public
 */
export function consulLogin(options: ConsulLoginOptions = {}): Promise<ConsulToken> {
  return consulLoginTracked(options);
}

/**
 * {@link consulLogin}, with the background logouts (late answers) going to `logouts` (a token provider's, so that its
 * close() waits for them); else to its own.
 * @internal
 */
export async function consulLoginTracked(options: ConsulLoginOptions, logouts?: TokenLogouts): Promise<ConsulToken> {
  const log = safeLogger(options.logger);
  const acl = options.acl ?? consulAclClient(options);
  const late = {
    windowMs: options.lateAnswerWindowMs ?? DEFAULT_LATE_ANSWER_WINDOW_MS,
    logouts: logouts ?? new TokenLogouts(acl, { ...(options.clock ? { clock: options.clock } : {}), logger: log }),
    ...(options.clock ? { clock: options.clock } : {}),
  };
  const authMethod = options.authMethod ?? DEFAULT_AUTH_METHOD;
  const task = checkTask(await resolveTask(options));
  const region = options.region ?? task.region;
  const meta = { [META_TASK_ID]: task.taskId, [META_CLUSTER]: task.clusterArn, ...options.meta };
  const ownCredentials = options.credentials === undefined;
  const credentials =
    options.credentials ??
    containerCredentials({
      ...(options.env === undefined ? {} : { env: options.env }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
      refresh: { background: false },
      ...options.containerCredentials,
    });
  let token: ConsulToken;
  // One bound on the whole login phase, the attempt in flight included: core's retry only stops starting new ones.
  const loginBoundMs = options.retry?.deadlineMs ?? 60_000;
  let lastError: unknown;
  try {
    let staleCredentials = false;
    const attempts = (bound: AbortSignal) =>
      retry(
        async (attempt, signal) => {
          const creds = await credentials.get({
            forceRefresh: staleCredentials,
            ...(signal === undefined ? {} : { signal }),
          });
          staleCredentials = false;
          // A new token per attempt: signatures expire, and credentials may have been refreshed.
          const bearerToken = await buildBearerToken({
            credentials: creds,
            region,
            entity: options.includeEntity ?? true,
            ...(options.stsEndpoint === undefined ? {} : { stsEndpoint: options.stsEndpoint }),
            ...(options.iamEndpoint === undefined ? {} : { iamEndpoint: options.iamEndpoint }),
            ...(options.iamRegion === undefined ? {} : { iamRegion: options.iamRegion }),
            ...(options.serverIdHeaderValue === undefined ? {} : { serverIdHeaderValue: options.serverIdHeaderValue }),
            // the GetCallerIdentity call (only when the role ARN is not known) under the same request timeout
            ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
            ...(signal === undefined ? {} : { signal }),
          });
          log.debug({ attempt, authMethod, address: acl.address }, 'consul login');
          return measured(options.metrics, 'login', () =>
            loginListeningLate(
              acl,
              {
                authMethod,
                bearerToken,
                meta,
                ...(options.datacenter === undefined ? {} : { datacenter: options.datacenter }),
                ...(options.partition === undefined ? {} : { partition: options.partition }),
                ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
                ...(signal === undefined ? {} : { signal }),
              },
              late,
            ),
          );
        },
        {
          maxAttempts: 8,
          baseDelayMs: 200,
          maxDelayMs: 5000,
          deadlineMs: 60_000,
          ...(options.clock === undefined ? {} : { clock: options.clock }),
          isRetryable: (e) => (IdentityError.is(e) && e.retryable) || credentialsLookStale(e),
          ...options.retry,
          signal: bound,
          onRetry: (info) => {
            lastError = info.error;
            staleCredentials = credentialsLookStale(info.error);
            log.warn(
              {
                attempt: info.attempt,
                delayMs: info.delayMs,
                err: info.error instanceof Error ? info.error.message : String(info.error),
              },
              'consul login failed, retrying with a new bearer token',
            );
            options.retry?.onRetry?.(info);
          },
        },
      );
    const bounded = (run: (signal: AbortSignal) => Promise<ConsulToken>) =>
      loginBoundMs > 0
        ? withDeadline(run, {
            timeoutMs: loginBoundMs,
            what: `Consul login at ${acl.address}`,
            ...(options.clock === undefined ? {} : { clock: options.clock }),
            ...(options.signal === undefined ? {} : { signal: options.signal }),
          })
        : run(options.signal ?? new AbortController().signal);
    token = await bounded(attempts).catch((e: unknown) => {
      if (!IdentityError.is(e, 'TIMEOUT') || options.signal?.aborted || lastError === undefined) throw e;
      // Say why the attempts before the bound failed, not only that time ran out.
      const why = lastError instanceof Error ? lastError.message : String(lastError);
      throw new IdentityError('TIMEOUT', `${e.message}; the last attempt failed: ${why}`, {
        retryable: true,
        cause: lastError,
      });
    });
  } finally {
    if (ownCredentials) await credentials.close();
  }
  try {
    if (options.replication !== false) {
      await waitForReplication(acl, token, {
        ...(options.clock === undefined ? {} : { clock: options.clock }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
        ...options.replication,
      });
    }
    await options.sink?.(token);
  } catch (e) {
    await undoLogin(acl, token, log);
    throw e;
  }
  log.info({ accessorId: token.accessorId, authMethod, address: acl.address }, 'logged in to Consul');
  return token;
}
