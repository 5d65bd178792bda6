// What a ZTS (or something posing as one) may answer that parses as JSON and even as a certificate, and still must end
// in a typed error from the identity provider's get(), with nothing written to the sink.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createZtsClient } from '@ecs-identity/athenz-zts';
import { athenzIdentityProvider, siadFileSink } from '@ecs-identity/athenz-zts/node';
import { IdentityError } from '@ecs-identity/core';
import { startTaskEmulators } from '@ecs-identity/testkit';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const start = () => startTaskEmulators({ consul: false });
let world: Awaited<ReturnType<typeof start>>;
let root: string;
beforeAll(async () => {
  world = await start();
  root = mkdtempSync(join(tmpdir(), 'athenz-hostile-'));
});
afterAll(async () => {
  await world.close();
  rmSync(root, { recursive: true, force: true });
});

/** A certificate for sports.api whose extension `oid` holds bytes that are not what the extension must be. */
async function certificateWithBrokenExtension(oid: string, value: Uint8Array<ArrayBuffer>): Promise<string> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '01',
      name: 'CN=sports.api',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: alg,
      keys: keys as CryptoKeyPair,
      extensions: [new x509.Extension(oid, false, value)],
    },
    webcrypto as Crypto,
  );
  return cert.toString('pem');
}

describe('a register answer with a certificate that cannot be decoded', () => {
  // The names are read from the subjectAltName alone: an undecodable one is named as such; an undecodable extension
  // the client never reads (basicConstraints) must not surface as a plain Error either: the answer is still refused,
  // typed, for what is checked next (this test certificate does not certify the provider's key).
  for (const [what, oid, value, message] of [
    [
      'a subjectAltName that is not a GeneralNames',
      '2.5.29.17',
      Uint8Array.of(0x30, 0x05, 0x86, 0x10, 0x41),
      /cannot be decoded/,
    ],
    ['an empty basicConstraints', '2.5.29.19', Uint8Array.of(), /cannot be decoded|does not certify our key/],
  ] as const) {
    it(`${what}: get() rejects with a typed error and saves nothing`, async () => {
      const pem = await certificateWithBrokenExtension(oid, value);
      world.zts.setFault({
        match: { method: 'POST', path: /^\/instance$/ },
        status: 201,
        body: JSON.stringify({
          provider: world.athenzProvider,
          name: 'sports.api',
          instanceId: 'x',
          x509Certificate: pem,
        }),
      });
      const zts = createZtsClient({ url: world.zts.baseUrl, caBundle: world.zts.caPem });
      const sinkRoot = join(root, oid);
      const identity = athenzIdentityProvider({
        zts,
        env: world.env,
        dnsSuffixes: [world.names.dnsSuffix],
        key: { type: 'ec' },
        sts: { endpoint: world.aws.url },
        sink: siadFileSink({ root: sinkRoot }),
        retry: { initial: { maxAttempts: 1 } },
        refresh: { background: false },
      });
      try {
        const e = await identity.get().catch((err: unknown) => err);
        expect(e).toBeInstanceOf(IdentityError);
        expect((e as IdentityError).code).toBe('INVALID_RESPONSE');
        expect((e as Error).message).toMatch(message);
        expect(() => readdirSync(join(sinkRoot, 'certs'))).toThrow(); // nothing was written
      } finally {
        world.zts.setFault();
        await identity.close();
        await zts.close();
      }
    });
  }
});
