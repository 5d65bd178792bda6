/**
 * Fetching the task metadata: v4, then v3, then v2, each with a per-attempt timeout and a bounded retry of transient
 * errors; one error listing every endpoint tried when none answers. Browser-safe (fetch only).
 * @packageDocumentation
 */
import {
  type Clock,
  createHttpClient,
  type HttpClient,
  IdentityError,
  type Logger,
  type RetryOptions,
  retry,
  safeLogger,
} from '@ecs-identity/core';
import { type Environment as CoreEnvironment, processEnv, safeUrl } from '@ecs-identity/core/internal';
import { EcsMetadataError } from './errors.js';
import { type ContainerMetadata, parseContainerMetadata, parseTaskMetadata, type TaskMetadata } from './metadata.js';
import { type TaskIdentity, taskIdentity } from './task-identity.js';

/** The environment as a plain record (`process.env` in Node). @public */
export type Environment = CoreEnvironment;

/** The fixed address of the ECS agent (v2 metadata and relative credentials URIs). @internal */
export const ECS_AGENT_BASE_URL = 'http://169.254.170.2';

/** @public */
export interface MetadataFetchOptions {
  /** Where to read `ECS_CONTAINER_METADATA_URI_V4` and `ECS_CONTAINER_METADATA_URI`. Default `process.env` if any. */
  env?: Environment | undefined;
  /** The ECS agent's base URL, where the v2 endpoint is. Default `http://169.254.170.2` (tests point it at testkit's). */
  agentUrl?: string | undefined;
  /** Per-attempt timeout (ms). Default 1000: the agent is local, a slow answer means it is not there. */
  timeoutMs?: number | undefined;
  /**
   * How each endpoint is retried on transient errors (5xx, 429, network, timeout), core's retry options: `maxAttempts`
   * (default 3), `baseDelayMs` (first backoff cap, full jitter, doubling; default 100), `maxDelayMs` (default 20_000),
   * `deadlineMs` (the bound on one endpoint's attempts and waits; default 10_000).
   */
  retry?: Pick<RetryOptions, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs' | 'deadlineMs'> | undefined;
  signal?: AbortSignal | undefined;
  /** An injected fetch (default: core's transport: `node:http` in Node, the global fetch in browsers). */
  fetch?: typeof globalThis.fetch | undefined;
  /** Or a whole HTTP client (takes precedence over `fetch`). */
  http?: HttpClient | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  logger?: Logger | undefined;
}

/** @public */
export interface TaskMetadataOptions extends MetadataFetchOptions {
  /** Ask for `/taskWithTags` (v4/v3) or `/v2/metadataWithTags` (v2): EC2 only; needs ecs:ListTagsForResource. */
  withTags?: boolean | undefined;
}

interface Endpoint {
  /** How the endpoint is named in the error: the variable, or "v2". */
  name: string;
  /** The URL, or why there is none. */
  url?: URL;
  skipped?: string;
}

function fromEnv(env: Environment, variable: string, path: string): Endpoint {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return { name: variable, skipped: 'not set' };
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { name: variable, skipped: 'not an absolute URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { name: variable, skipped: 'not an http(s) URL' };
  // The variable names this container's endpoint; the task document is below it.
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
  return { name: variable, url };
}

function v2Endpoint(base: string, path: string): Endpoint {
  try {
    const url = new URL(base);
    url.pathname = `${url.pathname.replace(/\/+$/, '')}${path}`;
    return { name: 'v2', url };
  } catch {
    throw new EcsMetadataError('INVALID_ARGUMENT', 'agentUrl is not an absolute URL');
  }
}

function describeFailure(error: unknown): string {
  if (error instanceof IdentityError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** Tries each endpoint in order; returns the first document that parses. */
async function fetchFirst<T>(
  endpoints: Endpoint[],
  parse: (text: string, source: string) => T,
  what: string,
  options: MetadataFetchOptions,
): Promise<{ value: T; url: string }> {
  const http = options.http ?? createHttpClient({ fetch: options.fetch });
  const log = safeLogger(options.logger);
  const failures: string[] = [];
  const causes: unknown[] = [];
  for (const endpoint of endpoints) {
    if (endpoint.url === undefined) {
      failures.push(`${endpoint.name}: ${endpoint.skipped}`);
      continue;
    }
    const url = endpoint.url;
    const where = safeUrl(url);
    try {
      const value = await retry(
        async (_attempt, signal) => {
          const res = await http.request({
            url,
            headers: { accept: 'application/json' },
            timeoutMs: options.timeoutMs ?? 1000,
            signal,
          });
          return parse(res.text(), `${what} from ${where}`);
        },
        {
          maxAttempts: options.retry?.maxAttempts ?? 3,
          baseDelayMs: options.retry?.baseDelayMs ?? 100,
          maxDelayMs: options.retry?.maxDelayMs,
          deadlineMs: options.retry?.deadlineMs ?? 10_000,
          signal: options.signal,
          clock: options.clock,
          random: options.random,
          onRetry: ({ error, attempt, delayMs }) =>
            log.debug({ url: where, attempt, delayMs, error: describeFailure(error) }, `retrying ${what}`),
        },
      );
      return { value, url: where };
    } catch (error) {
      // The caller gave up: report that, not a list of endpoints.
      if (IdentityError.is(error, 'ABORTED')) throw error;
      log.debug({ url: where, error: describeFailure(error) }, `${what} endpoint failed; trying the next`);
      failures.push(`${endpoint.name === 'v2' ? '' : `${endpoint.name} `}${where}: ${describeFailure(error)}`);
      causes.push(error);
    }
  }
  const retryable = causes.some((e) => e instanceof IdentityError && e.retryable);
  throw new EcsMetadataError(
    'METADATA_UNAVAILABLE',
    `could not read the ${what}; tried:\n  - ${failures.join('\n  - ')}`,
    {
      retryable,
      cause: new AggregateError(causes, `${what}: every endpoint failed`),
    },
  );
}

/**
 * Reads this task's metadata: `${ECS_CONTAINER_METADATA_URI_V4}/task`, then `${ECS_CONTAINER_METADATA_URI}/task`,
 * then `http://169.254.170.2/v2/metadata`. Transient errors are retried per endpoint; a 4xx or a malformed
 * document moves on to the next endpoint. When none answers, throws `METADATA_UNAVAILABLE` listing each endpoint
 * and why it failed (a caller abort throws `ABORTED` at once).
 *
 * @example
 * ```ts
 * import { getTaskMetadata, taskIdentity } from '@ecs-identity/ecs-metadata';
 * const { region, accountId, taskId, clusterArn } = taskIdentity(await getTaskMetadata());
 * ```
 * @public
 */
export async function getTaskMetadata(options: TaskMetadataOptions = {}): Promise<TaskMetadata> {
  const env = options.env ?? processEnv();
  const taskPath = options.withTags ? '/taskWithTags' : '/task';
  const endpoints = [
    fromEnv(env, 'ECS_CONTAINER_METADATA_URI_V4', taskPath),
    fromEnv(env, 'ECS_CONTAINER_METADATA_URI', taskPath),
    v2Endpoint(options.agentUrl ?? ECS_AGENT_BASE_URL, options.withTags ? '/v2/metadataWithTags' : '/v2/metadata'),
  ];
  return (await fetchFirst(endpoints, parseTaskMetadata, 'task metadata', options)).value;
}

/** {@link taskIdentity} of {@link getTaskMetadata}: region, account, task id, cluster ARN... @public */
export async function getTaskIdentity(options: TaskMetadataOptions = {}): Promise<TaskIdentity> {
  return taskIdentity(await getTaskMetadata(options));
}

/**
 * Reads this container's metadata: `${ECS_CONTAINER_METADATA_URI_V4}`, then `${ECS_CONTAINER_METADATA_URI}`.
 * (v2 has no per-container document.) Throws `METADATA_UNAVAILABLE` listing what was tried.
 * @public
 */
export async function getContainerMetadata(options: MetadataFetchOptions = {}): Promise<ContainerMetadata> {
  const env = options.env ?? processEnv();
  const endpoints = [fromEnv(env, 'ECS_CONTAINER_METADATA_URI_V4', ''), fromEnv(env, 'ECS_CONTAINER_METADATA_URI', '')];
  return (await fetchFirst(endpoints, parseContainerMetadata, 'container metadata', options)).value;
}
