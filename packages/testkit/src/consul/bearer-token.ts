import type { AwsIamAuthMethodConfig } from './auth-method.js';
import { canonicalMimeKey, decodeStdBase64, goQuote, goSlice, parseGoQuery } from './go-compat.js';

// The bearer token checks of consul-awsauth (`token.go`): what a real Consul server rejects before calling AWS.

export const SERVER_ID_HEADER = 'X-Consul-IAM-ServerID';
export const ENTITY_METHOD_HEADER = 'X-Consul-IAM-GetEntity-Method';
export const ENTITY_URL_HEADER = 'X-Consul-IAM-GetEntity-URL';
export const ENTITY_HEADERS_HEADER = 'X-Consul-IAM-GetEntity-Headers';
export const ENTITY_BODY_HEADER = 'X-Consul-IAM-GetEntity-Body';

const DEFAULT_ALLOWED_AMZ_HEADERS = [
  'X-Amz-Algorithm',
  'X-Amz-Content-Sha256',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
];

/** Go's `http.Header`: keys exactly as they appeared in the JSON. */
export type GoHeader = Record<string, string[]>;

/** One of the two AWS requests carried by the token. */
export interface EmbeddedRequest {
  method: string;
  url: URL;
  rawUrl: string;
  headers: GoHeader;
  body: string;
}

export interface ParsedBearerToken {
  sts: EmbeddedRequest;
  entity?: EmbeddedRequest & { requestType: 'GetRole' | 'GetUser' };
}

/** Thrown with the text the real validator returns. */
export class TokenRejected extends Error {}

function parseUrl(s: string): URL {
  let u: URL | undefined;
  try {
    u = new URL(s);
  } catch {
    u = undefined;
  }
  if (u === undefined || u.host === '') throw new TokenRejected(`url is invalid: ${goQuote(s)}`);
  return u;
}

/** `json.Unmarshal` into `http.Header`: an object whose values are string arrays (or null). */
function parseHeaderJson(text: string): GoHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new TokenRejected(text.trim() === '' ? 'unexpected end of JSON input' : 'invalid character in JSON input');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new TokenRejected('json: cannot unmarshal into Go value of type http.Header');
  }
  const out: GoHeader = {};
  for (const [k, v] of Object.entries(raw)) {
    if (v === null) continue;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      throw new TokenRejected(`json: cannot unmarshal ${typeof v} into Go struct field of type []string`);
    }
    out[k] = v as string[];
  }
  return out;
}

/** `http.Header.Values(name)`: looks the canonical key up exactly, so non-canonical JSON keys are invisible. */
function headerValues(h: GoHeader, name: string): string[] {
  return h[canonicalMimeKey(name)] ?? [];
}

function getHeader(h: GoHeader, name: string): string {
  const values = headerValues(h, name);
  if (values.length === 0) throw new TokenRejected(`missing header ${goQuote(name)}`);
  if (values.length !== 1) throw new TokenRejected(`invalid value for header ${goQuote(name)} (expected 1 item)`);
  return values[0]!;
}

/** `parseRequestBody`: Action required; only allowed keys; keys with listed values must have exactly one of them. */
function parseRequestBody(body: string, allowed: Record<string, string[]>): Map<string, string[]> {
  let qs: Map<string, string[]>;
  try {
    qs = parseGoQuery(body);
  } catch (e) {
    throw new TokenRejected((e as Error).message);
  }
  const action = qs.get('Action');
  if (action === undefined || action.length === 0 || action[0] === '') {
    throw new TokenRejected('missing field "Action"');
  }
  for (const [k, v] of qs) {
    const exp = allowed[k];
    if (k !== 'Action' && exp === undefined) throw new TokenRejected(`unexpected field ${goQuote(k)}`);
    if (exp === undefined || exp.length === 0) continue;
    if (v.length !== 1 || !exp.includes(v[0]!)) throw new TokenRejected(`unexpected value ${k}=${goSlice(v)}`);
  }
  return qs;
}

const hostname = (u: URL): string => u.hostname.replace(/^\[|\]$/g, '');

function isAwsHost(u: URL, service: 'sts' | 'iam'): boolean {
  const host = hostname(u);
  return host.endsWith('.amazonaws.com') && (host.startsWith(`${service}.`) || host.startsWith(`${service}-fips.`));
}

/**
 * Parses and validates a login bearer token like consul-awsauth's `NewBearerToken`, in the same order and with the
 * same messages; the extra "no query string" rule of PROTOCOLS.md §2 is applied to both URLs.
 */
export function parseBearerToken(loginToken: string, config: AwsIamAuthMethodConfig): ParsedBearerToken {
  let raw: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(loginToken);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    raw = parsed as Record<string, unknown>;
  } catch {
    throw new TokenRejected(
      loginToken.trim() === ''
        ? 'invalid token: unexpected end of JSON input'
        : 'invalid token: invalid character looking for beginning of value',
    );
  }
  const str = (k: string): string => (typeof raw[k] === 'string' ? (raw[k] as string) : '');
  let sts: EmbeddedRequest;
  try {
    const rawUrl = decodeStdBase64(str('iam_request_url'));
    const headers = parseHeaderJson(decodeStdBase64(str('iam_request_headers')));
    const body = decodeStdBase64(str('iam_request_body'));
    sts = { method: str('iam_http_request_method'), rawUrl, url: parseUrl(rawUrl), headers, body };
  } catch (e) {
    throw new TokenRejected(`invalid token: ${(e as Error).message}`);
  }

  // validate()
  if (sts.method !== 'POST') throw new TokenRejected('iam_http_request_method must be POST');
  if (sts.url.search !== '') throw new TokenRejected('iam_request_url must not contain a query string');
  if (!config.STSEndpoint && !isAwsHost(sts.url, 'sts')) {
    throw new TokenRejected(`invalid STS hostname: ${goQuote(hostname(sts.url))}`);
  }
  try {
    parseRequestBody(sts.body, { Action: ['GetCallerIdentity'], Version: [] });
  } catch (e) {
    throw new TokenRejected(`iam_request_body error: ${(e as Error).message}`);
  }
  const allowed = config.AllowedSTSHeaderValues ?? [];
  for (const k of Object.keys(sts.headers)) {
    const h = canonicalMimeKey(k);
    if (h.startsWith('X-Amz-') && !DEFAULT_ALLOWED_AMZ_HEADERS.includes(h) && !allowed.includes(h)) {
      throw new TokenRejected(`invalid request header: ${h}`);
    }
  }
  if (!config.EnableIAMEntityDetails) return { sts };

  const method = getHeader(sts.headers, ENTITY_METHOD_HEADER);
  const rawUrl = getHeader(sts.headers, ENTITY_URL_HEADER);
  const headers = parseHeaderJson(getHeader(sts.headers, ENTITY_HEADERS_HEADER));
  const body = getHeader(sts.headers, ENTITY_BODY_HEADER);
  const url = parseUrl(rawUrl);
  if (!config.IAMEndpoint && !isAwsHost(url, 'iam')) {
    throw new TokenRejected(`invalid IAM hostname: ${goQuote(hostname(url))}`);
  }
  if (url.search !== '')
    throw new TokenRejected(`iam_request_headers[${ENTITY_URL_HEADER}] must not contain a query string`);
  let form: Map<string, string[]>;
  try {
    form = parseRequestBody(body, { Action: ['GetRole', 'GetUser'], RoleName: [], UserName: [], Version: [] });
  } catch (e) {
    throw new TokenRejected(`iam_request_headers[${ENTITY_BODY_HEADER}] error: ${(e as Error).message}`);
  }
  const action = form.get('Action')![0]!;
  const hasRole = form.has('RoleName');
  const hasUser = form.has('UserName');
  let requestType: 'GetRole' | 'GetUser';
  if (action === 'GetUser' && hasUser && !hasRole) requestType = 'GetUser';
  else if (action === 'GetRole' && hasRole && !hasUser) requestType = 'GetRole';
  else {
    throw new TokenRejected(
      `iam_request_headers[${goQuote(ENTITY_BODY_HEADER)}] error: invalid request body ${goQuote(body)}`,
    );
  }
  return { sts, entity: { method, rawUrl, url, headers, body, requestType } };
}

/**
 * `validateHeaderValue`: the server-ID header must be present (any key case) with the configured value and listed in
 * the Authorization header's SignedHeaders. `headers` are those of the request as built (canonical keys).
 */
export function checkServerIdHeader(headers: GoHeader, required: string): void {
  let provided = '';
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === SERVER_ID_HEADER.toLowerCase()) {
      provided = v.join(',');
      break;
    }
  }
  if (provided === '') throw new TokenRejected(`missing header ${goQuote(SERVER_ID_HEADER)}`);
  if (provided !== required) throw new TokenRejected(`expected ${goQuote(required)} but got ${goQuote(provided)}`);
  if (headers.Authorization === undefined) throw new TokenRejected('missing Authorization header');
  const signed = signedHeaders(headers);
  if (signed === undefined) throw new TokenRejected("server id header wasn't signed");
  if (!signed.includes(SERVER_ID_HEADER.toLowerCase())) throw new TokenRejected("header wasn't signed");
}

/**
 * The lower-case names listed in the `Authorization` header's `SignedHeaders=`, read as `validateHeaderValue` reads
 * them; `undefined` when there is no Authorization header or no list.
 */
export function signedHeaders(headers: GoHeader): string[] | undefined {
  const authz = headers.Authorization;
  const m = authz === undefined ? null : /.*SignedHeaders=([^,]+)/.exec(authz.join(','));
  return m ? m[1]!.split(';') : undefined;
}

/** `buildHttpRequest`'s header handling: `Header.Add` canonicalises every key (merging keys that differ in case). */
export function canonicalHeaders(headers: GoHeader): GoHeader {
  const out: GoHeader = {};
  for (const [k, values] of Object.entries(headers)) {
    const key = canonicalMimeKey(k);
    out[key] = [...(out[key] ?? []), ...values];
  }
  return out;
}
