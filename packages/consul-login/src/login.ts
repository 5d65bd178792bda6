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
import { type Environment, measured } from '@ecs-identity/core/internal';
import { type AwsCredentials, containerCredentials, getTaskIdentity, type TaskFacts } from '@ecs-identity/ecs-metadata';
import { type ConsulAclClient, type ConsulAclClientOptions, createAclClient } from './acl-client.js';
import { type BearerTokenOptions, buildBearerToken } from './bearer-token.js';
import type { ConsulToken } from './consul-token.js';
import { ConsulError } from './errors.js';
import { DEFAULT_LATE_ANSWER_WINDOW_MS, loginListeningLate } from './late-login.js';
import type { Platform } from './platform.js';
import { type ReplicationWaitOptions, waitForReplication } from './replication.js';
import { TokenLogouts } from './token-logouts.js';

/** The consul-ecs default auth method for service tokens (`iam-ecs-client-token` is the client agents'). @internal */
export const DEFAULT_AUTH_METHOD = 'iam-ecs-service-token';
/** Token meta key for the task id (as consul-ecs sets it). @internal */
export const META_TASK_ID = 'consul.hashicorp.com/task-id';
/** Token meta key for the cluster ARN (as consul-ecs sets it). @internal */
export const META_CLUSTER = 'consul.hashicorp.com/cluster';

/**
 * The AWS side of the login: which STS (and IAM) requests the bearer token carries, as `consul login`'s `-aws-*` flags
 * set them.
 * @public
 */
export interface ConsulAwsOptions {
  /** STS region. Default: the task's region. */
  region?: string | undefined;
  /** STS URL. Default `https://sts.<region>.amazonaws.com/` (`-aws-sts-endpoint`). */
  stsEndpoint?: BearerTokenOptions['stsEndpoint'];
  /** IAM URL of the embedded entity request. Default: the partition's IAM (`-aws-iam-endpoint`). */
  iamEndpoint?: BearerTokenOptions['iamEndpoint'];
  /** SigV4 region of the IAM request. Default: the partition's IAM region. */
  iamRegion?: string | undefined;
  /** The auth method's `ServerIDHeaderValue`, if it has one (`-aws-server-id-header-value`). */
  serverIdHeaderValue?: string | undefined;
  /** Embed the IAM entity request (`-aws-include-entity`). Default true. */
  includeEntity?: boolean | undefined;
}

/** When and how the tokens a login makes are logged out, if the login cannot hand them over. @public */
export interface ConsulLogoutOptions {
  /**
   * When a login attempt times out (or is aborted), keep listening this long for its answer and log out the token it
   * brings: Consul completes a login the client gave up on. Default 30 000 ms; 0 cancels the request instead.
   */
  lateAnswerWindowMs?: number | undefined;
}

/** @public */
export interface ConsulLoginOptions {
  /**
   * The Consul ACL client, or the options of the one to make (`address`, `tls`, `timeoutMs`, `datacenter`,
   * `partition`, `namespace`...). Default: `CONSUL_HTTP_ADDR` and the Consul CLI's other variables.
   */
  acl?: ConsulAclClient | ConsulAclClientOptions | undefined;
  /**
   * Where the Consul CLI's variables and the ECS task's (metadata, credentials) are read for the defaults. Default
   * `process.env`.
   */
  env?: Environment | undefined;
  /** Default `iam-ecs-service-token`. */
  authMethod?: string | undefined;
  /** Token meta, merged over the task's `consul.hashicorp.com/task-id` and `consul.hashicorp.com/cluster` (yours win). */
  meta?: Record<string, string> | undefined;
  /** The task's facts (region, task id, cluster ARN...), or how to get them. Default: the ECS task metadata endpoint. */
  task?: TaskFacts | ((signal: AbortSignal) => Promise<TaskFacts>) | undefined;
  /** AWS credentials. Default: the task role's, from the ECS container credentials endpoint. */
  credentials?: CredentialProvider<AwsCredentials> | undefined;
  /** The bearer token's AWS requests (`-aws-*` flags). */
  aws?: ConsulAwsOptions | undefined;
  /** The stale self-read wait (default 20 tries, 100 ms apart, 10 s in all), or `false` to skip it. */
  replication?: ReplicationWaitOptions | false | undefined;
  /**
   * Retries of the login (each attempt builds a new bearer token). Default: 8 attempts, backoff from 200 ms up to
   * 5 s; retryable errors only (network, timeouts, 429, 5xx, expired AWS credentials). `deadlineMs` (default 60 s)
   * bounds the whole login phase, the attempt in flight included: then a retryable `TIMEOUT`.
   */
  retry?: RetryOptions | undefined;
  /** The logout of a token whose login answered too late (`lateAnswerWindowMs`). */
  logout?: ConsulLogoutOptions | undefined;
  /** Called with the new token after replication, e.g. `tokenFileSink(path)` from `./node`. */
  sink?: ((token: ConsulToken) => Promise<void> | void) | undefined;
  /**
   * OpenTelemetry metrics (core's `credentialMetrics`): each `POST /v1/acl/login` attempt's duration (operation
   * `login`); `consulTokenProvider` adds the attempts, failures and time to expiry.
   */
  metrics?: CredentialMetrics | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  signal?: AbortSignal | undefined;
}

/** The ACL client `options.acl` names: the one given, or one made from its options. @internal */
export function aclOf(platform: Platform, options: Pick<ConsulLoginOptions, 'acl' | 'env'>): ConsulAclClient {
  const { acl } = options;
  if (acl !== undefined && typeof (acl as ConsulAclClient).login === 'function') return acl as ConsulAclClient;
  return createAclClient(platform, { env: options.env, ...(acl as ConsulAclClientOptions | undefined) });
}

async function resolveTask(options: ConsulLoginOptions): Promise<TaskFacts> {
  const { task } = options;
  if (typeof task === 'function') return task(options.signal ?? new AbortController().signal);
  if (task !== undefined) return task;
  return getTaskIdentity({ env: options.env, signal: options.signal });
}

function checkTask(task: TaskFacts): TaskFacts {
  for (const key of ['region', 'taskId', 'clusterArn'] as const) {
    if (typeof task?.[key] !== 'string' || task[key] === '') {
      throw new ConsulError('INVALID_ARGUMENT', `task.${key} must be a non-empty string`);
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
 * Logs in to Consul with the task's IAM role (see the entries' `consulLogin`), with `platform`'s TLS, and the
 * background logouts (late answers) going to `logouts` (a token provider's, so that its close() waits for them); else
 * to its own.
 * @internal
 */
export async function loginWith(
  platform: Platform,
  options: ConsulLoginOptions,
  logouts?: TokenLogouts,
): Promise<ConsulToken> {
  const log = safeLogger(options.logger);
  const acl = aclOf(platform, options);
  const late = {
    windowMs: options.logout?.lateAnswerWindowMs ?? DEFAULT_LATE_ANSWER_WINDOW_MS,
    logouts: logouts ?? new TokenLogouts(acl, { clock: options.clock, logger: log }),
    clock: options.clock,
  };
  const authMethod = options.authMethod ?? DEFAULT_AUTH_METHOD;
  const task = checkTask(await resolveTask(options));
  const aws = options.aws ?? {};
  const region = aws.region ?? task.region;
  const meta = { [META_TASK_ID]: task.taskId, [META_CLUSTER]: task.clusterArn, ...options.meta };
  const ownCredentials = options.credentials === undefined;
  const credentials =
    options.credentials ??
    containerCredentials({
      env: options.env,
      clock: options.clock,
      logger: options.logger,
      refresh: { background: false },
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
          const creds = await credentials.get({ forceRefresh: staleCredentials, signal });
          staleCredentials = false;
          // A new token per attempt: signatures expire, and credentials may have been refreshed.
          const bearerToken = await buildBearerToken({
            credentials: creds,
            region,
            entity: aws.includeEntity ?? true,
            stsEndpoint: aws.stsEndpoint,
            iamEndpoint: aws.iamEndpoint,
            iamRegion: aws.iamRegion,
            serverIdHeaderValue: aws.serverIdHeaderValue,
            // the GetCallerIdentity call (only when the role ARN is not known) under the Consul calls' request timeout
            timeoutMs: acl.timeoutMs,
            signal,
          });
          log.debug({ attempt, authMethod, address: acl.address }, 'consul login');
          return measured(options.metrics, 'login', () =>
            loginListeningLate(acl, { authMethod, bearerToken, meta, signal }, late),
          );
        },
        {
          maxAttempts: 8,
          baseDelayMs: 200,
          maxDelayMs: 5000,
          deadlineMs: 60_000,
          clock: options.clock,
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
            clock: options.clock,
            signal: options.signal,
          })
        : run(options.signal ?? new AbortController().signal);
    token = await bounded(attempts).catch((e: unknown) => {
      if (!IdentityError.is(e, 'TIMEOUT') || options.signal?.aborted || lastError === undefined) throw e;
      // Say why the attempts before the bound failed, not only that time ran out.
      const why = lastError instanceof Error ? lastError.message : String(lastError);
      throw new ConsulError('TIMEOUT', `${e.message}; the last attempt failed: ${why}`, {
        retryable: true,
        cause: lastError,
      });
    });
  } finally {
    if (ownCredentials) await credentials.close();
  }
  try {
    if (options.replication !== false) {
      await waitForReplication(acl, token, { clock: options.clock, signal: options.signal, ...options.replication });
    }
    await options.sink?.(token);
  } catch (e) {
    await undoLogin(acl, token, log);
    throw e;
  }
  log.info({ accessorId: token.accessorId, authMethod, address: acl.address }, 'logged in to Consul');
  return token;
}
