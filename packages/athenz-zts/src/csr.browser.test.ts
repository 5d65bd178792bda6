// The browser-safe entry in real Chromium: Web Crypto keys, PEM export, CSR building and reading back.
import 'reflect-metadata';
import {
  buildRoleCsr,
  buildServiceCsr,
  describeCsr,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
} from '@ecs-identity/athenz-zts';
import { Pkcs10CertificateRequest } from '@peculiar/x509';
import { expect, it } from 'vitest';

it('builds and verifies service and role CSRs in the browser (RSA and P-256)', async () => {
  expect(typeof window).toBe('object');
  for (const type of ['rsa', 'ec'] as const) {
    const keys = await generateKeyPair({ type });
    const base = { keys, domain: 'sports', service: 'api', provider: 'athenz.aws-ecs.us-east-1', instanceId: 'task-1' };
    const svc = await buildServiceCsr({ ...base, dnsSuffixes: ['aws.athenz.cloud'] });
    expect(await new Pkcs10CertificateRequest(svc.pem).verify()).toBe(true);
    expect((await describeCsr(svc.pem)).dnsNames).toEqual(['api.sports.aws.athenz.cloud']);
    const role = await buildRoleCsr({ ...base, roleDomain: 'weather', role: 'readers' });
    expect((await describeCsr(role.pem)).commonNames).toEqual(['weather:role.readers']);
    // PKCS#1 / SEC1 conversion runs on the browser's Web Crypto too
    const pem = await exportPrivateKeyPem(keys.privateKey);
    expect(pem).toMatch(type === 'rsa' ? /RSA PRIVATE KEY/ : /EC PRIVATE KEY/);
    const back = await importPrivateKeyPem(pem);
    expect(await exportPrivateKeyPem(back.privateKey)).toBe(pem);
  }
});
