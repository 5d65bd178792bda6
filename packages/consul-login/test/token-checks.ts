/**
 * Test helper: decodes a bearer token the way the Go server does (JSON, standard base64, a header map taken from
 * JSON without canonicalising keys) and applies the token checks of PROTOCOLS.md §2 (consul-awsauth token.go).
 * It is deliberately independent of the builder's code so the two cannot share a mistake.
 */

export interface DecodedRequest {
  method: string;
  url: string;
  body: string;
  /** As decoded from JSON: keys exactly as sent. */
  headers: Record<string, string[]>;
}

export interface DecodedToken extends DecodedRequest {
  entity?: DecodedRequest;
}

const ALLOWED_AMZ = [
  'X-Amz-Algorithm',
  'X-Amz-Content-Sha256',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Security-Token',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
];

function strictBase64(value: unknown, field: string): string {
  if (typeof value !== 'string' || !/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value)) {
    throw new Error(`${field} is not padded standard base64`);
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
}

function headerMap(json: string, field: string): Record<string, string[]> {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${field}: not an object`);
  for (const [k, v] of Object.entries(parsed)) {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`${field}[${k}]: not [string]`);
  }
  return parsed as Record<string, string[]>;
}

/** Go's http.Header.Values(name): canonical lookup over a map whose keys were NOT canonicalised. */
function goValues(headers: Record<string, string[]>, canonicalName: string): string[] {
  return headers[canonicalName] ?? [];
}

export function decodeToken(token: string): DecodedToken {
  const outer = JSON.parse(token) as Record<string, unknown>;
  const keys = Object.keys(outer).sort();
  const expected = ['iam_http_request_method', 'iam_request_body', 'iam_request_headers', 'iam_request_url'];
  if (JSON.stringify(keys) !== JSON.stringify(expected)) throw new Error(`token fields ${keys.join(',')}`);
  const decoded: DecodedToken = {
    method: String(outer.iam_http_request_method),
    url: strictBase64(outer.iam_request_url, 'iam_request_url'),
    body: strictBase64(outer.iam_request_body, 'iam_request_body'),
    headers: headerMap(strictBase64(outer.iam_request_headers, 'iam_request_headers'), 'iam_request_headers'),
  };
  const method = goValues(decoded.headers, 'X-Consul-Iam-Getentity-Method');
  if (method.length === 1) {
    decoded.entity = {
      method: method[0] as string,
      url: goValues(decoded.headers, 'X-Consul-Iam-Getentity-Url')[0] ?? '',
      body: goValues(decoded.headers, 'X-Consul-Iam-Getentity-Body')[0] ?? '',
      headers: headerMap(goValues(decoded.headers, 'X-Consul-Iam-Getentity-Headers')[0] ?? '{}', 'entity headers'),
    };
  }
  return decoded;
}

export interface MethodConfig {
  enableIamEntityDetails?: boolean;
  serverIdHeaderValue?: string;
  stsEndpoint?: string;
  iamEndpoint?: string;
}

/** Go's url.ParseQuery + consul-awsauth parseRequestBody: only allowed keys, single values, Action required. */
function checkBody(body: string, allowed: Record<string, string[] | null>, field: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(body)) values.set(k, [...(values.get(k) ?? []), v]);
  const action = values.get('Action');
  if (action === undefined || action[0] === '') throw new Error(`${field} error: missing field "Action"`);
  for (const [k, v] of values) {
    if (!(k in allowed)) throw new Error(`${field} error: unexpected field "${k}"`);
    const exp = allowed[k];
    if (exp === null || exp === undefined || exp.length === 0) continue;
    if (v.length !== 1 || !exp.includes(v[0] as string)) throw new Error(`${field} error: unexpected value ${k}`);
  }
  return values;
}

function checkUrl(raw: string, what: string): URL {
  const url = new URL(raw);
  if (url.protocol === '' || url.host === '') throw new Error(`${what}: url is invalid`);
  if (url.search !== '' || raw.includes('?')) throw new Error(`${what}: query string`);
  return url;
}

function signedHeaders(headers: Record<string, string[]>): string[] {
  const auth = goValues(headers, 'Authorization')[0] ?? '';
  const m = /SignedHeaders=([^,]+)/.exec(auth);
  return m ? (m[1] as string).split(';') : [];
}

/**
 * The server's checks 1-6 of PROTOCOLS.md §2, in order; throws the first failure. Returns the decoded token.
 */
export function serverChecks(token: string, config: MethodConfig = {}): DecodedToken {
  const t = decodeToken(token);
  if (t.method !== 'POST') throw new Error('iam_http_request_method must be POST');
  const sts = checkUrl(t.url, 'GetCallerIdentity URL');
  if (config.stsEndpoint === undefined) {
    const host = sts.hostname;
    if (!(host.endsWith('.amazonaws.com') && (host.startsWith('sts.') || host.startsWith('sts-fips.')))) {
      throw new Error(`invalid STS hostname: "${host}"`);
    }
  }
  checkBody(t.body, { Action: ['GetCallerIdentity'], Version: null }, 'iam_request_body');
  for (const key of Object.keys(t.headers)) {
    const canonical = key.replace(/[^-]+/g, (w) => w[0]?.toUpperCase() + w.slice(1).toLowerCase());
    if (canonical.startsWith('X-Amz-') && !ALLOWED_AMZ.includes(canonical)) {
      throw new Error(`invalid request header: ${canonical}`);
    }
  }
  if (config.enableIamEntityDetails) {
    for (const h of ['Method', 'Url', 'Headers', 'Body']) {
      const values = goValues(t.headers, `X-Consul-Iam-Getentity-${h}`);
      if (values.length === 0) throw new Error(`missing header "X-Consul-IAM-GetEntity-${h}"`);
      if (values.length !== 1) throw new Error(`invalid value for header "X-Consul-IAM-GetEntity-${h}"`);
    }
    const e = t.entity as DecodedRequest;
    const iam = checkUrl(e.url, 'IAM URL');
    if (config.iamEndpoint === undefined) {
      const host = iam.hostname;
      if (!(host.endsWith('.amazonaws.com') && (host.startsWith('iam.') || host.startsWith('iam-fips.')))) {
        throw new Error(`invalid IAM hostname: "${host}"`);
      }
    }
    const body = checkBody(
      e.body,
      { Action: ['GetRole', 'GetUser'], RoleName: null, UserName: null, Version: null },
      'iam_request_headers[X-Consul-IAM-GetEntity-Body]',
    );
    const action = body.get('Action')?.[0];
    const ok =
      (action === 'GetRole' && body.has('RoleName') && !body.has('UserName')) ||
      (action === 'GetUser' && body.has('UserName') && !body.has('RoleName'));
    if (!ok) throw new Error('invalid request body');
  }
  if (config.serverIdHeaderValue !== undefined) {
    const requests: DecodedRequest[] = [t, ...(config.enableIamEntityDetails && t.entity ? [t.entity] : [])];
    for (const r of requests) {
      const v = goValues(r.headers, 'X-Consul-Iam-Serverid');
      if (v.length !== 1 || v[0] !== config.serverIdHeaderValue) throw new Error('missing or wrong server ID header');
      if (!signedHeaders(r.headers).includes('x-consul-iam-serverid')) throw new Error('server ID header not signed');
    }
  }
  return t;
}

export { signedHeaders };
