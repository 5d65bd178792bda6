// The ZTS client's default transport in each build: Node's presents client certificates and trusts the CA bundle
// (through core's clientCertificateAgents, tested in core); the browser-safe one can do neither, and says so.
import 'reflect-metadata';
import { createZtsClient, exportPrivateKeyPem, generateKeyPair } from '@ecs-identity/athenz-zts';
import { X509CertificateGenerator } from '@peculiar/x509';
import { beforeAll, expect, it } from 'vitest';
import { createZtsClient as browserCreateZtsClient } from '../src/index.js';
import { nodeZtsPlatform } from '../src/node/zts-transport.js';

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

it('the Node build trusts caBundle; the browser-safe build refuses it and client certificates, naming transport', async () => {
  const node = createZtsClient({ url: 'https://zts.example.com:4443/zts/v1', caBundle: 'not used before a call' });
  expect(node.caBundle).toBe('not used before a call');
  await node.close();
  expect(() => browserCreateZtsClient({ url: 'https://zts.example.com:4443/zts/v1', caBundle: 'x' })).toThrow(
    expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/pass a transport/) }),
  );
  const browser = browserCreateZtsClient({ url: 'https://zts.example.com:4443/zts/v1' });
  await expect(browser.accessToken({ scope: 'sports:domain' }, tls[0]!)).rejects.toMatchObject({
    code: 'INVALID_CONFIG',
    message: expect.stringMatching(/elsewhere pass transport/),
  });
});

it('refuses a key that does not match its certificate, without echoing the key', () => {
  const { transport, close } = nodeZtsPlatform.transport({ caBundle: undefined, timeoutMs: 1000, keepAlive: false });
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
    close();
  }
});
