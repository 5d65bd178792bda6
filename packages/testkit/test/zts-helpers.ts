// Test helpers for the fake ZTS: CSRs built directly with @peculiar/x509 (never with the SDK's own builders, so the
// fake is proven independently of our client) and a small HTTPS client with optional mTLS.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { request } from 'node:https';
import * as x509 from '@peculiar/x509';

export const P256: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGN: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };

export interface TestKey {
  keys: CryptoKeyPair;
  pem: string;
}

export async function newKey(): Promise<TestKey> {
  const keys = (await webcrypto.subtle.generateKey(P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, pem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

export interface CsrSpec {
  subject: string;
  dns?: string[];
  uris?: string[];
  emails?: string[];
  /** Sign with another key than the one in the CSR (a CSR without proof of possession). */
  signWith?: CryptoKey;
}

export async function makeCsr(key: TestKey, spec: CsrSpec): Promise<string> {
  const names: x509.JsonGeneralName[] = [
    ...(spec.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(spec.emails ?? []).map((value) => ({ type: 'email' as const, value })),
  ];
  const keys = spec.signWith ? { publicKey: key.keys.publicKey, privateKey: spec.signWith } : key.keys;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: spec.subject,
      keys,
      signingAlgorithm: SIGN,
      extensions: names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : [],
    },
    webcrypto as Crypto,
  );
  return csr.toString('pem');
}

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience for reading JSON answers
  json: any;
}

export interface CallOptions {
  json?: unknown;
  form?: string;
  /** Client certificate (PEM) and key (PEM) for mTLS. */
  cert?: string;
  key?: string;
  ca: string;
  /** Overrides the Content-Type the body would get. */
  contentType?: string;
}

export function call(url: string, method: string, opts: CallOptions): Promise<HttpsAnswer> {
  const body = opts.json !== undefined ? JSON.stringify(opts.json) : opts.form;
  const headers: Record<string, string> = {};
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  if (opts.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        headers,
        ca: opts.ca,
        ...(opts.cert ? { cert: opts.cert } : {}),
        ...(opts.key ? { key: opts.key } : {}),
        timeout: 5000,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.now()) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

/**
 * Whether `cert` is signed by `issuer` and valid at `atMs`, its validity period including both ends (RFC 5280
 * 4.1.2.5). (@peculiar/x509's verify({ date }) excludes them: a certificate checked in the millisecond it was issued,
 * with a notBefore cut to that second, would fail.)
 */
export async function validAt(
  cert: x509.X509Certificate,
  issuer: x509.X509Certificate,
  atMs: number,
): Promise<boolean> {
  const signed = await cert.verify({ publicKey: issuer, signatureOnly: true });
  return signed && cert.notBefore.getTime() <= atMs && atMs <= cert.notAfter.getTime();
}
