import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { IdentityError } from '@ecs-identity/core';
import { SubjectAlternativeNameExtension, X509Certificate } from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { describeCertificate, describeCsr, parseCertificate } from './x509-info.js';

// Athenz's own test CSRs (see test/fixtures/README.md): real data written by others.
const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/athenz-csr/${name}`, import.meta.url), 'utf8');

describe('describeCsr on the Athenz fixtures', () => {
  it('reads the instance id from the athenz://instanceid URI', async () => {
    const n = await describeCsr(fixture('zts/athenz.instanceid.uri.csr'));
    expect(n.commonNames).toEqual(['athenz.api']);
    expect(n.instanceId).toBe('id-001');
    expect(n.instanceProvider).toBe('athenz.provider');
    expect(n.spiffeUris).toEqual(['spiffe://athenz/sa/api']);
    expect(n.organizationalUnits).toEqual(['Testing Domain']);
  });

  it('reports both SPIFFE URIs in SAN order (the server rejects such a CSR)', async () => {
    expect((await describeCsr(fixture('auth_core/valid_multiple_uri.csr'))).spiffeUris).toEqual([
      'spiffe://athenz/domain1/service1',
      'spiffe://athenz/domain1/service2',
    ]);
  });

  it('reports every CN, O and OU so callers can count them', async () => {
    expect((await describeCsr(fixture('zts/multiple_cn.csr'))).commonNames).toEqual([
      'domain.service1',
      'domain.service2',
    ]);
    expect((await describeCsr(fixture('zts/multiple_org.csr'))).organizations).toEqual(['org1', 'org2']);
    expect((await describeCsr(fixture('zts/athenz.multiple_ou.csr'))).organizationalUnits).toEqual(['Athenz', 'Yahoo']);
  });

  it('reads role CSRs: principal URI and email; a file without a trailing newline', async () => {
    const n = await describeCsr(fixture('zts/athenz_role_principal_uri_email.csr'));
    expect(n.commonNames).toEqual(['user-domain:role.readers']);
    expect(n.uris).toEqual(['athenz://principal/athenz.production']);
    expect(n.emails).toEqual(['athenz.production@zts.athenz.cloud']);
    const noNewline = fixture('zts/spiffe_role.csr');
    expect(noNewline.endsWith('\n')).toBe(false);
    expect((await describeCsr(noNewline)).spiffeUris).toEqual(['spiffe://coretech/ra/api']);
  });

  it('gives INVALID_CSR for something that is not a CSR', async () => {
    await expect(describeCsr('garbage')).rejects.toThrow(IdentityError);
    const e = await describeCsr(fixture('sia-util/cert.pem')).catch((err: unknown) => err);
    expect(IdentityError.is(e, 'INVALID_CSR')).toBe(true);
  });
});

describe('describeCertificate', () => {
  it('reads a ZTS-issued certificate (the Go SIA mock response)', async () => {
    const n = await describeCertificate(fixture('sia-util/cert.pem'));
    expect(n.commonNames).toEqual(['athenz.hockey']);
    expect(n.organizationalUnits).toEqual(['Athenz']);
    expect(n.dnsNames).toEqual([
      'hockey.athenz.us-west-2.aws.athenz.oath.cloud',
      'i-03d1ae7035f931a90.instanceid.athenz.us-west-2.aws.athenz.oath.cloud',
    ]);
  });

  it('reads the same names from a certificate it parsed (the SAN alone) as @peculiar/x509 reads from every extension', async () => {
    for (const name of ['sia-util/cert.pem']) {
      const pem = fixture(name);
      const ours = await parseCertificate(pem);
      const theirs = new X509Certificate(pem);
      expect(ours.serialNumber).toBe(theirs.serialNumber);
      expect(ours.subject).toBe(theirs.subject);
      expect(ours.issuer).toBe(theirs.issuer);
      expect(ours.notBefore.getTime()).toBe(theirs.notBefore.getTime());
      expect(ours.notAfter.getTime()).toBe(theirs.notAfter.getTime());
      expect(Buffer.from(ours.der).equals(Buffer.from(theirs.rawData))).toBe(true);
      expect(Buffer.from(ours.publicKeySpki).equals(Buffer.from(theirs.publicKey.rawData))).toBe(true);
      const san = theirs.getExtension(SubjectAlternativeNameExtension);
      expect(san).not.toBeNull();
      expect(ours.names.dnsNames).toEqual(san?.names.items.filter((n) => n.type === 'dns').map((n) => n.value));
      expect(await describeCertificate(ours)).toEqual(await describeCertificate(pem));
      expect(ours.names.dnsNames.length).toBeGreaterThan(0);
    }
  });

  it('hands out plain frozen data, and copies of its names', async () => {
    const ours = await parseCertificate(fixture('sia-util/cert.pem'));
    expect(Object.isFrozen(ours)).toBe(true);
    const names = await describeCertificate(ours);
    names.dnsNames.push('evil.example');
    expect(ours.names.dnsNames).not.toContain('evil.example');
    expect(JSON.parse(JSON.stringify(ours)).serialNumber).toBe(ours.serialNumber);
  });

  it('gives INVALID_RESPONSE for something that is not a certificate', async () => {
    const e = await describeCertificate('garbage').catch((err: unknown) => err);
    expect(IdentityError.is(e, 'INVALID_RESPONSE')).toBe(true);
  });
});
