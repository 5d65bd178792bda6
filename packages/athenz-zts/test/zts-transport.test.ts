// The Node transport keeps one agent per client certificate (current and previous), destroying older ones.
import 'reflect-metadata';
import { exportPrivateKeyPem, generateKeyPair, ztsTransport } from '@ecs-identity/athenz-zts/node';
import { X509CertificateGenerator } from '@peculiar/x509';
import { beforeAll, expect, it } from 'vitest';

const tls: { keyPem: string; certPem: string }[] = [];
beforeAll(async () => {
  for (let i = 0; i < 3; i++) {
    const keys = await generateKeyPair({ type: 'ec' });
    const cert = await X509CertificateGenerator.createSelfSigned({
      serialNumber: `0${i + 1}`,
      name: 'CN=sports.api',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 3600_000),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    tls.push({ keyPem: await exportPrivateKeyPem(keys.privateKey), certPem: cert.toString('pem') });
  }
});

it('reuses the client for the same certificate, keeps the previous one, and drops older ones', () => {
  const transport = ztsTransport({ keepAlive: true });
  try {
    const plain = transport(undefined);
    expect(transport(undefined)).toBe(plain);
    const a = transport(tls[0]);
    expect(transport({ ...tls[0]! })).toBe(a);
    const b = transport(tls[1]);
    expect(b).not.toBe(a);
    expect(transport(tls[0])).toBe(a); // the previous certificate's agent is still there
    const c = transport(tls[2]); // the two newest certificates (2 and 1) are kept; 0's agent is destroyed
    expect(transport(tls[1])).toBe(b);
    expect(transport(tls[2])).toBe(c);
    expect(transport(tls[0])).not.toBe(a);
    expect(a).not.toBe(plain);
  } finally {
    transport.close();
  }
});

it('refuses a key that does not match its certificate, without echoing the key', () => {
  const transport = ztsTransport();
  try {
    const mismatched = { keyPem: tls[0]!.keyPem, certPem: tls[1]!.certPem };
    let message = '';
    try {
      transport(mismatched);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/key|cert/i);
    expect(message).not.toContain(tls[0]!.keyPem.split('\n')[1]);
  } finally {
    transport.close();
  }
});
