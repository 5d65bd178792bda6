// Test helpers: sign requests with @smithy/signature-v4 directly (not through our client) and send them raw, so the
// fakes are proven against the protocol rather than against what consul-login happens to emit.
import { request as httpRequest } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignedRequest {
  method: string;
  /** Full URL, e.g. `https://sts.us-west-2.amazonaws.com/`. */
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SignOptions {
  credentials: TestCredentials;
  region: string;
  service: string;
  url: string;
  params: Record<string, string> | [string, string][];
  date: Date;
  /** Extra headers added before signing (they are signed). */
  headers?: Record<string, string>;
}

/** Builds and signs a Query-protocol POST the way the AWS SDK and consul-awsauth do. */
export async function signQuery(o: SignOptions): Promise<SignedRequest> {
  const url = new URL(o.url);
  const body = new URLSearchParams(o.params).toString();
  const signer = new SignatureV4({
    credentials: o.credentials,
    region: o.region,
    service: o.service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query: {},
      headers: {
        host: url.host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        ...o.headers,
      },
      body,
    },
    { signingDate: o.date },
  );
  return { method: 'POST', url: o.url, headers: signed.headers as Record<string, string>, body };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * Sends a request to `target` (a loopback base URL) keeping every header as given, Host included: what a Consul
 * server does when it forwards a request signed for `sts.<region>.amazonaws.com`.
 */
export function sendRaw(
  target: string,
  req: { method: string; path: string; headers: Record<string, string | string[]>; body?: string },
): Promise<RawResponse> {
  const base = new URL(target);
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers: req.headers,
        timeout: 5000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', reject);
    r.end(req.body);
  });
}

/** Sends a signed request to the fake at `target`, keeping the signed Host header. */
export function sendSigned(target: string, signed: SignedRequest): Promise<RawResponse> {
  const u = new URL(signed.url);
  return sendRaw(target, {
    method: signed.method,
    path: u.pathname + u.search,
    headers: signed.headers,
    body: signed.body,
  });
}

const parser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, trimValues: false });

/** Parses an XML answer into a plain object. */
export function xml(text: string): Record<string, unknown> {
  return parser.parse(text) as Record<string, unknown>;
}

/** The `Error` of an `ErrorResponse` document. */
export function awsError(text: string): { Type: string; Code: string; Message: string } {
  const doc = xml(text) as { ErrorResponse?: { Error?: { Type: string; Code: string; Message: string } } };
  if (doc.ErrorResponse?.Error === undefined) throw new Error(`not an ErrorResponse: ${text}`);
  return doc.ErrorResponse.Error;
}
