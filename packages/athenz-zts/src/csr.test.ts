// @peculiar/x509 needs the Reflect polyfill loaded before it.
import 'reflect-metadata';
import { IdentityError } from '@ecs-identity/core';
import { CertificationRequest } from '@peculiar/asn1-csr';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  type JsonGeneralName,
  Pkcs10CertificateRequest,
  Pkcs10CertificateRequestGenerator,
  SubjectAlternativeNameExtension,
} from '@peculiar/x509';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRoleCsr, buildServiceCsr, type RoleCsrOptions, type ServiceCsrOptions } from './csr.js';
import { generateKeyPair, samePublicKey } from './keys.js';
import { describeCsr } from './x509-info.js';

let rsa: CryptoKeyPair;
let ec: CryptoKeyPair;
beforeAll(async () => {
  [rsa, ec] = await Promise.all([generateKeyPair(), generateKeyPair({ type: 'ec' })]);
});

const TASK = '7ae8a1c6f1d64e2a8d40f4ac8b2a1a0e';
const PROVIDER = 'athenz.aws-ecs.us-west-2';

function service(over: Partial<ServiceCsrOptions> = {}): ServiceCsrOptions {
  return {
    keys: rsa,
    domain: 'sports.prod',
    service: 'api',
    provider: PROVIDER,
    instanceId: TASK,
    dnsSuffixes: ['aws.athenz.cloud'],
    ...over,
  };
}

function role(over: Partial<RoleCsrOptions> = {}): RoleCsrOptions {
  return {
    keys: rsa,
    domain: 'sports.prod',
    service: 'api',
    roleDomain: 'weather',
    role: 'readers',
    provider: PROVIDER,
    instanceId: TASK,
    ...over,
  };
}

async function failure(p: Promise<unknown>): Promise<IdentityError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!IdentityError.is(e)) throw new Error(`expected an IdentityError, got ${String(e)}`);
  return e;
}

describe('buildServiceCsr', () => {
  it('has CN, OU = provider, a DNS SAN per suffix, the SPIFFE and instance-id URIs, and a valid signature', async () => {
    const built = await buildServiceCsr(service({ dnsSuffixes: ['aws.athenz.cloud', 'us-west-2.aws.example.com'] }));
    const csr = new Pkcs10CertificateRequest(built.pem);
    expect(await csr.verify()).toBe(true);
    expect(csr.signatureAlgorithm.name).toBe('RSASSA-PKCS1-v1_5');
    expect((csr.signatureAlgorithm.hash as Algorithm).name).toBe('SHA-256');
    const n = await describeCsr(built.pem);
    expect(n.commonNames).toEqual(['sports.prod.api']);
    expect(n.organizationalUnits).toEqual([PROVIDER]);
    expect(n.organizations).toEqual([]);
    expect(n.dnsNames).toEqual(['api.sports-prod.aws.athenz.cloud', 'api.sports-prod.us-west-2.aws.example.com']);
    expect(n.uris).toEqual(['spiffe://sports.prod/sa/api', `athenz://instanceid/${PROVIDER}/${TASK}`]);
    expect(n.instanceId).toBe(TASK);
    expect(n.instanceProvider).toBe(PROVIDER);
    expect(n.emails).toEqual([]);
    // no `<id>.instanceid.athenz.<suffix>` DNS name on Fargate
    expect(n.dnsNames.some((d) => d.includes('.instanceid.'))).toBe(false);
    expect(built.dnsNames).toEqual(n.dnsNames);
    expect(built.uris).toEqual(n.uris);
    const spki = await crypto.subtle.importKey(
      'spki',
      csr.publicKey.rawData,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['verify'],
    );
    expect(await samePublicKey(spki, rsa.publicKey)).toBe(true);
  });

  it('lower-cases names, adds wildcard and extra names, the trust-domain SPIFFE form and subject fields', async () => {
    const built = await buildServiceCsr(
      service({
        domain: 'Sports.Prod',
        service: 'API',
        wildcard: true,
        extraDnsNames: ['www.api.aws.athenz.cloud'],
        spiffe: { trustDomain: 'athenz.io', namespace: 'default' },
        subject: { country: 'US', organization: 'Athenz' },
      }),
    );
    const n = await describeCsr(built.pem);
    expect(n.commonNames).toEqual(['sports.prod.api']);
    expect(n.organizations).toEqual(['Athenz']);
    expect(n.dnsNames).toEqual([
      'api.sports-prod.aws.athenz.cloud',
      '*.api.sports-prod.aws.athenz.cloud',
      'www.api.aws.athenz.cloud',
    ]);
    expect(n.spiffeUris).toEqual(['spiffe://athenz.io/ns/default/sa/sports.prod.api']);
  });

  it('keeps subject values as given: quotes, backslashes and commas are data, not DN-string syntax', async () => {
    for (const organization of ['Acme "Inc"', 'Acme\\, Ltd', 'Éditions "Ça", S.A.', '#1 + co']) {
      const n = await describeCsr((await buildServiceCsr(service({ keys: ec, subject: { organization } }))).pem);
      expect(n.organizations).toEqual([organization]);
    }
  });

  it('signs with ECDSA P-256 keys', async () => {
    const built = await buildServiceCsr(service({ keys: ec, spiffe: false }));
    const csr = new Pkcs10CertificateRequest(built.pem);
    expect(csr.signatureAlgorithm.name).toBe('ECDSA');
    expect(await csr.verify()).toBe(true);
    expect((await describeCsr(built.pem)).spiffeUris).toEqual([]);
  });

  it("encodes exactly what @peculiar/x509's generator encodes for the same names (RSA: the whole DER; P-256: the signed part)", async () => {
    // The generator as a reference, fed the expected subject and SAN entries, not our encoding read back.
    const reference = async (keys: CryptoKeyPair, name: Record<string, string[]>[], san: JsonGeneralName[]) => {
      const algorithm =
        keys.privateKey.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : rsa.privateKey.algorithm;
      const req = await Pkcs10CertificateRequestGenerator.create({
        name,
        keys,
        signingAlgorithm: { ...algorithm, hash: 'SHA-256' },
        extensions: [new SubjectAlternativeNameExtension(san)],
      });
      return req.rawData;
    };
    const der = (pem: string) => new Pkcs10CertificateRequest(pem).rawData;
    // the request info as encoded (the bytes the signature covers)
    const signedPart = (d: ArrayBuffer) =>
      Buffer.from(AsnConvert.parse(d, CertificationRequest).certificationRequestInfoRaw as ArrayBuffer);
    const serviceSan: JsonGeneralName[] = [
      { type: 'dns', value: 'api.sports-prod.aws.athenz.cloud' },
      { type: 'dns', value: '*.api.sports-prod.aws.athenz.cloud' },
      { type: 'url', value: 'spiffe://sports.prod/sa/api' },
      { type: 'url', value: `athenz://instanceid/${PROVIDER}/${TASK}` },
    ];
    const built = der((await buildServiceCsr(service({ wildcard: true }))).pem);
    const expected = await reference(rsa, [{ OU: [PROVIDER] }, { CN: ['sports.prod.api'] }], serviceSan);
    expect(Buffer.from(built).equals(Buffer.from(expected))).toBe(true);

    const roleBuilt = der((await buildRoleCsr(role({ emailDomain: 'example.com', subject: { country: 'US' } }))).pem);
    const roleExpected = await reference(
      rsa,
      [{ C: ['US'] }, { OU: [PROVIDER] }, { CN: ['weather:role.readers'] }],
      [
        { type: 'url', value: 'spiffe://weather/ra/readers' },
        { type: 'url', value: `athenz://instanceid/${PROVIDER}/${TASK}` },
        { type: 'url', value: 'athenz://principal/sports.prod.api' },
        { type: 'email', value: 'sports.prod.api@example.com' },
      ],
    );
    expect(Buffer.from(roleBuilt).equals(Buffer.from(roleExpected))).toBe(true);

    // ECDSA signatures are randomized: the signed request info must match, and the signature verify.
    const ecPem = (await buildServiceCsr(service({ keys: ec, wildcard: true }))).pem;
    const ecExpected = await reference(ec, [{ OU: [PROVIDER] }, { CN: ['sports.prod.api'] }], serviceSan);
    expect(signedPart(der(ecPem)).equals(signedPart(ecExpected))).toBe(true);
    expect(await new Pkcs10CertificateRequest(ecPem).verify()).toBe(true);
    expect(new Pkcs10CertificateRequest(ecPem).signatureAlgorithm).toEqual(
      new Pkcs10CertificateRequest(ecExpected).signatureAlgorithm,
    );
  });

  it('refuses what ZTS would reject, naming the field', async () => {
    const cases: [Partial<ServiceCsrOptions>, string, RegExp][] = [
      [{ instanceId: '' }, 'INVALID_NAME', /instanceId is required/],
      [{ instanceId: 'a/b' }, 'INVALID_NAME', /instanceId/],
      [{ domain: 'sports..prod' }, 'INVALID_NAME', /domain/],
      [{ service: '-api' }, 'INVALID_NAME', /service/],
      [{ service: 'api.v1' }, 'INVALID_NAME', /service "api\.v1" .*SimpleName/],
      [{ provider: 'athenz aws' }, 'INVALID_NAME', /provider/],
      [{ dnsSuffixes: [] }, 'INVALID_ARGUMENT', /dnsSuffixes/],
      [{ dnsSuffixes: ['.aws.athenz.cloud'] }, 'INVALID_NAME', /dnsSuffixes\[0\]/],
      [{ extraDnsNames: ['api.evil.example.com'] }, 'INVALID_ARGUMENT', /extraDnsNames\[0\].*does not end/],
      [{ spiffe: { trustDomain: 'a/b' } }, 'INVALID_ARGUMENT', /trustDomain/],
      [{ subject: { organization: '' } }, 'INVALID_ARGUMENT', /subject\.organization/],
      [{ keys: { publicKey: rsa.publicKey } as CryptoKeyPair }, 'INVALID_ARGUMENT', /keys/],
    ];
    for (const [over, code, message] of cases) {
      const e = await failure(buildServiceCsr(service(over)));
      expect([e.code, e.message]).toEqual([code, expect.stringMatching(message)]);
    }
  });

  it('never produces more than one CN, OU or SPIFFE URI, whatever valid names it is given', async () => {
    const label = fc.stringMatching(/^[a-z0-9_][a-z0-9_-]{0,8}$/);
    const compound = fc.array(label, { minLength: 1, maxLength: 3 }).map((p) => p.join('.'));
    await fc.assert(
      fc.asyncProperty(compound, label, fc.stringMatching(/^[a-zA-Z0-9._~=+@$,:-]{1,20}$/), async (d, s, id) => {
        const n = await describeCsr(
          (await buildServiceCsr(service({ keys: ec, domain: d, service: s, instanceId: id }))).pem,
        );
        expect(n.commonNames).toEqual([`${d}.${s}`]);
        expect(n.organizationalUnits).toHaveLength(1);
        expect(n.spiffeUris).toEqual([`spiffe://${d}/sa/${s}`]);
        expect(n.instanceId).toBe(id);
        expect(n.dnsNames[0]).toBe(`${s}.${d.replaceAll('.', '-')}.aws.athenz.cloud`);
      }),
      { numRuns: 25 },
    );
  });
});

describe('buildRoleCsr', () => {
  it('has the role CN, SPIFFE role URI, instance id and principal URIs, optional email, no DNS names', async () => {
    const built = await buildRoleCsr(role({ emailDomain: 'zts.athenz.cloud' }));
    const csr = new Pkcs10CertificateRequest(built.pem);
    expect(await csr.verify()).toBe(true);
    const n = await describeCsr(built.pem);
    expect(n.commonNames).toEqual(['weather:role.readers']);
    expect(n.organizationalUnits).toEqual([PROVIDER]);
    expect(n.dnsNames).toEqual([]);
    expect(n.uris).toEqual([
      'spiffe://weather/ra/readers',
      `athenz://instanceid/${PROVIDER}/${TASK}`,
      'athenz://principal/sports.prod.api',
    ]);
    expect(n.emails).toEqual(['sports.prod.api@zts.athenz.cloud']);
  });

  it('supports the trust-domain role form and leaves email out by default', async () => {
    const n = await describeCsr((await buildRoleCsr(role({ spiffe: { trustDomain: 'athenz.io' } }))).pem);
    expect(n.spiffeUris).toEqual(['spiffe://athenz.io/ns/weather/ra/readers']);
    expect(n.emails).toEqual([]);
  });

  it('refuses bad role names, an empty instance id and a bad email domain', async () => {
    expect((await failure(buildRoleCsr(role({ role: 'read ers' })))).message).toMatch(/role/);
    expect((await failure(buildRoleCsr(role({ roleDomain: '' })))).message).toMatch(/roleDomain/);
    expect((await failure(buildRoleCsr(role({ instanceId: '' })))).code).toBe('INVALID_NAME');
    expect((await failure(buildRoleCsr(role({ emailDomain: '@x' })))).message).toMatch(/emailDomain/);
  });
});
