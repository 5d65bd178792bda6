import { Crypto as PeculiarCrypto } from '@peculiar/webcrypto';
import { describe, expect, it } from 'vitest';
import { exportPrivateKeyPem, generateKeyPair, type PrivateKeyFormat } from '../keys.js';
import { nodeKeyPem } from './identity-issuer.js';

describe('nodeKeyPem', () => {
  it('writes the same PEM as the @peculiar/asn1-* path, in every format of both key types', async () => {
    const cases: [CryptoKeyPair, PrivateKeyFormat[]][] = [];
    for (let i = 0; i < 20; i++) cases.push([await generateKeyPair({ type: 'ec' }), ['sec1', 'pkcs8']]);
    cases.push([await generateKeyPair({ type: 'rsa' }), ['pkcs1', 'pkcs8']]);
    for (const [keys, formats] of cases) {
      for (const format of formats) {
        const native = nodeKeyPem(keys.privateKey, format);
        expect(native).toMatch(/^-----BEGIN /);
        expect(native).toBe(await exportPrivateKeyPem(keys.privateKey, { format }));
      }
    }
  });

  it('leaves a key of another Web Crypto implementation to the @peculiar path', async () => {
    const crypto = new PeculiarCrypto();
    const keys = await generateKeyPair({ type: 'ec', crypto });
    expect(nodeKeyPem(keys.privateKey, 'sec1')).toBeUndefined();
  });
});
