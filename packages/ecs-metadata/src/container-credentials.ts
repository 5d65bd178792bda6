/**
 * The task-role credentials from the ECS agent's credentials endpoint, as a refreshing CredentialProvider.
 * Browser-safe: reading an authorization-token file needs an injected `readFile` (the `./node` entry supplies one).
 * @packageDocumentation
 */
import {
  type Clock,
  createHttpClient,
  type HttpClient,
  IdentityError,
  type Logger,
  type RefreshEvent,
  type RefreshingProvider,
  type RefreshPolicy,
  refreshingProvider,
  registerSecret,
  safeLogger,
  systemClock,
} from '@ecs-identity/core';
import { isAllowedPlainHttpHost, mergeRefreshPolicy, processEnv, safeUrl } from '@ecs-identity/core/internal';
import { type AwsCredentials, parseContainerCredentials } from './aws-credentials.js';
import { EcsMetadataError } from './errors.js';
import { ECS_AGENT_BASE_URL, type Environment } from './fetch-metadata.js';

/** @internal */
export const ENV_RELATIVE_URI = 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI';
/** @internal */
export const ENV_FULL_URI = 'AWS_CONTAINER_CREDENTIALS_FULL_URI';
/** @internal */
export const ENV_AUTH_TOKEN = 'AWS_CONTAINER_AUTHORIZATION_TOKEN';
/** @internal */
export const ENV_AUTH_TOKEN_FILE = 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE';

/** Where the credentials come from and how to authorise: the resolved endpoint. @internal */
export interface CredentialsEndpoint {
  url: URL;
  /** Which variable gave the URL. */
  source: typeof ENV_RELATIVE_URI | typeof ENV_FULL_URI;
  /** The token itself (from `AWS_CONTAINER_AUTHORIZATION_TOKEN`), if set. */
  token?: string;
  /** The token file path (from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`), used when no token is set. */
  tokenFile?: string;
}

/**
 * Resolves the credentials endpoint from the environment (pure: no I/O). Throws `INVALID_CONFIG` when neither URI
 * variable is set or a URI is malformed, `INSECURE_URL` for plain http to a host other than the ECS / EKS link-local
 * addresses and loopback.
 * @public
 */
export function resolveCredentialsEndpoint(
  options: Pick<ContainerCredentialsOptions, 'env' | 'agentUrl' | 'precedence' | 'allowInsecureHttp'> = {},
): CredentialsEndpoint {
  const env = options.env ?? processEnv();
  const value = (name: string) => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const relative = value(ENV_RELATIVE_URI);
  const full = value(ENV_FULL_URI);
  const useFull = full !== undefined && (relative === undefined || (options.precedence ?? 'full') === 'full');
  let url: URL;
  let source: CredentialsEndpoint['source'];
  if (useFull) {
    source = ENV_FULL_URI;
    try {
      url = new URL(full);
    } catch {
      throw new EcsMetadataError(
        'INVALID_CONFIG',
        `${ENV_FULL_URI} is not an absolute URL (it must name a scheme and host)`,
      );
    }
  } else if (relative !== undefined) {
    source = ENV_RELATIVE_URI;
    if (!relative.startsWith('/')) {
      throw new EcsMetadataError('INVALID_CONFIG', `${ENV_RELATIVE_URI} must be a path starting with "/"`);
    }
    try {
      url = new URL(`${(options.agentUrl ?? ECS_AGENT_BASE_URL).replace(/\/+$/, '')}${relative}`);
    } catch {
      throw new EcsMetadataError('INVALID_CONFIG', `${ENV_RELATIVE_URI} does not make a valid URL`);
    }
  } else {
    throw new EcsMetadataError(
      'INVALID_CONFIG',
      `container credentials: neither ${ENV_RELATIVE_URI} nor ${ENV_FULL_URI} is set (is this an ECS task with a task role?)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EcsMetadataError('INVALID_CONFIG', `${source} must be an http or https URL`);
  }
  if (url.hostname === '') throw new EcsMetadataError('INVALID_CONFIG', `${source} does not name a host`);
  if (url.protocol === 'http:' && !options.allowInsecureHttp && !isAllowedPlainHttpHost(url.hostname)) {
    throw new EcsMetadataError(
      'INSECURE_URL',
      `${source} ${safeUrl(url)}: plain http is only allowed to 169.254.170.2, 169.254.170.23, [fd00:ec2::23] and ` +
        'loopback; use https',
    );
  }
  const endpoint: CredentialsEndpoint = { url, source };
  const token = env[ENV_AUTH_TOKEN];
  const tokenFile = value(ENV_AUTH_TOKEN_FILE);
  // An explicitly set but empty token is a misconfiguration, not "no token": say so rather than send none.
  if (token !== undefined && token !== '') endpoint.token = token;
  else if (tokenFile !== undefined) endpoint.tokenFile = tokenFile;
  return endpoint;
}

/**
 * The container credentials' defaults for core's `refresh` / `retry` options: refresh when 5 minutes of validity are
 * left, as the AWS SDKs do, with no spread (the ECS agent answering is local to the task: there is no shared server
 * to protect, and refreshing earlier only gets the same credentials back); a failed refresh is tried again within a
 * quarter of the validity left; a fetch with nothing cached is retried 3 times at once (the AWS SDK's 3 retries).
 * @internal
 */
export const containerCredentialsRefreshDefaults: Readonly<RefreshPolicy> = Object.freeze({
  refresh: Object.freeze({ beforeExpiryMs: 5 * 60_000, latestFraction: 1, spread: 0 }),
  retry: Object.freeze({
    baseDelayMs: 60_000,
    initial: Object.freeze({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 20_000, deadlineMs: 10_000 }),
  }),
});

/** The default overall bound on one fetch (its retries and waits included). */
const DEFAULT_FETCH_TIMEOUT_MS = 10_000;

/**
 * `refresh` / `retry` are core's refresh and retry options; unset fields keep the defaults (refresh 5 minutes before
 * expiry; the README lists the rest).
 * @public
 */
export interface ContainerCredentialsOptions extends RefreshPolicy {
  /** Where to read the `AWS_CONTAINER_*` variables. Default `process.env` when it exists. */
  env?: Environment | undefined;
  /** The ECS agent's base URL, which a RELATIVE URI is appended to. Default `http://169.254.170.2` (tests point it at testkit's). */
  agentUrl?: string | undefined;
  /**
   * Which variable wins when both are set. Default `'full'`: the issue, and aws-sdk-js-v3's `fromHttp` (the first
   * link of its Node default chain). The AWS SDKs reference guide, smithy-rs and `fromContainerMetadata` give the
   * relative URI precedence (`'relative'`). See the README.
   */
  precedence?: 'full' | 'relative' | undefined;
  /** Allow plain http to any host. Default false: only 169.254.170.2, 169.254.170.23, [fd00:ec2::23] and loopback. */
  allowInsecureHttp?: boolean | undefined;

  /**
   * Reads the token file (re-read on every request so a rotated token is picked up). Default in Node: `fs`. Elsewhere
   * there is none, and a configuration with only `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` fails with `INVALID_CONFIG`.
   */
  readFile?: ((path: string) => Promise<string>) | undefined;
  /** Per-request timeout (ms). Default 1000 (the AWS SDK's). */
  timeoutMs?: number | undefined;
  /**
   * The overall bound on one fetch, its retries and waits included (core's `fetchTimeoutMs`): then a retryable
   * `TIMEOUT`. No retry wait starts that would end past it, so a `Retry-After` longer than what is left fails the
   * fetch at once. Default 10_000.
   */
  fetchTimeoutMs?: number | undefined;
  fetch?: typeof globalThis.fetch | undefined;
  /** A whole HTTP client (takes precedence over `fetch`). */
  http?: HttpClient | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  logger?: Logger | undefined;
  onError?: ((error: unknown) => void) | undefined;
  /** Called with each refresh event (refreshed, refresh-failed, expiring). */
  onEvent?: ((event: RefreshEvent) => void) | undefined;
}

// Header values must not carry CR/LF (header injection); tokens are opaque printable-ASCII strings.
function checkToken(token: string, where: string): string {
  if (token === '') throw new EcsMetadataError('INVALID_CONFIG', `${where} is empty`);
  if (!/^[\x20-\x7e]+$/.test(token)) {
    throw new EcsMetadataError(
      'INVALID_CONFIG',
      `${where} contains characters other than printable ASCII (CR, LF...); it cannot be sent as a header`,
    );
  }
  // The token authorises the credentials request: scrub it from any message or log line an endpoint's echo could reach.
  registerSecret(token);
  return token;
}

async function authorization(
  endpoint: CredentialsEndpoint,
  readFile: ContainerCredentialsOptions['readFile'],
): Promise<string | undefined> {
  if (endpoint.token !== undefined) return checkToken(endpoint.token, ENV_AUTH_TOKEN);
  if (endpoint.tokenFile === undefined) return undefined;
  if (readFile === undefined) {
    throw new EcsMetadataError(
      'INVALID_CONFIG',
      `${ENV_AUTH_TOKEN_FILE} is set, but this runtime cannot read files: pass readFile (Node reads the file itself)`,
    );
  }
  let text: string;
  try {
    text = await readFile(endpoint.tokenFile);
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    throw new EcsMetadataError(
      'FILE_IO',
      `cannot read the authorization token file ${endpoint.tokenFile} (${ENV_AUTH_TOKEN_FILE})` +
        `${typeof code === 'string' ? `: ${code}` : ''}`,
      { cause: e },
    );
  }
  // A trailing newline (echo > file) is not part of the token.
  return checkToken(text.trim(), `the authorization token file ${endpoint.tokenFile} (${ENV_AUTH_TOKEN_FILE})`);
}

/**
 * The task role's credentials, refreshed ahead of expiry (5 minutes by default). Reads
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI` (wins when both are set; see `precedence`) or `..._RELATIVE_URI`,
 * authorises with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or the content of `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`
 * (re-read on every request). Each credential keeps `roleArn` and `accountId` when the endpoint sends them.
 * The endpoint is resolved at once, so a missing or insecure configuration throws here.
 *
 * @example
 * ```ts
 * import { containerCredentials } from '@ecs-identity/ecs-metadata';
 * const creds = containerCredentials();
 * const { accessKeyId, secretAccessKey, sessionToken, roleArn } = await creds.get();
 * await creds.close();
 * ```
 * @public
 */
export function containerCredentials(options: ContainerCredentialsOptions = {}): RefreshingProvider<AwsCredentials> {
  const endpoint = resolveCredentialsEndpoint(options);
  const clock = options.clock ?? systemClock;
  const log = safeLogger(options.logger);
  const env = options.env ?? processEnv();
  if (env[ENV_FULL_URI]?.trim() && env[ENV_RELATIVE_URI]?.trim()) {
    log.warn(
      { using: endpoint.source },
      `container credentials: both ${ENV_FULL_URI} and ${ENV_RELATIVE_URI} are set; using ${endpoint.source}`,
    );
  }
  const http = options.http ?? createHttpClient({ fetch: options.fetch, allowInsecureHttp: options.allowInsecureHttp });
  // The ECS agent's credentials URI ends in a per-task credentials id that works as a capability: keep it out of
  // messages and logs like a token (core scrubs registered values everywhere).
  const lastSegment = endpoint.url.pathname.split('/').pop() ?? '';
  if (lastSegment.length >= 16) {
    registerSecret(lastSegment);
    // Messages may show it decoded; a segment that is not valid percent-encoding has only the raw form.
    const decoded = decodeOrUndefined(lastSegment);
    if (decoded !== undefined && decoded !== lastSegment) registerSecret(decoded);
  }
  const where = safeUrl(endpoint.url);
  const fetchTimeoutMs = options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;

  const fetchOnce = async (signal: AbortSignal): Promise<AwsCredentials> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = await authorization(endpoint, options.readFile);
    if (token !== undefined) headers.authorization = token;
    const res = await http.request({ url: endpoint.url, headers, timeoutMs: options.timeoutMs ?? 1000, signal });
    return parseContainerCredentials(res.text(), clock.now(), `container credentials from ${where}`);
  };

  return refreshingProvider<AwsCredentials>({
    name: 'container credentials',
    fetch: async (signal) => {
      try {
        return await fetchOnce(signal);
      } catch (e) {
        if (
          !(e instanceof IdentityError) ||
          !['HTTP_STATUS', 'NETWORK', 'TIMEOUT', 'RESPONSE_TOO_LARGE'].includes(e.code)
        ) {
          throw e;
        }
        const hint = e.status === 401 || e.status === 403 ? ' (check the authorization token)' : '';
        throw new EcsMetadataError(
          'CREDENTIALS_UNAVAILABLE',
          `container credentials from ${where}: ${e.message}${hint}`,
          {
            cause: e,
            retryable: e.retryable,
            status: e.status,
          },
        );
      }
    },
    ...mergeRefreshPolicy(containerCredentialsRefreshDefaults, options),
    fetchTimeoutMs,
    onError: options.onError,
    onEvent: options.onEvent,
    logger: options.logger,
    random: options.random,
    clock,
  });
}

function decodeOrUndefined(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // URIError: a stray '%'
  }
}
