// CONTRACT STUB (owned by the core-transport helper): replace bodies, keep the exported names and shapes.
import { IdentityError } from './errors.js';
/** @public */
export interface HttpRequest {
  method?: string; // default GET
  url: string | URL;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** Per-request timeout in ms. Default: the client's (5000). */
  timeoutMs?: number;
  /** Response size cap in bytes, enforced while reading. Default: the client's (1 MiB). */
  maxResponseBytes?: number;
  signal?: AbortSignal;
  /** Statuses that are returned instead of thrown. Default: 200-299. */
  acceptStatus?: (status: number) => boolean;
}
/** @public */
export interface HttpResponse {
  status: number;
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
  /** An injected fetch (default: cross-fetch in Node, globalThis.fetch in browsers). */
  fetch?: typeof globalThis.fetch;
  /** Default per-request timeout (ms). Default 5000. */
  timeoutMs?: number;
  /** Default size cap (bytes). Default 1 MiB. */
  maxResponseBytes?: number;
  /** Allow plain http to any host (default: only loopback and the ECS link-local addresses). */
  allowInsecureHttp?: boolean;
  /** Sent as User-Agent (Node only; browsers ignore it). */
  userAgent?: string;
  /** Node only: an https.Agent (mTLS, custom CA), or a function returning the current one (rotation). Set by core/node helpers. */
  agent?: unknown;
}
/**
 * Non-2xx answers throw HttpStatusError (code HTTP_STATUS, `status`, `retryable` for 429 and 5xx,
 * `retryAfterMs` from Retry-After, `responseText` = the body, up to 64 KiB). Network errors throw NETWORK (retryable),
 * timeouts TIMEOUT (retryable), oversize RESPONSE_TOO_LARGE, caller aborts ABORTED. Messages name method and URL
 * (query string and credentials removed).
 * @public
 */
export declare class HttpStatusError extends IdentityError {
  readonly responseText: string;
  readonly method: string;
  /** Without query string or userinfo. */
  readonly url: string;
}
/** @public */
export declare function createHttpClient(options?: HttpClientOptions): HttpClient;
/** True when plain http may go to this host without an opt-in (loopback, 169.254.170.2, 169.254.170.23, [fd00:ec2::23]). @public */
export declare function isAllowedPlainHttpHost(hostname: string): boolean;
/** `application/x-www-form-urlencoded` encoding of a record (keys in the given order). @public */
export declare function formEncode(fields: Record<string, string> | [string, string][]): string;
/** Parses XML (fast-xml-parser) into a plain object; INVALID_RESPONSE on malformed input. @public */
export declare function parseXml(text: string): Record<string, unknown>;
/** Removes query string and userinfo from a URL for use in messages. @public */
export declare function safeUrl(url: string | URL): string;
