/**
 * The AWS SDK's STS calls under the SDK's one network policy: a smithy `HttpHandler` that sends each request through
 * core's transport (URL policy, per-request timeout, the caller's abort, the response size cap, a body cut short
 * noticed at once), and the mapping of whatever the STS client throws to an {@link IdentityError} that holds nothing
 * from the AWS SDK: its errors keep the raw response (an AssumeRole answer carries the assumed role's secret key and
 * session token) and request state in hidden fields that `util.inspect(e, { showHidden: true })` prints.
 * Browser-safe, and free of any AWS SDK import: the client itself is loaded lazily by the attestation.
 * @packageDocumentation
 */
import { type HttpClient, IdentityError, scrubSecrets } from '@ecs-identity/core';
import { parseRetryAfter, responseHeaders } from '@ecs-identity/core/internal';
import { AthenzError } from './errors.js';

/** The parts of a smithy `HttpRequest` the handler reads (`@smithy/types` `HttpRequest`). */
interface SmithyRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number | undefined;
  path: string;
  query?: Record<string, string | string[] | null> | undefined;
  headers: Record<string, string>;
  body?: unknown | undefined;
}

/** A smithy `AbortSignal`: a real one, or the SDK's own legacy shape (`aborted` and an `onabort` slot). */
interface SmithyAbortSignal {
  readonly aborted: boolean;
}

/** What the handler answers: a smithy `HttpResponse` (status, lower-case headers, the whole body). */
interface SmithyResponse {
  statusCode: number;
  reason?: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/**
 * The smithy `HttpHandler` contract (`handle` plus the config hooks the SDK calls). @internal
 */
export interface StsRequestHandler {
  handle(request: SmithyRequest, options?: { abortSignal?: SmithyAbortSignal }): Promise<{ response: SmithyResponse }>;
  updateHttpClientConfig(key: never, value: never): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
}

// The runtime sets these from the URL and the body; browsers refuse to be told them, and a second value would only
// disagree with the one that was signed (the signed `host` is the URL's, port included).
const MANAGED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'expect']);

function urlOf(request: SmithyRequest): string {
  const port = request.port ? `:${request.port}` : '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (value === null) params.append(key, '');
    else for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  }
  const query = params.toString();
  const path = request.path.startsWith('/') ? request.path : `/${request.path}`;
  return `${request.protocol}//${request.hostname}${port}${path}${query ? `?${query}` : ''}`;
}

/** A standard AbortSignal for the transport from whatever the SDK passed (it forwards the caller's). */
function standardSignal(signal: SmithyAbortSignal | undefined): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  const legacy = signal as { onabort?: unknown };
  if (signal.aborted) controller.abort();
  else {
    const previous = legacy.onabort;
    legacy.onabort = function (this: unknown, ...args: unknown[]) {
      controller.abort();
      return typeof previous === 'function' ? previous.apply(this, args) : undefined;
    };
  }
  return controller.signal;
}

/**
 * A smithy `HttpHandler` on core's transport, for `new STSClient({ requestHandler })`. Every status is handed back to
 * the SDK (it reads STS's error XML); network failures, timeouts, an oversized or cut-short body and a refused URL
 * reject with core's `IdentityError`s.
 * @internal
 */
export function stsRequestHandler(http: HttpClient, timeoutMs: number): StsRequestHandler {
  return {
    async handle(request, options = {}) {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers ?? {})) {
        if (!MANAGED_HEADERS.has(name.toLowerCase())) headers[name] = value;
      }
      const body = request.body;
      if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
        throw new AthenzError(
          'INVALID_ARGUMENT',
          'sts: the AWS SDK built a request body that is not a string or bytes',
        );
      }
      const signal = standardSignal(options.abortSignal);
      const res = await http.request({
        method: request.method,
        url: urlOf(request),
        headers,
        timeoutMs,
        acceptStatus: () => true,
        body: body ?? undefined,
        signal,
      });
      const out: Record<string, string> = {};
      // not res.headers: that would make a fetch Headers (in Node, loading the fetch implementation) for nothing
      responseHeaders(res).forEach((value, name) => {
        out[name.toLowerCase()] = value;
      });
      return { response: { statusCode: res.status, headers: out, body: res.body } };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  };
}

// core's codes that are about the request we were asked to make, not about STS: they are thrown as they are.
const CONFIGURATION_CODES = new Set(['INSECURE_URL', 'INVALID_ARGUMENT', 'INVALID_CONFIG']);

/** The IdentityError our handler threw, if the SDK passed it on (it may have decorated it, never wrapped it). */
function transportError(error: unknown): IdentityError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (e instanceof IdentityError) return e;
  }
  return undefined;
}

/**
 * What the STS client threw, as an IdentityError that keeps nothing of the AWS SDK's error object:
 * - our transport's errors (network, timeout, size cap, cut-short body): `ATTESTATION_FAILED` with that error (a
 *   fresh copy without what the SDK attached to it) as the cause, retryable as it was; a refused URL or bad argument
 *   is thrown as its own code;
 * - the caller's abort: `ABORTED`;
 * - STS's answers (`AccessDenied`, `Throttling`, a body that could not be read...): `ATTESTATION_FAILED` naming the
 *   error, the status and STS's message (scrubbed of every registered secret), retryable for 429, 5xx and throttling,
 *   with its `Retry-After` as `retryAfterMs`, and no cause.
 * @internal
 */
export function stsError(error: unknown, roleArn: string, signal: AbortSignal | undefined): IdentityError {
  const where = `sts:AssumeRole into ${roleArn}`;
  if (signal?.aborted) return new AthenzError('ABORTED', `${where} was aborted by the caller`);
  const ours = transportError(error);
  if (ours !== undefined) {
    if (ours.code === 'ABORTED') return new AthenzError('ABORTED', `${where} was aborted`);
    // A copy without the cause: the SDK's error object holds the raw answer (credentials) in hidden fields.
    const copy = new IdentityError(ours.code, ours.message, {
      retryable: ours.retryable,
      status: ours.status,
      retryAfterMs: ours.retryAfterMs,
    });
    if (CONFIGURATION_CODES.has(ours.code)) return copy;
    return new AthenzError('ATTESTATION_FAILED', `${where} failed: ${ours.message}`, {
      retryable: ours.retryable,
      cause: copy,
    });
  }
  const e = (error ?? {}) as {
    name?: unknown | undefined;
    message?: unknown | undefined;
    $metadata?: { httpStatusCode?: unknown } | undefined;
    $response?: { headers?: Record<string, unknown> } | undefined;
  };
  const name = typeof e.name === 'string' ? e.name : 'Error';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  // STS's Retry-After, read from the answer the SDK keeps (only this header is taken from it).
  const retryAfter = e.$response?.headers?.['retry-after'];
  const retryAfterMs = typeof retryAfter === 'string' ? parseRetryAfter(retryAfter, Date.now()) : undefined;
  // The SDK's own text (STS's <Message>, or its deserializer's complaint), never its hidden fields.
  const text = typeof e.message === 'string' ? e.message.slice(0, 500) : '';
  // (Without a status it is the SDK's own failure, e.g. its configuration: trying again would not help.)
  const retryable =
    (status !== undefined && (status === 429 || status >= 500)) || /^(Throttling|RequestLimitExceeded)/.test(name);
  return new AthenzError(
    'ATTESTATION_FAILED',
    scrubSecrets(`${where} failed (${name}${status ? `, HTTP ${status}` : ''})${text ? `: ${text}` : ''}`),
    { retryable, status: status || undefined, retryAfterMs },
  );
}
