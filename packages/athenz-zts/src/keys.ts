/**
 * Key pairs through Web Crypto, and their PEM forms: PKCS#1 (`RSA PRIVATE KEY`, what siad writes), SEC1
 * (`EC PRIVATE KEY`) and PKCS#8 (`PRIVATE KEY`). Format conversion goes through the @peculiar/asn1-* schemas,
 * PEM armour through @peculiar/x509's PemConverter (x509-codec.ts, loaded on first use): no hand-written ASN.1.
 * @packageDocumentation
 */
import { AthenzError } from './errors.js';
import type { Crypto, CryptoKey, CryptoKeyPair, SigningAlgorithm } from './web-crypto.js';
import { loadX509Codec } from './x509-load.js';

/** The key types ZTS issues certificates for. `rsa` is RSA 2048 (siad's default); `ec` is ECDSA P-256. @public */
export type KeyType = 'rsa' | 'ec';

/** PEM encodings of a private key. `pkcs1` is RSA only, `sec1` is EC only. @public */
export type PrivateKeyFormat = 'pkcs1' | 'sec1' | 'pkcs8';

/** @public */
export interface CryptoOption {
  /** A Web Crypto implementation (default `globalThis.crypto`; e.g. `new (await import('@peculiar/webcrypto')).Crypto()`). */
  crypto?: Crypto | undefined;
}

/** @public */
export interface GenerateKeyPairOptions extends CryptoOption {
  /** Default `rsa` (RSA 2048, RSASSA-PKCS1-v1_5 / SHA-256). */
  type?: KeyType | undefined;
}

const RSA_PARAMS: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
};

/** The Web Crypto in use: the caller's, else the runtime's. @internal */
export function resolveCrypto(crypto: Crypto | undefined): Crypto {
  const c = crypto ?? (globalThis as { crypto?: Crypto }).crypto;
  if (!c?.subtle) {
    throw new AthenzError(
      'INVALID_CONFIG',
      'no Web Crypto available: pass the crypto option (e.g. @peculiar/webcrypto)',
    );
  }
  return c;
}

// The SPKI of each public key, exported once: the check that a new certificate certifies the key runs right after the
// certificate arrives (on the critical path of a cold start), so the identity provider exports it while ZTS works.
const spkis = new WeakMap<CryptoKey, Promise<Uint8Array>>();

/**
 * The DER SubjectPublicKeyInfo of a public key, exported once per key and remembered while the key lives.
 * @internal
 */
export function publicKeySpki(publicKey: CryptoKey, options: CryptoOption = {}): Promise<Uint8Array> {
  let spki = spkis.get(publicKey);
  if (spki === undefined) {
    spki = resolveCrypto(options.crypto)
      .subtle.exportKey('spki', publicKey)
      .then((b) => new Uint8Array(b));
    spkis.set(publicKey, spki);
    // A failed export is not remembered; the caller sees the rejection.
    spki.catch(() => spkis.delete(publicKey));
  }
  return spki;
}

/**
 * Generates an extractable signing key pair (extractable so the private key can be written as PEM, like siad does).
 * @example
 * ```ts
 * const keys = await generateKeyPair();            // RSA 2048
 * const ec = await generateKeyPair({ type: 'ec' }); // ECDSA P-256
 * ```
 * @public
 */
export async function generateKeyPair(options: GenerateKeyPairOptions = {}): Promise<CryptoKeyPair> {
  const type = options.type ?? 'rsa';
  const { subtle } = resolveCrypto(options.crypto);
  if (type === 'rsa') return (await subtle.generateKey(RSA_PARAMS, true, ['sign', 'verify'])) as CryptoKeyPair;
  if (type === 'ec') {
    return (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ])) as CryptoKeyPair;
  }
  throw new AthenzError('INVALID_ARGUMENT', `key type ${JSON.stringify(type)} is not supported (use "rsa" or "ec")`);
}

/** `rsa` or `ec`, from a Web Crypto key's algorithm. @public */
export function keyTypeOf(key: CryptoKey): KeyType {
  if (key.algorithm.name === 'RSASSA-PKCS1-v1_5') return 'rsa';
  if (key.algorithm.name === 'ECDSA') return 'ec';
  throw new AthenzError(
    'INVALID_KEY',
    `key algorithm ${key.algorithm.name} is not supported (use RSASSA-PKCS1-v1_5 or ECDSA keys)`,
  );
}

/** The CSR signing algorithm for a key: SHA-256 with RSA PKCS#1 v1.5, or ECDSA with SHA-256. @public */
export function signingAlgorithmFor(key: CryptoKey): SigningAlgorithm {
  return keyTypeOf(key) === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', hash: 'SHA-256' };
}

/**
 * Exports a private key as PEM. Default format: `pkcs1` for RSA (`RSA PRIVATE KEY`, siad's), `sec1` for EC
 * (`EC PRIVATE KEY`, openssl's traditional form).
 * @public
 */
export async function exportPrivateKeyPem(
  privateKey: CryptoKey,
  options: CryptoOption & { format?: PrivateKeyFormat } = {},
): Promise<string> {
  const format = privateKeyPemFormat(privateKey, options.format);
  return privateKeyPemFromPkcs8(await exportPkcs8(privateKey, options), privateKey, format);
}

/** The PEM format for a key: the one asked for if it can hold the key, else its type's default. @internal */
export function privateKeyPemFormat(privateKey: CryptoKey, format?: PrivateKeyFormat): PrivateKeyFormat {
  const type = keyTypeOf(privateKey);
  const chosen = format ?? (type === 'rsa' ? 'pkcs1' : 'sec1');
  if ((chosen === 'pkcs1' && type !== 'rsa') || (chosen === 'sec1' && type !== 'ec')) {
    throw new AthenzError('INVALID_ARGUMENT', `format ${chosen} cannot hold a ${type.toUpperCase()} key`);
  }
  return chosen;
}

/**
 * The PKCS#8 DER of an extractable private key: the export that can fail (a key or a Web Crypto that refuses it).
 * Turning it into PEM ({@link privateKeyPemFromPkcs8}) is CPU work only, so a caller may do it later.
 * @internal
 */
export async function exportPkcs8(privateKey: CryptoKey, options: CryptoOption = {}): Promise<ArrayBuffer> {
  if (!privateKey.extractable || privateKey.type !== 'private') {
    throw new AthenzError('INVALID_KEY', 'the key must be an extractable private key to be exported as PEM');
  }
  return resolveCrypto(options.crypto).subtle.exportKey('pkcs8', privateKey);
}

/** The PEM of `privateKey` in `format`, from its PKCS#8 DER. @internal */
export async function privateKeyPemFromPkcs8(
  pkcs8: ArrayBuffer,
  privateKey: CryptoKey,
  format: PrivateKeyFormat,
): Promise<string> {
  return (await loadX509Codec()).privateKeyPemFromPkcs8(pkcs8, privateKey, format);
}

/** Exports a public key as an SPKI PEM (`PUBLIC KEY`). @public */
export async function exportPublicKeyPem(publicKey: CryptoKey, options: CryptoOption = {}): Promise<string> {
  const spki = await resolveCrypto(options.crypto).subtle.exportKey('spki', publicKey);
  return (await loadX509Codec()).toPem(spki, 'PUBLIC KEY');
}

/**
 * Imports a private key file (PKCS#1 `RSA PRIVATE KEY`, SEC1 `EC PRIVATE KEY` or PKCS#8 `PRIVATE KEY`) as an
 * extractable signing key pair; the public key is derived from the private one.
 * @example
 * ```ts
 * const keys = await importPrivateKeyPem(await readFile('/var/lib/sia/keys/sports.api.key.pem', 'utf8'));
 * ```
 * @throws IdentityError `INVALID_KEY` (never containing the key material)
 * @public
 */
export async function importPrivateKeyPem(pem: string, options: CryptoOption = {}): Promise<CryptoKeyPair> {
  if (typeof pem !== 'string' || pem.length === 0) {
    throw new AthenzError('INVALID_KEY', 'the private key PEM is empty');
  }
  const { subtle } = resolveCrypto(options.crypto);
  const { pkcs8, type, curve } = (await loadX509Codec()).toPkcs8(pem);
  const algorithm: RsaHashedImportParams | EcKeyImportParams =
    type === 'rsa' ? { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } : { name: 'ECDSA', namedCurve: curve as string };
  let privateKey: CryptoKey;
  try {
    privateKey = await subtle.importKey('pkcs8', pkcs8, algorithm, true, ['sign']);
  } catch (cause) {
    throw new AthenzError('INVALID_KEY', `the ${type.toUpperCase()} private key could not be imported`, { cause });
  }
  // Web Crypto has no "public from private"; the private JWK carries the public parts, so keep only those.
  const jwk = await subtle.exportKey('jwk', privateKey);
  const publicJwk = (
    type === 'rsa'
      ? { kty: 'RSA', n: jwk.n, e: jwk.e, alg: 'RS256', ext: true }
      : { kty: 'EC', crv: jwk.crv, x: jwk.x, y: jwk.y, ext: true }
  ) as JsonWebKey;
  const publicKey = await subtle.importKey('jwk', publicJwk, algorithm, true, ['verify']);
  return { privateKey, publicKey };
}

/**
 * True when both keys are the same key pair's halves (compared by their SPKI encoding).
 * @public
 */
export async function samePublicKey(a: CryptoKey, b: CryptoKey, options: CryptoOption = {}): Promise<boolean> {
  const { subtle } = resolveCrypto(options.crypto);
  const [x, y] = await Promise.all([subtle.exportKey('spki', a), subtle.exportKey('spki', b)]);
  if (x.byteLength !== y.byteLength) return false;
  const u = new Uint8Array(x);
  const v = new Uint8Array(y);
  return u.every((byte, i) => byte === v[i]);
}
