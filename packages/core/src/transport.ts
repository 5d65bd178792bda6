/**
 * The one small HTTP layer every provider uses: per-request timeout (covering the body too), a response size cap
 * enforced while reading, status → typed error, plain-http refusal, and the Node `https.Agent` hook for mTLS and
 * custom CAs. Browser-safe: no `node:*` import; in Node requests go through `node:http` / `node:https`
 * (transport-node.ts: Node's global fetch takes no agent), in browsers through `globalThis.fetch`.
 *
 * @example
 * ```ts
 * const http = createHttpClient({ timeoutMs: 2000 });
 * const res = await http.request({ url: 'http://169.254.170.2/v2/metadata' });
 * const doc = res.json<{ TaskARN: string }>();
 * ```
 * @packageDocumentation
 */
import type { Clock } from './clock.js';
import { type CoreErrorCode, errorClass, IdentityError } from './errors.js';
import { parseRetryAfter } from './retry.js';
import { scrubSecrets } from './secrets.js';
import { canRequestWithNode, nodeGlobalAgent, nodeRequest, RawHeaders } from './transport-node.js';
import { USER_AGENT } from './version.js';

const CoreError = errorClass<CoreErrorCode>();

/** @public */
export interface HttpRequest {
  method?: string | undefined; // default GET
  url: string | URL;
  headers?: Record<string, string> | undefined;
  body?: string | Uint8Array | undefined;
  /** Per-request timeout in ms, from sending until the whole body is read. Default: the client's (5000). */
  timeoutMs?: number | undefined;
  /** Response size cap in bytes, enforced while reading. Default: the client's (1 MiB). */
  maxResponseBytes?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Statuses that are returned instead of thrown. Default: 200-299. */
  acceptStatus?: ((status: number) => boolean) | undefined;
}

/** @public */
export interface HttpResponse {
  status: number;
  /**
   * The response headers as a fetch `Headers`, made when first read (in Node the first `Headers` of a process loads
   * Node's fetch implementation, which a request through node:http does not need otherwise).
   */
  headers: Headers;
  url: string;
  body: Uint8Array;
  text(): string;
  /** Parses the body as JSON; INVALID_RESPONSE naming the URL when it is not. */
  json<T = unknown>(): T;
}

/** @public */
export interface HttpClient {
  request(req: HttpRequest): Promise<HttpResponse>;
}

/** @public */
export interface HttpClientOptions {
  /**
   * An injected fetch. Default: in Node, `node:http` / `node:https` (which take `agent`); elsewhere
   * `globalThis.fetch`. An injected fetch gets `agent` as an `init.agent` function of the URL (node-fetch's form).
   */
  fetch?: typeof globalThis.fetch | undefined;
  /** Default per-request timeout (ms). Default 5000. */
  timeoutMs?: number | undefined;
  /** Default size cap (bytes). Default 1 MiB. */
  maxResponseBytes?: number | undefined;
  /** Allow plain http to any host (default: only loopback and the ECS link-local addresses). */
  allowInsecureHttp?: boolean | undefined;
  /** Sent as `User-Agent` unless a request sets its own (Node only; browsers ignore it). Default `ecs-identity/<version>`. */
  userAgent?: string | undefined;
  /**
   * Node only: an https.Agent (mTLS, custom CA), or a function returning the current one (rotation: it is called
   * for every request). Used for `https:` URLs only. Ignored by browsers and by a fetch that has no `agent` option.
   */
  agent?: unknown | undefined;
  /** Timers for the per-request timeout (tests inject one). Default: the global setTimeout. */
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout' | 'now'> | undefined;
}

/** Default per-request timeout. @public */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Default response size cap (1 MiB). @public */
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** How much of an error response's body {@link HttpStatusError.responseText} keeps. @public */
export const MAX_ERROR_TEXT_BYTES = 64 * 1024;
const MESSAGE_TEXT_CHARS = 200;

/** @public */
export interface HttpStatusErrorInit {
  method: string;
  url: string | URL;
  status: number;
  responseText?: string | undefined;
  retryAfterMs?: number | undefined;
  /** Overrides the default (429 and 5xx). */
  retryable?: boolean | undefined;
}

/**
 * Non-2xx answers throw HttpStatusError (code HTTP_STATUS, `status`, `retryable` for 429 and 5xx,
 * `retryAfterMs` from Retry-After, `responseText` = the body, up to 64 KiB). Network errors throw NETWORK (retryable),
 * timeouts TIMEOUT (retryable), oversize RESPONSE_TOO_LARGE, caller aborts ABORTED. Messages name method and URL
 * (query string and credentials removed).
 * @public
 */
export class HttpStatusError extends IdentityError<'HTTP_STATUS'> {
  readonly responseText: string;
  readonly method: string;
  /** Without query string or userinfo. */
  readonly url: string;

  constructor(init: HttpStatusErrorInit) {
    const url = safeUrl(init.url);
    const responseText = truncateUtf8(scrubSecrets(init.responseText ?? ''), MAX_ERROR_TEXT_BYTES);
    const excerpt = responseText.trim().replace(/\s+/g, ' ').slice(0, MESSAGE_TEXT_CHARS);
    const message = `${init.method} ${url} answered ${init.status}${excerpt ? `: ${excerpt}` : ''}`;
    const retryable = init.retryable ?? isRetryableStatus(init.status);
    super('HTTP_STATUS', scrubSecrets(message), {
      status: init.status,
      retryable,
      retryAfterMs: init.retryAfterMs,
    });
    this.name = 'HttpStatusError';
    this.responseText = responseText;
    this.method = init.method;
    this.url = url;
  }
}

/** 429 and 5xx may succeed when tried again; other statuses will not. @public */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Creates the HTTP client. Plain `http:` is refused (INSECURE_URL, before any I/O) unless the host is loopback or an
 * ECS link-local address, or `allowInsecureHttp` is set.
 *
 * @example
 * ```ts
 * import { Agent } from 'node:https';
 * const http = createHttpClient({ agent: new Agent({ ca, cert, key }), timeoutMs: 10_000 });
 * const res = await http.request({ method: 'POST', url, headers: { 'content-type': 'application/json' }, body });
 * ```
 * @public
 */
export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const defaults = {
    timeoutMs: checkTimeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, 'timeoutMs'),
    maxResponseBytes: checkSize(options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, 'maxResponseBytes'),
  };
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new CoreError('INVALID_ARGUMENT', 'fetch must be a function');
  }
  const setTimer = options.clock
    ? (fn: () => void, ms: number) => options.clock?.setTimeout(fn, ms)
    : (fn: () => void, ms: number) => globalThis.setTimeout(fn, ms);
  const clearTimer = options.clock
    ? (h: unknown) => options.clock?.clearTimeout(h)
    : (h: unknown) => globalThis.clearTimeout(h as ReturnType<typeof setTimeout>);
  const now = () => options.clock?.now() ?? Date.now();
  const userAgent = options.userAgent ?? USER_AGENT;

  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      if (req === null || typeof req !== 'object') throw new CoreError('INVALID_ARGUMENT', 'request must be an object');
      const method = (req.method ?? 'GET').toUpperCase();
      if (!TOKEN.test(method)) throw new CoreError('INVALID_ARGUMENT', 'request method is not a valid HTTP method');
      const url = parseRequestUrl(req.url, method, options.allowInsecureHttp === true);
      const where = `${method} ${safeUrl(url)}`;
      const timeoutMs = checkTimeout(req.timeoutMs ?? defaults.timeoutMs, 'timeoutMs');
      const maxBytes = checkSize(req.maxResponseBytes ?? defaults.maxResponseBytes, 'maxResponseBytes');
      const headers = checkHeaders(req.headers, where);
      if (req.body !== undefined && (method === 'GET' || method === 'HEAD')) {
        throw new CoreError('INVALID_ARGUMENT', `${where}: a ${method} request cannot have a body`);
      }
      if (req.body !== undefined && typeof req.body !== 'string' && !(req.body instanceof Uint8Array)) {
        throw new CoreError('INVALID_ARGUMENT', `${where}: body must be a string or a Uint8Array`);
      }
      if (req.signal?.aborted) throw aborted(where, req.signal.reason);

      const node = isNode();
      if (node && userAgent && !Object.keys(headers).some((h) => h.toLowerCase() === 'user-agent')) {
        headers['user-agent'] = userAgent;
      }
      const viaNode = options.fetch === undefined && node && canRequestWithNode();
      const fetchFn = viaNode ? undefined : (options.fetch ?? defaultFetch());

      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimer(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      const onCallerAbort = () => controller.abort();
      req.signal?.addEventListener('abort', onCallerAbort, { once: true });
      // Which of the two aborts fired decides the code: ours is a TIMEOUT, the caller's an ABORTED.
      const failure = (cause: unknown): IdentityError => {
        if (cause instanceof IdentityError) return cause;
        if (timedOut) {
          return new CoreError('TIMEOUT', `${where} timed out after ${timeoutMs} ms`, {
            retryable: true,
            cause: safeCause(cause),
          });
        }
        if (req.signal?.aborted) return aborted(where, safeCause(cause));
        return new CoreError('NETWORK', scrubSecrets(`${where} failed: ${describe(cause)}`), {
          retryable: true,
          cause: safeCause(cause),
        });
      };

      try {
        const init: RequestInit & { agent?: unknown } = {
          method,
          headers,
          signal: controller.signal,
          // A redirect could lead a credential request to another host or to plain http: never follow one.
          redirect: 'manual',
        };
        if (req.body !== undefined) init.body = req.body as BodyInit;
        // The agent of an `https:` request: the given one, or what the given function returns now (rotation).
        const agentFor = (https: boolean): unknown => {
          const agent = options.agent;
          if (!https || agent === undefined) return undefined;
          return typeof agent === 'function' ? (agent as () => unknown)() : agent;
        };
        // A body cut short (the connection closed before Content-Length) fails now, not at the timeout. (The error is
        // made only then: an error captures a stack, and every request would pay for one it almost never needs.)
        const onTruncated = () => {
          if (controller.signal.aborted) return;
          const message = `${where}: the connection closed before the whole response body arrived`;
          controller.abort(new CoreError('NETWORK', message, { retryable: true }));
        };
        if (fetchFn !== undefined && options.agent !== undefined) {
          // node-fetch calls this for each hop with the parsed URL; only https gets the TLS agent, watched.
          init.agent = (u: { protocol?: string }) => {
            const https = u.protocol === 'https:';
            return watchedAgent(agentFor(https), https, onTruncated);
          };
        }
        let res: Response;
        try {
          res =
            fetchFn === undefined
              ? ((await nodeRequest(url, {
                  method,
                  headers,
                  body: req.body,
                  signal: controller.signal,
                  agent: agentFor(url.protocol === 'https:'),
                  onTruncated,
                })) as unknown as Response)
              : await fetchFn(url.href, init);
        } catch (e) {
          throw failure(e);
        }
        const accept = req.acceptStatus ?? ((s: number) => s >= 200 && s <= 299);
        const isError = !accept(res.status);
        // An error body is read with a smaller cap: only responseText (64 KiB) keeps it. The margin lets a secret
        // that straddles 64 KiB be scrubbed whole before the text is cut.
        const cap = isError ? Math.min(maxBytes, MAX_ERROR_TEXT_BYTES + 4096) : maxBytes;
        let body: Uint8Array;
        try {
          body = await readBody(res, cap, !isError, where, controller.signal, () => controller.abort());
        } catch (e) {
          throw failure(e);
        }
        // Read without a Headers object; HttpResponse.headers makes one if it is read.
        const head = res.headers as unknown as HeaderReader;
        if (isError) {
          if (res.type === 'opaqueredirect' || (res.status >= 300 && res.status <= 399)) {
            throw new HttpStatusError({
              method,
              url,
              status: res.status,
              responseText: 'redirect not followed',
              retryable: false,
            });
          }
          const retryAfter = head.get('retry-after');
          const retryAfterMs = retryAfter === null ? undefined : parseRetryAfter(retryAfter, now());
          throw new HttpStatusError({
            method,
            url,
            status: res.status,
            responseText: decode(body),
            retryAfterMs,
          });
        }
        return makeResponse(res.status, head, url.href, body, where);
      } finally {
        clearTimer(timer);
        req.signal?.removeEventListener('abort', onCallerAbort);
      }
    },
  };
}

/**
 * Sends `req` (with `Accept: application/json` unless set) and parses the answer as JSON.
 * @example
 * ```ts
 * const doc = await requestJson<{ TaskARN: string }>(http, { url: `${base}/task` });
 * ```
 * @public
 */
export async function requestJson<T = unknown>(client: HttpClient, req: HttpRequest): Promise<T> {
  const headers = { ...req.headers };
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'accept')) headers.accept = 'application/json';
  const res = await client.request({ ...req, headers });
  return res.json<T>();
}

const LINK_LOCAL_HOSTS = new Set(['169.254.170.2', '169.254.170.23', '[fd00:ec2::23]']);

/** True when plain http may go to this host without an opt-in (loopback, 169.254.170.2, 169.254.170.23, [fd00:ec2::23]). @public */
export function isAllowedPlainHttpHost(hostname: string): boolean {
  if (typeof hostname !== 'string' || hostname === '') return false;
  let host: string;
  try {
    // The WHATWG parser canonicalises (127.1 → 127.0.0.1, [0:0::1] → [::1], case); bare IPv6 gets its brackets.
    const bare = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
    host = new URL(`http://${bare}/`).hostname;
  } catch {
    return false;
  }
  if (host === 'localhost' || host === 'localhost.' || host === '[::1]') return true;
  if (LINK_LOCAL_HOSTS.has(host)) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  // IPv4-mapped loopback ([::ffff:127.x.y.z] canonicalises to [::ffff:7fxx:yyzz]).
  return /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(host);
}

/** `application/x-www-form-urlencoded` encoding of a record (keys in the given order). @public */
export function formEncode(fields: Record<string, string> | [string, string][]): string {
  const entries = Array.isArray(fields) ? fields : Object.entries(fields ?? {});
  const params = new URLSearchParams();
  for (const entry of entries) {
    const [k, v] = Array.isArray(entry) ? entry : [undefined, undefined];
    if (typeof k !== 'string' || typeof v !== 'string') {
      throw new CoreError(
        'INVALID_ARGUMENT',
        `formEncode: field ${JSON.stringify(String(k))} must map a string to a string`,
      );
    }
    params.append(k, v);
  }
  return params.toString();
}

/** Removes query string, fragment and userinfo from a URL for use in messages. @public */
export function safeUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '[invalid URL]';
  }
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return scrubSecrets(u.href);
}

// ---------------------------------------------------------------------------------------------------------------

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function parseRequestUrl(input: string | URL, method: string, allowInsecure: boolean): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new CoreError('INVALID_ARGUMENT', `${method}: url is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new CoreError('INVALID_ARGUMENT', `${method} ${safeUrl(url)}: url must be http: or https:`);
  }
  if (url.protocol === 'http:' && !allowInsecure && !isAllowedPlainHttpHost(url.hostname)) {
    throw new CoreError(
      'INSECURE_URL',
      `${method} ${safeUrl(url)}: plain http is only allowed to loopback and the ECS link-local addresses; use https (or set allowInsecureHttp)`,
    );
  }
  return url;
}

function checkTimeout(ms: unknown, field: string): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new CoreError('INVALID_ARGUMENT', `${field} must be a positive number of milliseconds`);
  }
  return ms;
}

function checkSize(n: unknown, field: string): number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new CoreError('INVALID_ARGUMENT', `${field} must be a positive integer number of bytes`);
  }
  return n;
}

function checkHeaders(headers: Record<string, string> | undefined, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  if (headers === null || typeof headers !== 'object') {
    throw new CoreError('INVALID_ARGUMENT', `${where}: headers must be an object`);
  }
  for (const [name, value] of Object.entries(headers)) {
    // Name the header but never echo its value: it may be a token.
    if (!TOKEN.test(name)) throw new CoreError('INVALID_ARGUMENT', `${where}: invalid header name`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      throw new CoreError('INVALID_ARGUMENT', `${where}: header ${name} must be a string without CR, LF or NUL`);
    }
    out[name] = value;
  }
  return out;
}

function aborted(where: string, cause: unknown): IdentityError {
  return new CoreError('ABORTED', `${where} was aborted by the caller`, { cause });
}

/** A network error's reason, with any URL in it cut down to {@link safeUrl} (node-fetch quotes the full URL). */
function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const causeCode = (e.cause as { code?: unknown } | undefined)?.code;
    const c = typeof code === 'string' ? code : typeof causeCode === 'string' ? causeCode : undefined;
    // node-fetch wraps the socket error as "request to <url> failed, reason: <reason>"; the reason is the news.
    const text = stripUrls(e.message.replace(/^request to \S+ failed, reason: /, ''));
    return c && !text.includes(c) ? `${text} (${c})` : text;
  }
  return stripUrls(String(e));
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi;

function stripUrls(text: string): string {
  return scrubSecrets(text.replace(URL_IN_TEXT, (m) => safeUrl(m.replace(/[.,;:)\]]+$/, ''))));
}

/**
 * The underlying error, kept as the cause; when its message or stack quotes the request URL, a copy (same
 * prototype and fields) with the URLs cut down, so printing the cause cannot leak a query-string secret.
 */
function safeCause(e: unknown): unknown {
  if (!(e instanceof Error)) return e;
  const message = stripUrls(e.message);
  const stack = typeof e.stack === 'string' ? stripUrls(e.stack) : e.stack;
  if (message === e.message && stack === e.stack) return e;
  const copy = Object.create(Object.getPrototypeOf(e)) as Error;
  for (const [k, v] of Object.entries(e)) (copy as unknown as Record<string, unknown>)[k] = v;
  const own = (name: string, v: unknown) =>
    Object.defineProperty(copy, name, { value: v, enumerable: false, configurable: true, writable: true });
  own('name', e.name);
  own('message', message);
  own('stack', stack);
  if (e.cause !== undefined) own('cause', safeCause(e.cause));
  return copy;
}

interface NodeAgent {
  addRequest(req: unknown, options: unknown): void;
}
interface NodeClientRequest {
  once(event: 'response', listener: (res: NodeIncomingMessage) => void): void;
}
interface NodeIncomingMessage {
  readonly complete: boolean;
  once(event: 'close', listener: () => void): void;
}

/**
 * `agent` (or Node's global agent) seen through an object whose `addRequest` first watches the request: when its
 * response closes before it is complete (the server closed the connection before Content-Length or the last chunk),
 * `onTruncated` runs. node-fetch v2 pipes the response into its body stream, and a pipe does not pass that on: the
 * body read would wait for the timeout. Everything else is the agent's own (its prototype), so pooling is unchanged.
 */
function watchedAgent(agent: unknown, https: boolean, onTruncated: () => void): unknown {
  const real = (agent ?? nodeGlobalAgent(https)) as NodeAgent | undefined;
  if (real === undefined || typeof real.addRequest !== 'function') return agent;
  const view = Object.create(real) as NodeAgent;
  view.addRequest = (req: unknown, opts: unknown) => {
    (req as NodeClientRequest).once('response', (res) => {
      res.once('close', () => {
        if (!res.complete) onTruncated();
      });
    });
    return real.addRequest(req, opts);
  };
  return view;
}

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: unknown } } }).process;
  return (
    typeof p?.versions?.node === 'string' && typeof (globalThis as { document?: unknown }).document === 'undefined'
  );
}

/** The fetch outside Node (or in a Node without `process.getBuiltinModule`): the runtime's own. */
function defaultFetch(): typeof globalThis.fetch {
  if (typeof globalThis.fetch !== 'function') {
    throw new CoreError('INVALID_CONFIG', 'no fetch in this runtime: pass options.fetch');
  }
  return globalThis.fetch.bind(globalThis);
}

type NodeReadable = AsyncIterable<Uint8Array | string> & { destroy?: (e?: Error) => void };

/**
 * Reads the body, stopping (and aborting the connection) as soon as it exceeds `cap`. Every read races the abort
 * signal: node-fetch reports an abort that lands between two reads by destroying its stream, and an async iterator
 * started on an already-destroyed stream can wait forever.
 */
async function readBody(
  res: Response,
  cap: number,
  failOnOversize: boolean,
  where: string,
  signal: AbortSignal,
  abort: () => void,
): Promise<Uint8Array> {
  const tooLarge = () =>
    new CoreError('RESPONSE_TOO_LARGE', `${where}: response body is larger than ${cap} bytes`, {
      status: res.status,
    });
  const declared = Number(res.headers.get('content-length'));
  if (failOnOversize && res.headers.has('content-length') && Number.isFinite(declared) && declared > cap) {
    abort();
    throw tooLarge();
  }
  const abortedRead = new Promise<never>((_, reject) => {
    const fail = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
  abortedRead.catch(() => {});
  const source = openBody(res, where);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const chunk = await Promise.race([source.next(), abortedRead]);
      if (chunk === undefined) break;
      if (total + chunk.byteLength > cap) {
        if (failOnOversize) throw tooLarge();
        // An error body is kept truncated instead of failing the request.
        chunks.push(chunk.subarray(0, cap - total));
        total = cap;
        break;
      }
      chunks.push(chunk);
      total += chunk.byteLength;
    }
  } catch (e) {
    abort();
    source.stop();
    throw e;
  }
  if (total >= cap) {
    abort();
    source.stop();
  }
  return concatBytes(chunks, total);
}

interface BodySource {
  /** The next chunk, or undefined at the end. */
  next(): Promise<Uint8Array | undefined>;
  stop(): void;
}

function openBody(res: Response, where: string): BodySource {
  const body = res.body as unknown;
  if (body === null || body === undefined) {
    // No stream (an injected fetch without streaming): the cap can only be checked after the fact.
    let done = false;
    return {
      async next() {
        if (done) return undefined;
        done = true;
        return new Uint8Array(await res.arrayBuffer());
      },
      stop() {},
    };
  }
  if (typeof (body as ReadableStream<Uint8Array>).getReader === 'function') {
    const reader = (body as ReadableStream<Uint8Array>).getReader();
    return {
      async next() {
        const { done, value } = await reader.read();
        return done ? undefined : value;
      },
      stop() {
        reader.cancel().catch(() => {});
      },
    };
  }
  if (typeof (body as NodeReadable)[Symbol.asyncIterator] === 'function') {
    const stream = body as NodeReadable;
    const it = stream[Symbol.asyncIterator]();
    return {
      async next() {
        const r = await it.next();
        if (r.done) return undefined;
        return typeof r.value === 'string' ? new TextEncoder().encode(r.value) : r.value;
      },
      stop() {
        stream.destroy?.();
        it.return?.()?.catch(() => {});
      },
    };
  }
  throw new CoreError('INVALID_RESPONSE', `${where}: the fetch implementation returned an unreadable body`);
}

/**
 * The chunks as one byte array (the one chunk itself when there is only one). `total` is their length, when known.
 * @internal
 */
export function concatBytes(
  chunks: readonly Uint8Array[],
  total = chunks.reduce((n, c) => n + c.byteLength, 0),
): Uint8Array {
  if (chunks.length === 1 && chunks[0]?.byteLength === total) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * A standard fetch `Headers` of a response's headers: the fetch's own as they are, else a copy (Node's RawHeaders;
 * node-fetch v2's own Headers class).
 */
function toHeaders(h: HeaderReader): Headers {
  if (h instanceof RawHeaders) return h.toHeaders();
  if (typeof Headers !== 'undefined' && h instanceof Headers) return h;
  const out = new Headers();
  h.forEach((value, name) => {
    out.append(name, value);
  });
  return out;
}

const decoder = new TextDecoder();

function decode(body: Uint8Array): string {
  return decoder.decode(body);
}

function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength <= maxBytes) return text;
  return new TextDecoder().decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD$/, '');
}

/** What the transport and the SDK's packages read of a response's headers (a `Headers`, or Node's RawHeaders). */
type HeaderReader = Pick<Headers, 'get' | 'has' | 'forEach'>;

/** The headers of each response this transport made, readable without making a `Headers`. */
const headerReaders = new WeakMap<HttpResponse, HeaderReader>();

/**
 * A response's headers for the SDK's own packages: those of a response of this transport without making a fetch
 * `Headers` (see RawHeaders in transport-node.ts), else `res.headers`.
 * @internal
 */
export function responseHeaders(res: HttpResponse): Pick<Headers, 'get' | 'has' | 'forEach'> {
  return headerReaders.get(res) ?? res.headers;
}

function makeResponse(status: number, head: HeaderReader, url: string, body: Uint8Array, where: string): HttpResponse {
  let headers: Headers | undefined;
  const response: HttpResponse = {
    status,
    // made on first read: in Node the first Headers object loads the fetch implementation
    get headers() {
      headers ??= toHeaders(head);
      return headers;
    },
    set headers(value) {
      headers = value;
    },
    url,
    body,
    text: () => decode(body),
    json<T = unknown>(): T {
      try {
        return JSON.parse(decode(body)) as T;
      } catch {
        // No cause: a JSON.parse message quotes the body, which may be a half-received credential.
        throw new CoreError('INVALID_RESPONSE', `${where}: response body is not valid JSON`);
      }
    },
  };
  headerReaders.set(response, head);
  return response;
}
