import { createHash, createHmac } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NodeSha256, Sha256 as RuntimeSha256, WebCryptoSha256 } from './sha256.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

it('is node:crypto in Node', () => {
  expect(RuntimeSha256).toBe(NodeSha256);
});

// Node's own OpenSSL hash and @aws-crypto/sha256-js (what @smithy/signature-v4 was given before) as references.
describe.each([
  ['WebCryptoSha256', WebCryptoSha256],
  ['NodeSha256', NodeSha256],
] as const)('%s', (_name, Impl) => {
  it('hashes and HMACs like node:crypto and @aws-crypto/sha256-js, for strings, bytes and views, in pieces', async () => {
    const piece = fc.oneof(fc.string({ maxLength: 80 }), fc.uint8Array({ maxLength: 200 }));
    await fc.assert(
      fc.asyncProperty(fc.option(piece, { nil: undefined }), fc.array(piece, { maxLength: 4 }), async (key, parts) => {
        const ours = new Impl(key);
        const theirs = new Sha256(key);
        const node = key === undefined ? createHash('sha256') : createHmac('sha256', key);
        for (const p of parts) {
          ours.update(p);
          theirs.update(p);
          node.update(p);
        }
        const digest = await ours.digest();
        expect(digest.byteLength).toBe(32);
        expect(hex(digest)).toBe(node.digest('hex'));
        // sha256-js takes an empty string key for no key at all (a plain hash); an HMAC key is a key.
        if (key !== '') expect(hex(digest)).toBe(hex(await theirs.digest()));
      }),
      { numRuns: 60 },
    );
  });

  it('reads a view at its offset, copies what it is given, and starts over on reset', async () => {
    const backing = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const h = new Impl('key');
    h.update(backing.subarray(2, 5));
    backing.fill(0); // the caller reuses its buffer before digest()
    expect(hex(await h.digest())).toBe(
      createHmac('sha256', 'key')
        .update(Uint8Array.of(1, 2, 3))
        .digest('hex'),
    );
    h.reset();
    h.update('abc');
    expect(hex(await h.digest())).toBe(createHmac('sha256', 'key').update('abc').digest('hex'));
  });

  it('takes an empty key (HMAC pads it with zeros)', async () => {
    const h = new Impl(new Uint8Array(0));
    h.update('data');
    expect(hex(await h.digest())).toBe(createHmac('sha256', Buffer.alloc(0)).update('data').digest('hex'));
  });
});
