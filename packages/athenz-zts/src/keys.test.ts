import { IdentityError } from '@ecs-identity/core';
import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  exportPrivateKeyPem,
  exportPublicKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  keyTypeOf,
  samePublicKey,
  signingAlgorithmFor,
} from './keys.js';

// One key of each kind for the whole file: RSA keygen is the slow part and these tests are not about it.
let rsa: CryptoKeyPair;
let ec: CryptoKeyPair;
beforeAll(async () => {
  [rsa, ec] = await Promise.all([generateKeyPair(), generateKeyPair({ type: 'ec' })]);
});

async function signVerify(keys: CryptoKeyPair): Promise<boolean> {
  const alg = signingAlgorithmFor(keys.privateKey);
  const data = new TextEncoder().encode('athenz');
  const sig = await crypto.subtle.sign(alg, keys.privateKey, data);
  return crypto.subtle.verify(alg, keys.publicKey, sig, data);
}

async function rejects(p: Promise<unknown>): Promise<IdentityError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!IdentityError.is(e)) throw new Error(`expected an IdentityError, got ${String(e)}`);
  return e;
}

describe('generateKeyPair', () => {
  it('defaults to RSA 2048 RSASSA-PKCS1-v1_5 SHA-256, extractable', () => {
    const alg = rsa.privateKey.algorithm as RsaHashedKeyAlgorithm;
    expect(alg.name).toBe('RSASSA-PKCS1-v1_5');
    expect(alg.modulusLength).toBe(2048);
    expect(alg.hash.name).toBe('SHA-256');
    expect(rsa.privateKey.extractable).toBe(true);
    expect(keyTypeOf(rsa.privateKey)).toBe('rsa');
  });

  it('makes ECDSA P-256 on request', () => {
    expect((ec.privateKey.algorithm as EcKeyAlgorithm).namedCurve).toBe('P-256');
    expect(keyTypeOf(ec.publicKey)).toBe('ec');
  });

  it('refuses unknown key types', async () => {
    // @ts-expect-error: testing the runtime check
    expect((await rejects(generateKeyPair({ type: 'dsa' }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('PEM round trips', () => {
  it('RSA: PKCS#1 by default (what siad writes), and PKCS#8', async () => {
    const pkcs1 = await exportPrivateKeyPem(rsa.privateKey);
    expect(pkcs1).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const pkcs8 = await exportPrivateKeyPem(rsa.privateKey, { format: 'pkcs8' });
    expect(pkcs8).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    for (const pem of [pkcs1, pkcs8]) {
      const back = await importPrivateKeyPem(pem);
      expect(await samePublicKey(back.publicKey, rsa.publicKey)).toBe(true);
      expect(await signVerify(back)).toBe(true);
      // a re-export is byte-identical: nothing is lost in the conversion
      expect(await exportPrivateKeyPem(back.privateKey)).toBe(pkcs1);
      expect(await exportPrivateKeyPem(back.privateKey, { format: 'pkcs8' })).toBe(pkcs8);
    }
  });

  it('EC: SEC1 by default (with the curve), and PKCS#8', async () => {
    const sec1 = await exportPrivateKeyPem(ec.privateKey);
    expect(sec1).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);
    const pkcs8 = await exportPrivateKeyPem(ec.privateKey, { format: 'pkcs8' });
    for (const pem of [sec1, pkcs8]) {
      const back = await importPrivateKeyPem(pem);
      expect(keyTypeOf(back.privateKey)).toBe('ec');
      expect(await samePublicKey(back.publicKey, ec.publicKey)).toBe(true);
      expect(await signVerify(back)).toBe(true);
      expect(await exportPrivateKeyPem(back.privateKey)).toBe(sec1);
    }
  });

  it('accepts an EC PARAMETERS block before the key and CRLF line ends', async () => {
    const sec1 = await exportPrivateKeyPem(ec.privateKey);
    const params = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
    const back = await importPrivateKeyPem((params + sec1).replaceAll('\n', '\r\n'));
    expect(await samePublicKey(back.publicKey, ec.publicKey)).toBe(true);
  });

  it('refuses formats that cannot hold the key', async () => {
    expect((await rejects(exportPrivateKeyPem(ec.privateKey, { format: 'pkcs1' }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejects(exportPrivateKeyPem(rsa.privateKey, { format: 'sec1' }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejects(exportPrivateKeyPem(rsa.publicKey))).code).toBe('INVALID_KEY');
  });

  it('exports the public key as SPKI PEM', async () => {
    expect(await exportPublicKeyPem(rsa.publicKey)).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
  });

  it('works with an injected Web Crypto (@peculiar/webcrypto)', async () => {
    const injected = new PeculiarCrypto() as unknown as Crypto;
    const pem = await exportPrivateKeyPem(ec.privateKey);
    const back = await importPrivateKeyPem(pem, { crypto: injected });
    expect(await exportPrivateKeyPem(back.privateKey, { crypto: injected })).toBe(pem);
  });
});

describe('importPrivateKeyPem refusals', () => {
  it('gives INVALID_KEY without echoing key material', async () => {
    const pkcs1 = await exportPrivateKeyPem(rsa.privateKey);
    const body = pkcs1.split('\n')[5] ?? '';
    const truncated = pkcs1.split('\n').slice(0, 6).join('\n') + '\n-----END RSA PRIVATE KEY-----\n';
    const cases = [
      '',
      'not a pem',
      '-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n',
      '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n',
      truncated,
    ];
    for (const pem of cases) {
      const e = await rejects(importPrivateKeyPem(pem));
      expect(e.code).toBe('INVALID_KEY');
      expect(e.message).not.toContain(body);
    }
  });

  it('refuses an EC key on an unsupported curve', async () => {
    // secp256k1 (1.3.132.0.10), generated with `openssl ecparam -name secp256k1 -genkey -noout`
    const k1 = [
      '-----BEGIN EC PRIVATE KEY-----',
      'MHQCAQEEIJjZhfmRUKPQcu5cvF/C/WQZ7i4yJdN9yPE9c5/D8x5PoAcGBSuBBAAK',
      'oUQDQgAEW556L+7VSilLCNLuIW4QxAOlCuHYb+ehhXVU9ZWXbOBmhejd34Jn6QyX',
      'trpoIbIe8f87aHq/TTBR/g6Ey23pPQ==',
      '-----END EC PRIVATE KEY-----',
    ].join('\n');
    const e = await rejects(importPrivateKeyPem(k1));
    expect(e.code).toBe('INVALID_KEY');
    expect(e.message).toMatch(/P-256 or P-384/);
  });
});
