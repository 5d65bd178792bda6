import { timingSafeEqual } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  AwsApiError,
  expiredToken,
  incompleteSignature,
  invalidClientTokenId,
  signatureDoesNotMatch,
} from './errors.js';

/**
 * A request as the server received it: the raw path and query (still percent-encoded), header names in lower case
 * with every value (in arrival order), and the raw body bytes.
 * @public
 */
export interface ReceivedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string[]>;
  body: Uint8Array;
}

/** What the verifier needs to know about an access key. @public */
export interface SigningSecret {
  secretAccessKey: string;
  /** Present for temporary (session) credentials: the request must carry exactly this token. */
  sessionToken?: string;
  /** Epoch ms after which the session is expired (`ExpiredToken`). */
  expiresAt?: number;
}

/** @public */
export interface VerifySigV4Options {
  /** Finds the secret of an access key the server knows; `undefined` → `InvalidClientTokenId`. */
  lookup(accessKeyId: string): SigningSecret | undefined;
  /** The server's current time (epoch ms). */
  now: number;
  /** Allowed clock skew between `X-Amz-Date` and `now`. Default 15 minutes, like AWS. */
  maxSkewMs?: number;
  /** The service the credential scope must name (e.g. `sts`); unchecked when absent. */
  service?: string;
  /** The regions the credential scope may name; unchecked when absent. */
  regions?: readonly string[];
}

/** A request whose signature was recomputed and matched. @public */
export interface VerifiedSignature {
  accessKeyId: string;
  region: string;
  service: string;
  signingDate: Date;
  /** Lower-case names, as listed in the Authorization header. */
  signedHeaders: string[];
  /** The `X-Amz-Security-Token` the request carried (it matched the key's). */
  sessionToken?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const DEFAULT_SKEW_MS = 15 * 60_000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Splits `AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..` the way AWS does, or throws as AWS does. */
function parseAuthorization(header: string): ParsedAuthorization {
  const space = header.indexOf(' ');
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm}'`);
  }
  const params = new Map<string, string>();
  for (const part of header.slice(space + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !params.get(k));
  if (missing.length > 0) {
    throw incompleteSignature(missing.map((k) => `Authorization header requires '${k}' parameter.`).join(' '));
  }
  const credential = params.get('Credential')!.split('/');
  if (credential.length !== 5 || credential[4] !== 'aws4_request' || credential.some((c) => c === '')) {
    throw incompleteSignature(
      "Credential should be scoped to a valid region, and a valid service, and a terminal 'aws4_request'.",
    );
  }
  const [accessKeyId, date, region, service] = credential as [string, string, string, string, string];
  return {
    accessKeyId,
    date,
    region,
    service,
    signedHeaders: params.get('SignedHeaders')!.split(';'),
    signature: params.get('Signature')!,
  };
}

function parseAmzDate(value: string): Date | undefined {
  const m = AMZ_DATE.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const amzDate = (ms: number): string =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** Decodes a raw query string into the record shape the signer canonicalises (repeated keys → arrays). */
function parseQuery(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      throw new AwsApiError(
        'MalformedQueryString',
        `Query string is malformed: invalid escape in ${JSON.stringify(pair)}`,
        400,
      );
    }
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

function single(headers: Record<string, string[]>, name: string): string | undefined {
  const values = headers[name];
  return values === undefined ? undefined : values.join(',');
}

function sameText(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

async function sha256Hex(body: Uint8Array): Promise<string> {
  const hash = new Sha256();
  hash.update(body);
  return Buffer.from(await hash.digest()).toString('hex');
}

/**
 * Verifies a SigV4 `Authorization` header the way AWS does: the access key must be known, a session token must be the
 * one issued with the key, `X-Amz-Date` must be within the allowed skew, the credential scope must match the date,
 * service and region, and the signature recomputed with `@smithy/signature-v4` over exactly the `SignedHeaders` (with
 * the X-Amz-Date as signing date) must equal the one sent. Throws {@link AwsApiError} with AWS's code and message.
 *
 * @example
 * ```ts
 * const v = await verifySigV4(received, { lookup: (id) => keys.get(id), now: Date.now(), service: 'sts' });
 * ```
 * @public
 */
export async function verifySigV4(req: ReceivedRequest, options: VerifySigV4Options): Promise<VerifiedSignature> {
  const authorization = single(req.headers, 'authorization');
  if (authorization === undefined) {
    throw new AwsApiError('MissingAuthenticationToken', 'Request is missing Authentication Token', 403);
  }
  const auth = parseAuthorization(authorization);
  const dateHeader = single(req.headers, 'x-amz-date');
  if (dateHeader === undefined) {
    throw incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (!auth.signedHeaders.includes('host')) {
    throw incompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
  const signingDate = parseAmzDate(dateHeader);
  if (signingDate === undefined) {
    throw incompleteSignature(`Date must be in ISO-8601 'basic format'. Got '${dateHeader}'.`);
  }

  const secret = options.lookup(auth.accessKeyId);
  if (secret === undefined) throw invalidClientTokenId();
  const token = single(req.headers, 'x-amz-security-token');
  // A session key is only valid with its own token; a long-term key with any token is rejected too.
  if (secret.sessionToken === undefined ? token !== undefined : token === undefined || token !== secret.sessionToken) {
    throw invalidClientTokenId();
  }
  if (secret.expiresAt !== undefined && options.now >= secret.expiresAt) throw expiredToken();

  const skew = options.maxSkewMs ?? DEFAULT_SKEW_MS;
  const minutes = Math.round(skew / 60_000);
  if (signingDate.getTime() < options.now - skew) {
    throw signatureDoesNotMatch(
      `Signature expired: ${dateHeader} is now earlier than ${amzDate(options.now - skew)} ` +
        `(${amzDate(options.now)} - ${minutes} min.)`,
    );
  }
  if (signingDate.getTime() > options.now + skew) {
    throw signatureDoesNotMatch(
      `Signature not yet current: ${dateHeader} is still later than ${amzDate(options.now + skew)} ` +
        `(${amzDate(options.now)} + ${minutes} min.)`,
    );
  }
  if (auth.date !== dateHeader.slice(0, 8)) {
    throw signatureDoesNotMatch(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${auth.date}' != '${dateHeader.slice(0, 8)}', from '${dateHeader}'.`,
    );
  }
  if (options.service !== undefined && auth.service !== options.service) {
    throw signatureDoesNotMatch(`Credential should be scoped to correct service: '${options.service}'. `);
  }
  if (options.regions !== undefined && !options.regions.includes(auth.region)) {
    throw signatureDoesNotMatch('Credential should be scoped to a valid region. ');
  }

  // The signer trusts x-amz-content-sha256 as the payload hash, so check it against the real body first.
  const contentSha = single(req.headers, 'x-amz-content-sha256');
  if (contentSha !== undefined && contentSha !== (await sha256Hex(req.body))) {
    throw new AwsApiError(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      400,
    );
  }

  // Re-sign a copy holding only the signed headers; the signer re-adds x-amz-date (from signingDate) and the token
  // (only when the original signed it), so an unsigned date or a mismatched header list changes the signature.
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = single(req.headers, name);
    if (value !== undefined) headers[name] = value;
  }
  const tokenSigned = auth.signedHeaders.includes('x-amz-security-token');
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: auth.accessKeyId,
      secretAccessKey: secret.secretAccessKey,
      ...(tokenSigned && token !== undefined ? { sessionToken: token } : {}),
    },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    applyChecksum: false,
    uriEscapePath: true,
  });
  const resigned = await signer.sign(
    {
      method: req.method,
      protocol: 'https:',
      hostname: (headers.host ?? '').replace(/:\d+$/, ''),
      path: req.path,
      query: parseQuery(req.query),
      headers,
      body: req.body,
    },
    {
      signingDate,
      signingRegion: auth.region,
      signingService: auth.service,
      signableHeaders: new Set(auth.signedHeaders),
    },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(resigned.headers.authorization ?? ''))?.[1] ?? '';
  const expectedList = /SignedHeaders=([^,]+)/.exec(String(resigned.headers.authorization ?? ''))?.[1] ?? '';
  if (expectedList !== auth.signedHeaders.join(';') || !sameText(expected, auth.signature)) {
    throw signatureDoesNotMatch();
  }
  return {
    accessKeyId: auth.accessKeyId,
    region: auth.region,
    service: auth.service,
    signingDate,
    signedHeaders: auth.signedHeaders,
    ...(token !== undefined ? { sessionToken: token } : {}),
  };
}
