// The fake ZTS over real HTTPS: the SIA flow end to end (register → refresh over mTLS → role cert → access token →
// JWKS → delete) and one negative test per server rule, each a single mutation of a valid request.
// Attestation goes through an injected GetCallerIdentity here; zts-aws.test.ts runs it against the AWS emulator.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallerIdentityFn, startZts, type ZtsEmulator } from '../src/index.js';
import { certificateThumbprint } from '../src/zts/tokens.js';
import { type CsrSpec, call, makeCsr, manualClock, newKey, type TestKey, validAt } from './zts-helpers.js';

const PROVIDER = 'athenz.aws-ecs.us-west-2';
const ACCOUNT = '123456789012';
const TASK = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const MINUTE = 60_000;

const goodCreds = { access: 'ASIAGOODKEY', secret: 'good-secret', token: 'good-token' };
const callerIdentity: CallerIdentityFn = async (c) => {
  if (
    c.accessKeyId === goodCreds.access &&
    c.secretAccessKey === goodCreds.secret &&
    c.sessionToken === goodCreds.token
  )
    return `arn:aws:sts::${ACCOUNT}:assumed-role/sports.api/sports.api`;
  if (c.accessKeyId === 'ASIABACKEND') return `arn:aws:sts::${ACCOUNT}:assumed-role/sports.backend/sports.backend`;
  if (c.accessKeyId === 'ASIAOTHERACCT') return 'arn:aws:sts::999999999999:assumed-role/sports.api/sports.api';
  // siad's omit_domain: the IAM role is named after the service alone
  if (c.accessKeyId === 'ASIAOMIT') return `arn:aws:sts::${ACCOUNT}:assumed-role/api/api`;
  // the same role in the other partitions
  if (c.accessKeyId === 'ASIACHINA') return `arn:aws-cn:sts::${ACCOUNT}:assumed-role/sports.api/sports.api`;
  if (c.accessKeyId === 'ASIAGOV') return `arn:aws-us-gov:sts::${ACCOUNT}:assumed-role/sports.api/sports.api`;
  throw new Error('InvalidClientTokenId');
};

const attestation = (over: Record<string, string> = {}) =>
  JSON.stringify({ role: 'sports.api', commonName: 'sports.api', ...goodCreds, taskid: TASK, ...over });

function serviceSpec(over: Partial<CsrSpec> = {}, task = TASK): CsrSpec {
  return {
    subject: `CN=sports.api, OU=${PROVIDER}`,
    dns: ['api.sports.athenz.cloud'],
    uris: ['spiffe://sports/sa/api', `athenz://instanceid/${PROVIDER}/${task}`],
    ...over,
  };
}

let zts: ZtsEmulator;
let key: TestKey;
let otherKey: TestKey;
const clock = manualClock();

beforeAll(async () => {
  [key, otherKey] = await Promise.all([newKey(), newKey()]);
  zts = await startZts({
    callerIdentity,
    // PROVIDER may request hostnames under sports.athenz.cloud; other.provider has no allowed hostname suffix
    providers: [{ name: PROVIDER, hostnameSuffixes: ['sports.athenz.cloud'] }, 'other.provider'],
    dnsSuffix: 'athenz.cloud',
    clock,
    domains: [
      {
        name: 'sports',
        awsAccount: ACCOUNT,
        services: ['api', 'backend', { name: 'web', providers: ['other.provider'] }],
        roles: { readers: ['sports.api'], writers: ['sports.backend'], all: ['sports.*'] },
        instanceDeleters: ['sports.backend'],
      },
      { name: 'noaccount', services: ['api'] },
    ],
  });
});

afterAll(async () => {
  await zts.close();
});

async function register(csr: string, over: Record<string, unknown> = {}) {
  return call(`${zts.baseUrl}/instance`, 'POST', {
    ca: zts.caPem,
    json: { provider: PROVIDER, domain: 'sports', service: 'api', attestationData: attestation(), csr, ...over },
  });
}

async function registered(task = TASK, k: TestKey = key) {
  const res = await register(await makeCsr(k, serviceSpec({}, task)));
  expect(res.status).toBe(201);
  return res.json.x509Certificate as string;
}

function refreshUrl(task = TASK, domain = 'sports', service = 'api') {
  return `${zts.baseUrl}/instance/${PROVIDER}/${domain}/${service}/${task}`;
}

async function refreshWith(
  cert: string,
  k: TestKey,
  csr: string,
  over: Record<string, unknown> = {},
  url = refreshUrl(),
) {
  return call(url, 'POST', {
    ca: zts.caPem,
    cert,
    key: k.pem,
    json: { attestationData: attestation(), csr, ...over },
  });
}

describe('register', () => {
  it('issues a 7-day service certificate chained to the CA, with the CSR subject and SANs', async () => {
    const res = await register(await makeCsr(key, serviceSpec()));
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/zts/v1/instance/${PROVIDER}/sports/api/${TASK}`);
    expect(res.json).toMatchObject({ provider: PROVIDER, name: 'sports.api', instanceId: TASK });
    expect(res.json.x509CertificateSigner).toBe(zts.caPem);
    const cert = new x509.X509Certificate(res.json.x509Certificate);
    const ca = new x509.X509Certificate(zts.caPem);
    expect(await validAt(cert, ca, clock.now())).toBe(true);
    expect(cert.subject).toBe(`CN=sports.api, OU=${PROVIDER}`);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san?.names.items.map((n) => `${n.type}:${n.value}`)).toEqual([
      'dns:api.sports.athenz.cloud',
      'url:spiffe://sports/sa/api',
      `url:athenz://instanceid/${PROVIDER}/${TASK}`,
    ]);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([
      x509.ExtendedKeyUsage.serverAuth,
      x509.ExtendedKeyUsage.clientAuth,
    ]);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
    );
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(7 * 24 * 60 * MINUTE);
    const record = zts.records().find((r) => r.instanceId === TASK);
    expect(record).toMatchObject({ provider: PROVIDER, service: 'sports.api' });
    expect(record?.currentSerial).toBe(cert.serialNumber.toLowerCase());
    expect(record?.prevSerial).toBe(record?.currentSerial);
  });

  it('expiryTime (minutes) can only lower the lifetime', async () => {
    const short = await register(await makeCsr(key, serviceSpec()), { expiryTime: 60 });
    const c1 = new x509.X509Certificate(short.json.x509Certificate);
    expect(c1.notAfter.getTime() - c1.notBefore.getTime()).toBe(60 * MINUTE);
    const long = await register(await makeCsr(key, serviceSpec()), { expiryTime: 60 * 24 * 30 });
    const c2 = new x509.X509Certificate(long.json.x509Certificate);
    expect(c2.notAfter.getTime() - c2.notBefore.getTime()).toBe(7 * 24 * 60 * MINUTE);
  });

  it('lower-cases provider, domain and service', async () => {
    const res = await register(await makeCsr(key, serviceSpec()), {
      provider: PROVIDER.toUpperCase(),
      domain: 'SPORTS',
      service: 'Api',
    });
    expect(res.status).toBe(201);
    expect(res.json.name).toBe('sports.api');
  });

  const bad = async (csrSpec: Partial<CsrSpec>, over: Record<string, unknown> = {}) =>
    register(await makeCsr(key, serviceSpec(csrSpec)), over);

  it.each<[string, () => Promise<{ status: number; json: unknown }>, number, string]>([
    ['unknown domain', () => bad({}, { domain: 'nosuch' }), 404, 'Domain not found: nosuch'],
    ['service not registered', () => bad({}, { service: 'db' }), 400, 'Service not registered in domain'],
    [
      'provider not authorised in Athenz',
      () => bad({}, { provider: 'rogue.provider' }),
      403,
      "provider 'rogue.provider' not authorized to launch instances in Athenz",
    ],
    [
      'provider not authorised by the service',
      () => bad({ subject: 'CN=sports.web' }, { service: 'web' }),
      403,
      `provider '${PROVIDER}' not authorized to launch sports.web instances`,
    ],
    [
      'malformed domain name',
      () => bad({}, { domain: 'bad domain' }),
      400,
      'Invalid InstanceRegisterInformation error',
    ],
    [
      'malformed service name',
      () => bad({}, { service: 'api web' }),
      400,
      'Invalid InstanceRegisterInformation error: pattern mismatch: service',
    ],
    [
      'malformed provider name',
      () => bad({}, { provider: 'athenz..aws-ecs' }),
      400,
      'Invalid InstanceRegisterInformation error: pattern mismatch: provider',
    ],
    ['missing attestation data', () => bad({}, { attestationData: undefined }), 400, 'missing required field'],
    ['CSR not PEM', () => register('not a csr'), 400, 'unable to parse PKCS10 CSR: Invalid csr provided'],
    [
      'two CNs',
      () => bad({ subject: 'CN=sports.api, CN=sports.web' }),
      400,
      'unable to parse PKCS10 CSR: Unable to extract CN from CSR:Subject contains multiple values',
    ],
    [
      'two SPIFFE URIs',
      () =>
        bad({ uris: ['spiffe://sports/sa/api', 'spiffe://sports/sa/web', `athenz://instanceid/${PROVIDER}/${TASK}`] }),
      400,
      'unable to parse PKCS10 CSR: Invalid SPIFFE URI present in CSR',
    ],
    [
      'no instance id',
      () => bad({ uris: ['spiffe://sports/sa/api'] }),
      400,
      'CSR validation failed - InstanceId cannot be empty',
    ],
    [
      'empty instance id',
      () => bad({ uris: [`athenz://instanceid/${PROVIDER}/`] }),
      400,
      'CSR validation failed - InstanceId cannot be empty',
    ],
    [
      'CN of another service',
      () => bad({ subject: `CN=sports.backend, OU=${PROVIDER}` }),
      400,
      'CSR validation failed - Unable to validate CSR common name',
    ],
    [
      'SPIFFE URI of another service',
      () => bad({ uris: ['spiffe://sports/sa/web', `athenz://instanceid/${PROVIDER}/${TASK}`] }),
      400,
      'CSR validation failed - Unable to validate Service SPIFFE URI',
    ],
    [
      'DNS name outside the suffixes',
      () => bad({ dns: ['api.sports.athenz.cloud', 'api.sports.evil.com'] }),
      400,
      'CSR validation failed - api.sports.evil.com does not end with provider/service configured suffix or hostname',
    ],
    [
      'suffix match must be on a label boundary',
      () => bad({ dns: ['api.sports.evilathenz.cloud'] }),
      400,
      'does not end with provider/service configured suffix or hostname',
    ],
    [
      'two O values',
      () => bad({ subject: `O=Athenz, O=Other, CN=sports.api, OU=${PROVIDER}` }),
      400,
      'CSR validation failed - Unable to validate Subject O Field',
    ],
    [
      'two OU values',
      () => bad({ subject: `CN=sports.api, OU=${PROVIDER}, OU=Other` }),
      400,
      'CSR Subject OrgUnit validation failed',
    ],
    [
      'OU not the provider',
      () => bad({ subject: 'CN=sports.api, OU=Other' }),
      400,
      'CSR Subject OrgUnit validation failed',
    ],
    [
      'no service label in the DNS name (provider check)',
      () => bad({ dns: ['web.sports.athenz.cloud'] }),
      403,
      'unable to verify attestation data: Unable to validate certificate request hostnames',
    ],
    [
      'no DNS name at all (provider check)',
      () => bad({ dns: [] }),
      403,
      'unable to verify attestation data: Unable to validate certificate request hostnames',
    ],
    [
      'attestation for another role',
      () => bad({}, { attestationData: attestation({ role: 'sports.backend' }) }),
      403,
      'unable to verify attestation data: Service name mismatch: sports.backend vs. sports.api',
    ],
    [
      'credentials of another role',
      () => bad({}, { attestationData: attestation({ access: 'ASIABACKEND' }) }),
      403,
      'unable to verify attestation data: Unable to verify instance identity credentials',
    ],
    [
      'credentials from another account',
      () => bad({}, { attestationData: attestation({ access: 'ASIAOTHERACCT' }) }),
      403,
      'unable to verify attestation data: Unable to verify instance identity credentials',
    ],
    [
      'credentials STS refuses',
      () => bad({}, { attestationData: attestation({ secret: 'wrong' }) }),
      403,
      'unable to verify attestation data: Unable to verify instance identity credentials',
    ],
    [
      'no session token',
      () => bad({}, { attestationData: attestation({ token: '' }) }),
      403,
      'unable to verify attestation data: Unable to verify instance identity credentials',
    ],
    [
      'attestation not JSON',
      () => bad({}, { attestationData: 'not json' }),
      403,
      'unable to verify attestation data: Unable to parse attestation data',
    ],
    [
      'domain without an AWS account',
      () =>
        bad(
          {
            dns: ['api.noaccount.athenz.cloud'],
            subject: `CN=noaccount.api, OU=${PROVIDER}`,
            uris: [`athenz://instanceid/${PROVIDER}/${TASK}`],
          },
          { domain: 'noaccount' },
        ),
      403,
      'unable to verify attestation data: Unable to extract AWS Account id',
    ],
  ])('rejects %s', async (_name, send, status, message) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.json).toMatchObject({ code: status });
    expect((res.json as { message: string }).message).toContain(message);
  });

  it('checks the URI hostname and the requested hostname', async () => {
    const withHost = serviceSpec({
      dns: ['api.sports.athenz.cloud', 'host1.api.sports.athenz.cloud'],
      uris: [`athenz://instanceid/${PROVIDER}/${TASK}`, 'athenz://hostname/host1.api.sports.athenz.cloud'],
    });
    const noHostname = await register(await makeCsr(key, withHost));
    expect(noHostname.json).toEqual({
      code: 400,
      message: 'CSR validation failed - Instance/Uri hostname mismatch: null vs. host1.api.sports.athenz.cloud',
    });
    const outside = await register(await makeCsr(key, withHost), { hostname: 'host1.example.com' });
    expect(outside.json.message).toBe(
      'CSR validation failed - Instance/Uri hostname mismatch: host1.example.com vs. host1.api.sports.athenz.cloud',
    );
    // X509CertRequest.isHostnameAllowed: under the provider's allowed hostname suffixes only
    const notAllowed = await register(await makeCsr(key, serviceSpec()), { hostname: 'host1.example.com' });
    expect(notAllowed.json.message).toBe(
      'CSR validation failed - Unable to validate Instance hostname: host1.example.com',
    );
    const ok = await register(await makeCsr(key, withHost), { hostname: 'host1.api.sports.athenz.cloud' });
    expect(ok.status).toBe(201);
    // ...and a provider with none configured may request no hostname at all
    const webSpec = {
      subject: 'CN=sports.web, OU=other.provider',
      dns: ['web.sports.athenz.cloud'],
      uris: [`athenz://instanceid/other.provider/${TASK}`, 'athenz://hostname/h1.web.sports.athenz.cloud'],
    };
    const noSuffixes = await register(await makeCsr(key, webSpec), {
      provider: 'other.provider',
      service: 'web',
      hostname: 'h1.web.sports.athenz.cloud',
    });
    expect(noSuffixes.json).toEqual({
      code: 400,
      message: 'CSR validation failed - Unable to validate Instance hostname: h1.web.sports.athenz.cloud',
    });
    // the hostname is looked at only when the CSR has DNS names (X509CertRequest.validateDnsNames returns early)
    const noDns = await register(await makeCsr(key, serviceSpec({ dns: [] })), { hostname: 'host1.example.com' });
    expect(noDns.json.message).toBe(
      'unable to verify attestation data: Unable to validate certificate request hostnames',
    );
    // the provider also wants the service label in the requested hostname
    const unlabelled = await register(
      await makeCsr(
        key,
        serviceSpec({ uris: [`athenz://instanceid/${PROVIDER}/${TASK}`, 'athenz://hostname/h.sports.athenz.cloud'] }),
      ),
      { hostname: 'h.sports.athenz.cloud' },
    );
    expect(unlabelled.json).toEqual({
      code: 403,
      message: 'unable to verify attestation data: Unable to validate certificate request hostnames',
    });
  });

  it('refuses an oversized body', async () => {
    const res = await register(await makeCsr(key, serviceSpec()), { padding: 'x'.repeat(1100 * 1024) });
    expect(res.json).toEqual({ code: 413, message: 'Request body too large' });
  });

  it('rejects a CSR without proof of possession (signed by another key)', async () => {
    const csr = await makeCsr(key, { ...serviceSpec(), signWith: otherKey.keys.privateKey });
    const res = await register(csr);
    expect(res.status).toBe(400);
    expect(res.json.message).toBe('unable to parse PKCS10 CSR: CSR signature verification failed');
  });

  it('accepts the wildcard and the SPIFFE trust-domain forms', async () => {
    const res = await register(
      await makeCsr(
        key,
        serviceSpec({
          dns: ['api.sports.athenz.cloud', '*.api.sports.athenz.cloud'],
          uris: ['spiffe://athenz.io/ns/default/sa/sports.api', `athenz://instanceid/${PROVIDER}/${TASK}`],
        }),
      ),
    );
    expect(res.status).toBe(201);
  });
});

describe('refresh over mTLS', () => {
  it('refreshes with the current cert, rotates the key, and tracks current and previous serials', async () => {
    const task = 'refresh-1';
    const first = await registered(task);
    const firstSerial = new x509.X509Certificate(first).serialNumber.toLowerCase();
    const res = await refreshWith(first, key, await makeCsr(otherKey, serviceSpec({}, task)), {}, refreshUrl(task));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ provider: PROVIDER, name: 'sports.api', instanceId: task });
    const second = new x509.X509Certificate(res.json.x509Certificate);
    // the new certificate carries the rotated key
    expect(Buffer.from(second.publicKey.rawData)).toEqual(
      Buffer.from(await crypto.subtle.exportKey('spki', otherKey.keys.publicKey)),
    );
    const rec = zts.records().find((r) => r.instanceId === task);
    expect(rec).toMatchObject({ prevSerial: firstSerial, currentSerial: second.serialNumber.toLowerCase() });
  });

  it('accepts the previous cert once more, revokes on an older one, then refuses even the newest', async () => {
    const task = 'refresh-2';
    const gen1 = await registered(task);
    const csr = await makeCsr(key, serviceSpec({}, task));
    const gen2 = (await refreshWith(gen1, key, csr, {}, refreshUrl(task))).json.x509Certificate as string;
    const gen3 = (await refreshWith(gen2, key, csr, {}, refreshUrl(task))).json.x509Certificate as string;
    // gen2 is now the previous serial: still accepted (the client may have lost gen3 in a crash)
    const again = await refreshWith(gen2, key, csr, {}, refreshUrl(task));
    expect(again.status).toBe(200);
    const gen4 = again.json.x509Certificate as string;
    // gen1 is two generations old: the record is revoked
    const stale = await refreshWith(gen1, key, csr, {}, refreshUrl(task));
    expect(stale.status).toBe(403);
    expect(stale.json).toEqual({ code: 403, message: 'Certificate revoked' });
    expect(zts.records().find((r) => r.instanceId === task)).toMatchObject({ currentSerial: '-1', prevSerial: '-1' });
    const after = await refreshWith(gen4, key, csr, {}, refreshUrl(task));
    expect(after.json).toEqual({ code: 403, message: 'Certificate revoked' });
    expect(gen3).not.toBe(gen4);
  });

  it('revoke() makes the next refresh answer Certificate revoked', async () => {
    const task = 'refresh-revoke';
    const cert = await registered(task);
    expect(zts.revoke(task)).toBe(1);
    const res = await refreshWith(cert, key, await makeCsr(key, serviceSpec({}, task)), {}, refreshUrl(task));
    expect(res.json).toEqual({ code: 403, message: 'Certificate revoked' });
  });

  it('rejects requests without a client certificate (401) and without a CSR (400)', async () => {
    const csr = await makeCsr(key, serviceSpec());
    const noCert = await call(refreshUrl(), 'POST', { ca: zts.caPem, json: { attestationData: attestation(), csr } });
    expect(noCert.status).toBe(401);
    const cert = await registered();
    const noCsr = await refreshWith(cert, key, '', {});
    expect(noCsr.json).toEqual({ code: 400, message: 'no csr provided' });
  });

  it('rejects a client certificate from another CA', async () => {
    const selfSigned = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=sports.api',
      keys: key.keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    });
    const res = await refreshWith(selfSigned.toString('pem'), key, await makeCsr(key, serviceSpec()));
    expect(res.status).toBe(401);
  });

  it('rejects the certificate of another principal', async () => {
    const backendCsr = await makeCsr(key, {
      subject: `CN=sports.backend, OU=${PROVIDER}`,
      dns: ['backend.sports.athenz.cloud'],
      uris: [`athenz://instanceid/${PROVIDER}/${TASK}`],
    });
    const reg = await register(backendCsr, {
      service: 'backend',
      attestationData: attestation({ role: 'sports.backend', access: 'ASIABACKEND' }),
    });
    expect(reg.status).toBe(201);
    const res = await refreshWith(reg.json.x509Certificate, key, await makeCsr(key, serviceSpec()));
    expect(res.json).toEqual({ code: 400, message: 'Principal mismatch: sports.api vs. sports.backend' });
  });

  it('requires the same instance id in the CSR, the URL and the current certificate', async () => {
    const cert = await registered();
    const otherIdCsr = await makeCsr(key, serviceSpec({}, 'another-task'));
    const a = await refreshWith(cert, key, otherIdCsr);
    expect(a.json).toEqual({ code: 400, message: 'CSR validation failed - instance id mismatch' });
    const b = await refreshWith(cert, key, otherIdCsr, {}, refreshUrl('another-task'));
    expect(b.json).toEqual({ code: 400, message: 'CSR validation failed - instance id mismatch' });
  });

  it('validates and lower-cases the URL path', async () => {
    const cert = await registered();
    const csr = await makeCsr(key, serviceSpec());
    const upper = await refreshWith(cert, key, csr, {}, refreshUrl(TASK, 'SPORTS', 'API'));
    expect(upper.status).toBe(200);
    const badId = await refreshWith(cert, key, csr, {}, refreshUrl('a%20b'));
    expect(badId.status).toBe(400);
    expect(badId.json.message).toContain('Invalid PathElement error');
    const badProvider = await refreshWith(cert, key, csr, {}, refreshUrl().replace(PROVIDER, 'bad..provider'));
    expect(badProvider.json.message).toContain('Invalid ServiceName error');
    const badDomain = await refreshWith(cert, key, csr, {}, refreshUrl(TASK, 'sports..x'));
    expect(badDomain.json).toEqual({ code: 400, message: 'Invalid DomainName error: pattern mismatch: domain' });
    const badService = await refreshWith(cert, key, csr, {}, refreshUrl(TASK, 'sports', 'api.v2'));
    expect(badService.json).toEqual({ code: 400, message: 'Invalid SimpleName error: pattern mismatch: service' });
  });

  it('requires the provider to be authorised on refresh too', async () => {
    const cert = await registered();
    const res = await refreshWith(
      cert,
      key,
      await makeCsr(key, serviceSpec()),
      {},
      refreshUrl().replace(PROVIDER, 'rogue.provider'),
    );
    expect(res.json).toEqual({
      code: 403,
      message: "provider 'rogue.provider' not authorized to launch instances in Athenz",
    });
  });

  it('requires fresh attestation data', async () => {
    const cert = await registered();
    const res = await refreshWith(cert, key, await makeCsr(key, serviceSpec()), { attestationData: '' });
    expect(res.json).toEqual({ code: 403, message: 'unable to verify attestation data: No attestation data provided' });
  });

  it('answers Unable to find certificate record for an instance the provider never registered', async () => {
    const cert = await registered();
    // the same task under another provider (authorised for sports.api too) has no record
    const csr = await makeCsr(key, {
      subject: 'CN=sports.api, OU=other.provider',
      dns: ['api.sports.athenz.cloud'],
      uris: [`athenz://instanceid/other.provider/${TASK}`],
    });
    const res = await refreshWith(cert, key, csr, {}, refreshUrl().replace(PROVIDER, 'other.provider'));
    expect(res.json).toEqual({ code: 403, message: 'Unable to find certificate record' });
  });

  it('accepts a client certificate in the millisecond it was issued (its validity includes notBefore)', async () => {
    // On a whole second, the certificate's notBefore (the issue time, cut to the second) is the clock's time exactly.
    clock.advance(1000 - (clock.now() % 1000));
    const task = 'refresh-at-issue';
    const cert = await registered(task);
    expect(new x509.X509Certificate(cert).notBefore.getTime()).toBe(clock.now());
    const res = await refreshWith(cert, key, await makeCsr(key, serviceSpec({}, task)), {}, refreshUrl(task));
    expect(res.status).toBe(200);
  });

  it('rejects an expired client certificate (checked with the injected clock)', async () => {
    const task = 'refresh-expired';
    const cert = await registered(task);
    clock.advance(8 * 24 * 60 * MINUTE);
    try {
      const res = await refreshWith(cert, key, await makeCsr(key, serviceSpec({}, task)), {}, refreshUrl(task));
      expect(res.status).toBe(401);
    } finally {
      clock.advance(-8 * 24 * 60 * MINUTE);
    }
  });
});

describe('role certificates, access tokens, JWKS and delete', () => {
  let cert: string;
  beforeAll(async () => {
    cert = await registered('roles-task');
  });

  const roleCsr = (role: string, over: Partial<CsrSpec> = {}) =>
    makeCsr(key, {
      subject: `CN=sports:role.${role}, OU=${PROVIDER}`,
      uris: [
        `spiffe://sports/ra/${role}`,
        `athenz://instanceid/${PROVIDER}/roles-task`,
        'athenz://principal/sports.api',
      ],
      ...over,
    });
  const rolecert = async (csr: string, c = cert, k = key) =>
    call(`${zts.baseUrl}/rolecert`, 'POST', { ca: zts.caPem, cert: c, key: k.pem, json: { csr, expiryTime: 0 } });

  it('issues a client-only role certificate to a member', async () => {
    const res = await rolecert(await roleCsr('readers'));
    expect(res.status).toBe(200);
    const rc = new x509.X509Certificate(res.json.x509Certificate);
    expect(rc.subject).toBe(`CN=sports:role.readers, OU=${PROVIDER}`);
    expect(rc.getExtension(x509.ExtendedKeyUsageExtension)?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(await validAt(rc, new x509.X509Certificate(zts.caPem), clock.now())).toBe(true);
    expect((await rolecert(await roleCsr('all'))).status).toBe(200);
  });

  it.each<[string, () => Promise<string>, number, string]>([
    [
      'not a member',
      () => roleCsr('writers'),
      403,
      'postrolecertificaterequestext: principal sports.api is not included in the requested role(s) in domain sports',
    ],
    [
      'unknown role domain',
      () => makeCsr(key, { subject: 'CN=nosuch:role.readers', uris: ['athenz://principal/sports.api'] }),
      404,
      'No such domain: nosuch',
    ],
    ['a service CN', () => makeCsr(key, serviceSpec()), 400, 'Role Certificate CN is not a valid role: sports.api'],
    [
      'another principal',
      () => roleCsr('readers', { uris: ['athenz://principal/sports.backend'] }),
      400,
      'Unable to validate cert request',
    ],
    [
      'another instance id',
      () => roleCsr('readers', { uris: [`athenz://instanceid/${PROVIDER}/other`, 'athenz://principal/sports.api'] }),
      400,
      'Unable to validate cert request',
    ],
    [
      'a SPIFFE URI of another role',
      () => roleCsr('readers', { uris: ['spiffe://sports/ra/writers', 'athenz://principal/sports.api'] }),
      400,
      'Unable to validate cert request',
    ],
    [
      'an email of another principal',
      () => roleCsr('readers', { uris: [], emails: ['sports.backend@athenz.cloud'] }),
      400,
      'Unable to validate cert request',
    ],
    [
      'an OU other than the cert',
      () => roleCsr('readers', { subject: 'CN=sports:role.readers, OU=x' }),
      400,
      'Unable to validate cert request',
    ],
  ])('refuses a role cert for %s', async (_n, csr, status, message) => {
    const res = await rolecert(await csr());
    expect(res.status).toBe(status);
    expect(res.json.message).toContain(message);
  });

  it('refuses a proxy role certificate request (no proxy user is authorised)', async () => {
    const res = await call(`${zts.baseUrl}/rolecert`, 'POST', {
      ca: zts.caPem,
      cert,
      key: key.pem,
      json: { csr: await roleCsr('readers'), proxyForPrincipal: 'user.jane' },
    });
    expect(res.json).toEqual({
      code: 403,
      message: 'Principal: sports.api not authorized for proxy role certificate request',
    });
  });

  it('refuses a role cert without a client certificate', async () => {
    const res = await call(`${zts.baseUrl}/rolecert`, 'POST', {
      ca: zts.caPem,
      json: { csr: await roleCsr('readers') },
    });
    expect(res.status).toBe(401);
  });

  const token = (form: string, c = cert) =>
    call(`${zts.baseUrl}/oauth2/token`, 'POST', { ca: zts.caPem, cert: c, key: key.pem, form });

  it('issues access and id tokens bound to the client certificate, verifiable with the JWKS', async () => {
    const res = await token(
      'grant_type=client_credentials&scope=sports%3Arole.readers%20openid%20sports%3Aservice.api&expires_in=600',
    );
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_type: 'Bearer', expires_in: 600 });
    const keys = await call(`${zts.baseUrl}/oauth2/keys?rfc=true`, 'GET', { ca: zts.caPem });
    expect(keys.json.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    const jwks = createLocalJWKSet(keys.json);
    const at = await jwtVerify(res.json.access_token, jwks, {
      issuer: zts.issuer,
      audience: 'sports',
      currentDate: new Date(clock.now()),
      typ: 'at+jwt',
    });
    const der = new Uint8Array(new x509.X509Certificate(cert).rawData);
    expect(at.payload).toMatchObject({
      sub: 'sports.api',
      client_id: 'sports.api',
      scp: ['readers'],
      cnf: { 'x5t#S256': certificateThumbprint(der) },
    });
    expect((at.payload.exp ?? 0) - (at.payload.iat ?? 0)).toBe(600);
    const id = await jwtVerify(res.json.id_token, jwks, {
      issuer: zts.issuer,
      audience: 'sports.api',
      currentDate: new Date(clock.now()),
    });
    expect(id.payload.sub).toBe('sports.api');
  });

  it('answers every role of the domain with its scope for <domain>:domain', async () => {
    const res = await token('grant_type=client_credentials&scope=sports:domain');
    expect(res.status).toBe(200);
    expect(res.json.scope.split(' ').sort()).toEqual(['sports:role.all', 'sports:role.readers']);
    expect(res.json.expires_in).toBe(7200);
    expect(decodeJwt(res.json.access_token).scp).toEqual(expect.arrayContaining(['readers', 'all']));
  });

  it('binds tokens to the certificate used: a new cert gives a different thumbprint', async () => {
    const other = await registered('roles-task-2');
    const a = decodeJwt((await token('grant_type=client_credentials&scope=sports:role.readers')).json.access_token);
    const b = decodeJwt(
      (await token('grant_type=client_credentials&scope=sports:role.readers', other)).json.access_token,
    );
    expect(a.cnf).not.toEqual(b.cnf);
  });

  it.each([
    ['grant_type=password&scope=sports:role.readers', 400, 'Invalid grant request: password'],
    ['grant_type=client_credentials', 400, 'Invalid request: no scope provided'],
    [
      'grant_type=client_credentials&scope=sports:role.readers%20weather:role.readers',
      400,
      'Multiple domains in scope',
    ],
    ['grant_type=client_credentials&scope=nosuch:role.readers', 404, 'No such domain: nosuch'],
    [
      'grant_type=client_credentials&scope=sports:role.writers',
      403,
      'postaccesstokenrequest: principal sports.api is not included in the requested role(s) in domain sports',
    ],
    ['', 400, 'Empty request body'],
  ])('refuses the token request %j', async (form, status, message) => {
    const res = await token(form);
    expect(res.status).toBe(status);
    expect(res.json).toEqual({ code: status, message });
  });

  it('refuses a token request without a client certificate', async () => {
    const res = await call(`${zts.baseUrl}/oauth2/token`, 'POST', {
      ca: zts.caPem,
      form: 'grant_type=client_credentials&scope=sports:role.readers',
    });
    expect(res.status).toBe(401);
  });

  it('follows role membership changes (setRoleMembers)', async () => {
    const form = 'grant_type=client_credentials&scope=sports:role.writers';
    expect((await token(form)).status).toBe(403);
    zts.setRoleMembers('sports', 'writers', ['sports.backend', 'sports.api']);
    try {
      expect((await token(form)).status).toBe(200);
    } finally {
      zts.setRoleMembers('sports', 'writers', ['sports.backend']);
    }
  });

  it('refuses a role certificate as the client identity (rolecert, delete, tokens beyond its role)', async () => {
    const roleCert = (await rolecert(await roleCsr('readers'))).json.x509Certificate as string;
    const again = await rolecert(await roleCsr('readers'), roleCert);
    expect(again.json).toEqual({ code: 403, message: 'Role Identity not authorized for request' });
    const del = await call(refreshUrl('roles-task'), 'DELETE', { ca: zts.caPem, cert: roleCert, key: key.pem });
    expect(del.json).toEqual({ code: 403, message: 'Role Identity not authorized for request' });
    // Even when the role principal is a member, a token for another role is refused.
    zts.setRoleMembers('sports', 'writers', ['sports.backend', 'sports:role.readers']);
    try {
      const res = await token('grant_type=client_credentials&scope=sports:role.writers', roleCert);
      expect(res.json).toEqual({ code: 403, message: 'Role based Principal does not include all roles' });
    } finally {
      zts.setRoleMembers('sports', 'writers', ['sports.backend']);
    }
  });

  it('refuses a proxy access token request', async () => {
    const res = await token('grant_type=client_credentials&scope=sports:role.readers&proxy_for_principal=sports.web');
    expect(res.json).toEqual({
      code: 403,
      message: 'Principal: sports.api not authorized for proxy access token request',
    });
  });

  it('serves the non-RFC curve name without rfc=true', async () => {
    const res = await call(`${zts.baseUrl}/oauth2/keys`, 'GET', { ca: zts.caPem });
    expect(res.json.keys[0].crv).toBe('prime256v1');
  });

  it('deletes an instance record for an authorised principal only; a later refresh finds no record', async () => {
    const task = 'delete-task';
    const own = await registered(task);
    const url = refreshUrl(task);
    const anonymous = await call(url, 'DELETE', { ca: zts.caPem });
    expect(anonymous.json).toEqual({ code: 401, message: 'Invalid credentials' });
    const denied = await call(url, 'DELETE', { ca: zts.caPem, cert: own, key: key.pem });
    expect(denied.json).toEqual({
      code: 403,
      message: 'principal not authorized to delete the requested instance record',
    });
    const backendCsr = await makeCsr(otherKey, {
      subject: `CN=sports.backend, OU=${PROVIDER}`,
      dns: ['backend.sports.athenz.cloud'],
      uris: [`athenz://instanceid/${PROVIDER}/backend-task`],
    });
    const backend = await register(backendCsr, {
      service: 'backend',
      attestationData: attestation({ role: 'sports.backend', access: 'ASIABACKEND' }),
    });
    const ok = await call(url, 'DELETE', { ca: zts.caPem, cert: backend.json.x509Certificate, key: otherKey.pem });
    expect(ok.status).toBe(204);
    expect(zts.records().some((r) => r.instanceId === task)).toBe(false);
    const res = await refreshWith(own, key, await makeCsr(key, serviceSpec({}, task)), {}, url);
    expect(res.json).toEqual({ code: 403, message: 'Unable to find certificate record' });
  });
});

describe('openssl', () => {
  it('verifies issued service and role certificates against the CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zts-openssl-'));
    try {
      const svc = await registered('openssl-task');
      const role = await call(`${zts.baseUrl}/rolecert`, 'POST', {
        ca: zts.caPem,
        cert: svc,
        key: key.pem,
        json: {
          csr: await makeCsr(key, {
            subject: 'CN=sports:role.readers',
            uris: [`athenz://instanceid/${PROVIDER}/openssl-task`, 'athenz://principal/sports.api'],
          }),
        },
      });
      writeFileSync(join(dir, 'ca.pem'), zts.caPem);
      writeFileSync(join(dir, 'svc.pem'), svc);
      writeFileSync(join(dir, 'role.pem'), role.json.x509Certificate);
      writeFileSync(join(dir, 'other.pem'), new x509.X509Certificate(await makeSelfSigned()).toString('pem'));
      const verify = (file: string) =>
        execFileSync('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, file)], { encoding: 'utf8' });
      expect(verify('svc.pem')).toContain(': OK');
      expect(verify('role.pem')).toContain(': OK');
      expect(() => verify('other.pem')).toThrow();
      const text = execFileSync('openssl', ['x509', '-in', join(dir, 'svc.pem'), '-noout', '-text'], {
        encoding: 'utf8',
      });
      expect(text).toContain('TLS Web Server Authentication, TLS Web Client Authentication');
      expect(text).toContain(`URI:athenz://instanceid/${PROVIDER}/openssl-task`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function makeSelfSigned(): Promise<string> {
  const c = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=sports.api',
    keys: key.keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  return c.toString('pem');
}

describe('faults and the request log', () => {
  it('answers an injected 429 with Retry-After, once, then serves normally', async () => {
    zts.setFault({ match: { method: 'GET', path: '/oauth2/keys' }, status: 429, retryAfterSeconds: 3, times: 1 });
    const limited = await call(`${zts.baseUrl}/oauth2/keys?rfc=true`, 'GET', { ca: zts.caPem });
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('3');
    expect(limited.json).toEqual({ code: 429, message: 'Too Many Requests' });
    const ok = await call(`${zts.baseUrl}/oauth2/keys?rfc=true`, 'GET', { ca: zts.caPem });
    expect(ok.status).toBe(200);
  });

  it('injects a status with a message on matching requests only', async () => {
    zts.setFault({ match: { path: '/instance' }, status: 503, message: 'maintenance' });
    try {
      const res = await register(await makeCsr(key, serviceSpec()));
      expect(res.json).toEqual({ code: 503, message: 'maintenance' });
      expect((await call(`${zts.baseUrl}/oauth2/keys`, 'GET', { ca: zts.caPem })).status).toBe(200);
    } finally {
      zts.setFault();
    }
  });

  it('resets the connection', async () => {
    zts.setFault({ reset: true, times: 1 });
    await expect(call(`${zts.baseUrl}/oauth2/keys`, 'GET', { ca: zts.caPem })).rejects.toThrow();
  });

  it('delays, then answers', async () => {
    zts.setFault({ delayMs: 20, times: 1 });
    expect((await call(`${zts.baseUrl}/oauth2/keys`, 'GET', { ca: zts.caPem })).status).toBe(200);
  });

  it('logs requests without bodies or secrets', () => {
    const log = zts.requests();
    expect(log.some((e) => e.path === '/zts/v1/instance' && e.status === 201)).toBe(true);
    expect(log.some((e) => e.principal === 'sports.api' && e.path === '/zts/v1/oauth2/token')).toBe(true);
    const text = JSON.stringify(log);
    for (const secret of [goodCreds.secret, goodCreds.token, 'BEGIN']) expect(text).not.toContain(secret);
  });

  it('truncates an answer mid-body', async () => {
    zts.setFault({ match: { path: '/oauth2/keys' }, truncate: true, times: 1 });
    await expect(call(`${zts.baseUrl}/oauth2/keys`, 'GET', { ca: zts.caPem })).rejects.toThrow();
    expect(zts.requests().at(-1)).toMatchObject({ status: 200, error: 'truncated answer (fault)' });
  });

  it('refuses bodies of another media type (415), as Jersey does', async () => {
    const csr = await makeCsr(key, serviceSpec());
    const res = await call(`${zts.baseUrl}/instance`, 'POST', {
      ca: zts.caPem,
      contentType: 'text/plain',
      json: { provider: PROVIDER, domain: 'sports', service: 'api', attestationData: attestation(), csr },
    });
    expect(res.json).toEqual({ code: 415, message: 'Unsupported Media Type' });
    const cert = await registered();
    const token = await call(`${zts.baseUrl}/oauth2/token`, 'POST', {
      ca: zts.caPem,
      cert,
      key: key.pem,
      json: { grant_type: 'client_credentials', scope: 'sports:role.readers' },
    });
    expect(token.status).toBe(415);
  });

  it('answers unknown paths with a ZTS 404 body', async () => {
    const res = await call(`${zts.baseUrl}/nothing`, 'GET', { ca: zts.caPem });
    expect(res.json).toEqual({ code: 404, message: 'Not Found' });
  });
});

describe('lifecycle', () => {
  it('closes every connection on close()', async () => {
    const other = await startZts({ callerIdentity, providers: [PROVIDER], domains: [] });
    const ok = await call(`${other.baseUrl}/oauth2/keys`, 'GET', { ca: other.caPem });
    expect(ok.status).toBe(200);
    await other.close();
    await expect(call(`${other.baseUrl}/oauth2/keys`, 'GET', { ca: other.caPem })).rejects.toThrow();
  });
});

describe('the Java rules, one test each (what the server mirrors is named in the source)', () => {
  const namespaced = (ns: string, task = TASK) =>
    serviceSpec(
      { uris: [`spiffe://athenz.io/ns/${ns}/sa/sports.api`, `athenz://instanceid/${PROVIDER}/${task}`] },
      task,
    );

  it('X509ServiceCertRequest.validateSpiffeURI: the URI namespace must be the request namespace (default `default`)', async () => {
    const task = 'spiffe-ns';
    const csr = await makeCsr(key, namespaced('prod', task));
    const without = await register(csr);
    expect(without.json).toEqual({
      code: 400,
      message: 'CSR validation failed - Unable to validate Service SPIFFE URI',
    });
    const other = await register(csr, { namespace: 'test' });
    expect(other.json.message).toBe('CSR validation failed - Unable to validate Service SPIFFE URI');
    const ok = await register(csr, { namespace: 'prod' });
    expect(ok.status).toBe(201);
    // refresh applies the same rule to its own `namespace`
    const cert = ok.json.x509Certificate as string;
    const noNs = await refreshWith(cert, key, csr, {}, refreshUrl(task));
    expect(noNs.json).toEqual({ code: 400, message: 'CSR validation failed - Unable to validate Service SPIFFE URI' });
    const refreshed = await refreshWith(cert, key, csr, { namespace: 'prod' }, refreshUrl(task));
    expect(refreshed.status).toBe(200);
    // `default` needs no namespace at all
    expect((await register(await makeCsr(key, namespaced('default', 'spiffe-default')))).status).toBe(201);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a namespace that is not a SimpleName', { namespace: 'prod.eu' }, 'pattern mismatch: namespace'],
    ['a hostname that is not a DomainName', { hostname: 'host 1' }, 'pattern mismatch: hostname'],
    [
      'a host CNAME that is not a DomainName',
      { hostCnames: ['ok.athenz.cloud', 'bad name'] },
      'pattern mismatch: hostCnames',
    ],
    ['a non-string cloud', { cloud: 42 }, 'bad type: cloud'],
    ['an expiryTime that is not an Int32', { expiryTime: 1.5 }, 'bad type: expiryTime'],
    ['an sshCertRequest that is not a struct', { sshCertRequest: 'x' }, 'bad type: sshCertRequest'],
  ])('ZTSImpl.validate (RDL InstanceRegisterInformation): refuses %s', async (_n, over, message) => {
    const res = await register(await makeCsr(key, serviceSpec()), over);
    expect(res.json).toEqual({ code: 400, message: `Invalid InstanceRegisterInformation error: ${message}` });
  });

  it('ZTSImpl.validate (RDL InstanceRefreshInformation): the same types on refresh', async () => {
    const cert = await registered();
    const res = await refreshWith(cert, key, await makeCsr(key, serviceSpec()), { hostname: 'host 1' });
    expect(res.json).toEqual({
      code: 400,
      message: 'Invalid InstanceRefreshInformation error: pattern mismatch: hostname',
    });
  });

  it('X509CertRequest.validateInstanceCnames: CNAMEs need a hostname, then a hostname resolver (the fake has none)', async () => {
    const csr = await makeCsr(key, serviceSpec());
    const noHost = await register(csr, { hostCnames: ['cname.sports.athenz.cloud'] });
    expect(noHost.json.message).toBe('CSR validation failed - Instance Host CNAME list provided without Hostname');
    const noResolver = await register(
      await makeCsr(
        key,
        serviceSpec({
          uris: [`athenz://instanceid/${PROVIDER}/${TASK}`, 'athenz://hostname/h.api.sports.athenz.cloud'],
        }),
      ),
      { hostname: 'h.api.sports.athenz.cloud', hostCnames: ['cname.sports.athenz.cloud'] },
    );
    expect(noResolver.json.message).toBe(
      'CSR validation failed - Instance host name CNAME list provided without a valid hostname resolver',
    );
  });

  it('ZTSImpl.postInstanceRefreshInformation: csr is optional; neither csr nor ssh is 400, ssh alone (no SSH signer) an identity without certificates', async () => {
    const cert = await registered();
    const none = await refreshWith(cert, key, '', { csr: undefined });
    expect(none.json).toEqual({ code: 400, message: 'no csr provided' });
    const empty = await refreshWith(cert, key, '', { csr: '', ssh: '' });
    expect(empty.json).toEqual({ code: 400, message: 'no csr provided' });
    const sshOnly = await refreshWith(cert, key, '', { csr: undefined, ssh: 'ssh-rsa AAAA host-csr' });
    expect(sshOnly.status).toBe(200);
    expect(sshOnly.json).toEqual({ provider: PROVIDER, name: 'sports.api', instanceId: TASK });
  });

  it('InstanceAWSProvider.confirmInstance: the attested role may be <service> (omit_domain) when the credentials are of that role', async () => {
    const csr = await makeCsr(key, serviceSpec({}, 'omit-domain'));
    const ok = await register(csr, { attestationData: attestation({ role: 'api', access: 'ASIAOMIT' }) });
    expect(ok.status).toBe(201);
    // the role claimed must be the one the credentials belong to (AWSStsCredentialsAttestationValidator)
    const mismatch = await register(csr, { attestationData: attestation({ role: 'api' }) });
    expect(mismatch.json).toEqual({
      code: 403,
      message: 'unable to verify attestation data: Unable to verify instance identity credentials',
    });
    const otherService = await register(csr, { attestationData: attestation({ role: 'backend', access: 'ASIAOMIT' }) });
    expect(otherService.json.message).toBe(
      'unable to verify attestation data: Service name mismatch: backend vs. sports.api',
    );
  });

  it('AWSStsCredentialsAttestationValidator: only arn:aws:sts:: by default; `partition` widens it', async () => {
    const csr = await makeCsr(key, serviceSpec({}, 'partition-task'));
    for (const access of ['ASIACHINA', 'ASIAGOV']) {
      const res = await register(csr, { attestationData: attestation({ access }) });
      expect(res.json).toEqual({
        code: 403,
        message: 'unable to verify attestation data: Unable to verify instance identity credentials',
      });
    }
    const china = await startZts({
      callerIdentity,
      providers: [PROVIDER],
      dnsSuffix: 'athenz.cloud',
      domains: [{ name: 'sports', awsAccount: ACCOUNT, services: ['api'] }],
      partition: ['aws', 'aws-cn'],
    });
    try {
      const send = (access: string) =>
        call(`${china.baseUrl}/instance`, 'POST', {
          ca: china.caPem,
          json: { provider: PROVIDER, domain: 'sports', service: 'api', attestationData: attestation({ access }), csr },
        });
      expect((await send('ASIACHINA')).status).toBe(201);
      expect((await send(goodCreds.access)).status).toBe(201);
      expect((await send('ASIAGOV')).status).toBe(403);
    } finally {
      await china.close();
    }
  });

  it('the CSR signature check is stricter than ZTS (which does not verify it); verifyCsrSignature: false behaves as ZTS', async () => {
    const csr = await makeCsr(key, { ...serviceSpec({}, 'unsigned'), signWith: otherKey.keys.privateKey });
    expect((await register(csr)).json.message).toBe('unable to parse PKCS10 CSR: CSR signature verification failed');
    const lenient = await startZts({
      callerIdentity,
      providers: [PROVIDER],
      dnsSuffix: 'athenz.cloud',
      domains: [{ name: 'sports', awsAccount: ACCOUNT, services: ['api'] }],
      verifyCsrSignature: false,
    });
    try {
      const res = await call(`${lenient.baseUrl}/instance`, 'POST', {
        ca: lenient.caPem,
        json: { provider: PROVIDER, domain: 'sports', service: 'api', attestationData: attestation(), csr },
      });
      expect(res.status).toBe(201);
    } finally {
      await lenient.close();
    }
  });

  it('a body that is not JSON is refused before any rule runs', async () => {
    const res = await call(`${zts.baseUrl}/instance`, 'POST', {
      ca: zts.caPem,
      form: '{not json',
      contentType: 'application/json',
    });
    expect(res.json).toEqual({ code: 400, message: 'Invalid JSON request body' });
  });
});
