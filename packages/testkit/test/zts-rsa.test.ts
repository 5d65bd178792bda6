// RSA end to end: an RSA CA (caKeyAlgorithm 'RSA') and an RSA 2048 client key, the path siad uses. One key each,
// generated once (RSA keygen is the slow part).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startZts, type ZtsEmulator } from '../src/index.js';
import { call, type TestKey } from './zts-helpers.js';

const PROVIDER = 'athenz.aws-ecs.eu-west-1';
const TASK = 'rsa-task';
const RSA: RsaHashedKeyGenParams = {
  name: 'RSASSA-PKCS1-v1_5',
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: 'SHA-256',
};

let zts: ZtsEmulator;
let key: TestKey;

beforeAll(async () => {
  const keys = (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  key = { keys, pem };
  zts = await startZts({
    caKeyAlgorithm: 'RSA',
    callerIdentity: async () => 'arn:aws:sts::123456789012:assumed-role/weather.api/weather.api',
    providers: [PROVIDER],
    dnsSuffix: ['athenz.cloud', 'athenz.example'],
    domains: [{ name: 'weather', awsAccount: '123456789012', services: ['api'] }],
  });
});

afterAll(async () => {
  await zts?.close();
});

async function csr(): Promise<string> {
  const req = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=weather.api, OU=${PROVIDER}`,
    keys: key.keys,
    signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' },
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'api.weather.athenz.cloud' },
        { type: 'dns', value: 'api.weather.athenz.example' },
        { type: 'url', value: 'spiffe://weather/sa/api' },
        { type: 'url', value: `athenz://instanceid/${PROVIDER}/${TASK}` },
      ]),
    ],
  });
  return req.toString('pem');
}

it('registers and refreshes over mTLS with RSA keys on both sides', async () => {
  const attestationData = JSON.stringify({ role: 'weather.api', access: 'a', secret: 's', token: 't', taskid: TASK });
  const reg = await call(`${zts.baseUrl}/instance`, 'POST', {
    ca: zts.caPem,
    json: { provider: PROVIDER, domain: 'weather', service: 'api', attestationData, csr: await csr() },
  });
  expect(reg.status).toBe(201);
  const ca = new x509.X509Certificate(zts.caPem);
  expect(ca.publicKey.algorithm.name).toBe('RSASSA-PKCS1-v1_5');
  const cert = new x509.X509Certificate(reg.json.x509Certificate);
  expect(cert.signatureAlgorithm.name).toBe('RSASSA-PKCS1-v1_5');
  expect(await cert.verify({ publicKey: ca })).toBe(true);
  const ref = await call(`${zts.baseUrl}/instance/${PROVIDER}/weather/api/${TASK}`, 'POST', {
    ca: zts.caPem,
    cert: reg.json.x509Certificate,
    key: key.pem,
    json: { attestationData, csr: await csr() },
  });
  expect(ref.status).toBe(200);
  expect(ref.json.name).toBe('weather.api');
});
