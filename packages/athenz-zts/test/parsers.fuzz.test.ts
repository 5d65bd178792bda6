// Every public parser of this package on hostile input: only IdentityError may come out. Certificates, CSRs and keys
// are also fuzzed as valid DER with bytes changed (so the parse gets as far as the extensions), and ZTS / STS answers
// reach their parsers through core's real transport, fed by an injected fetch.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import {
  accessTokenScope,
  buildServiceCsr,
  createZtsClient,
  describeCertificate,
  describeCsr,
  exportPrivateKeyPem,
  generateKeyPair,
  importPrivateKeyPem,
  stsAttestor,
  verifyAccessToken,
} from '@ecs-identity/athenz-zts';
import { createHttpClient, HttpStatusError } from '@ecs-identity/core';
import { awsCredentials } from '@ecs-identity/ecs-metadata';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bytesText,
  fuzz,
  fuzzAsync,
  hostileText,
  jsonText,
  jsonValue,
  mutated,
  recordOf,
  reportFuzzCounts,
} from '../../../test-support/fuzz.js';
import { scaled } from '../../../test-support/scale.js';
import { buildX509Identity } from '../src/credentials.js';

import {
  validateDnsName,
  validateDomain,
  validateInstanceId,
  validateProvider,
  validateRole,
  validateService,
} from '../src/names.js';
import { resolveService } from '../src/resolve-identity.js';
import { parseRoleRef } from '../src/role-cert-provider.js';
import { toPem } from '../src/x509-codec.js';
import { parseCertificate } from '../src/x509-info.js';
import { mapZtsError, parseZtsErrorBody } from '../src/zts-errors.js';

reportFuzzCounts('athenz-zts');

const TASK_ID = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
let keys: CryptoKeyPair;
let keyPem: string;
let certPem: string;
let csrPem: string;

beforeAll(async () => {
  keys = await generateKeyPair({ type: 'ec' });
  keyPem = await exportPrivateKeyPem(keys.privateKey);
  csrPem = (
    await buildServiceCsr({
      keys,
      domain: 'sports',
      service: 'api',
      provider: 'athenz.aws-ecs.us-west-2',
      instanceId: TASK_ID,
      dnsSuffixes: ['athenz.cloud'],
    })
  ).pem;
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: '0a1b',
      name: 'CN=sports.api, OU=athenz.aws-ecs.us-west-2',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      signingAlgorithm: alg,
      keys,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'api.sports.athenz.cloud' },
          { type: 'url', value: 'spiffe://sports/sa/api' },
          { type: 'url', value: `athenz://instanceid/athenz.aws-ecs.us-west-2/${TASK_ID}` },
        ]),
        new x509.BasicConstraintsExtension(false),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature),
      ],
    },
    webcrypto as Crypto,
  );
  certPem = cert.toString('pem');
});

/** The DER inside `pem` with up to 4 bytes changed, as PEM again (the same label). */
function derMutated(pem: () => string, label: string): fc.Arbitrary<string> {
  return fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((edits) => {
    const b64 = pem()
      .replace(/-----[^-]+-----/g, '')
      .replace(/\s+/g, '');
    const der = Uint8Array.from(Buffer.from(b64, 'base64'));
    for (const [at, value] of edits) der[at % der.length] = value;
    return toPem(der, label);
  });
}

const pemOfBytes = (label: string) => fc.uint8Array({ maxLength: 300 }).map((b) => toPem(b, label));

describe('certificates, CSRs, keys', () => {
  it('parseCertificate, describeCertificate, describeCsr', async () => {
    const certText = fc.oneof(
      derMutated(() => certPem, 'CERTIFICATE'),
      pemOfBytes('CERTIFICATE'),
      hostileText(),
      mutated(certPem, 3),
    );
    const csrText = fc.oneof(
      derMutated(() => csrPem, 'CERTIFICATE REQUEST'),
      pemOfBytes('CERTIFICATE REQUEST'),
      hostileText(),
    );
    const n =
      (await fuzzAsync('parseCertificate', certText, (t) => parseCertificate(t), 2000)) +
      (await fuzzAsync('describeCertificate', certText, (t) => describeCertificate(t), 3000)) +
      (await fuzzAsync('describeCsr', csrText, (t) => describeCsr(t), 3000));
    expect(n).toBe(scaled(8000));
  });

  it('importPrivateKeyPem and buildX509Identity', async () => {
    const n =
      (await fuzzAsync(
        'importPrivateKeyPem',
        fc.oneof(
          derMutated(() => keyPem, 'EC PRIVATE KEY'),
          pemOfBytes('PRIVATE KEY'),
          pemOfBytes('RSA PRIVATE KEY'),
          hostileText(),
        ),
        (pem) => importPrivateKeyPem(pem),
        1500,
      )) +
      (await fuzzAsync(
        'buildX509Identity (issued certificate)',
        fc.oneof(
          derMutated(() => certPem, 'CERTIFICATE'),
          hostileText(),
        ),
        (pem) =>
          buildX509Identity({
            domain: 'sports',
            service: 'api',
            provider: 'athenz.aws-ecs.us-west-2',
            instanceId: TASK_ID,
            keys,
            privateKeyPem: keyPem,
            certificatePem: pem,
          }),
        1500,
      ));
    expect(n).toBe(scaled(3000));
  });
});

describe('names', () => {
  it('the name validators, parseRoleRef, accessTokenScope, resolveService', () => {
    const name = fc.oneof(hostileText(60), mutated('sports.api', 3), fc.anything());
    const validators = [
      validateDomain,
      validateService,
      validateProvider,
      validateRole,
      validateInstanceId,
      validateDnsName,
    ];
    const n =
      validators.reduce((sum, v) => sum + fuzz(v.name, name, (x) => v(x), 2000), 0) +
      fuzz(
        'parseRoleRef',
        fc.oneof(name, mutated('sports:role.readers', 4), recordOf(['domain', 'role'])),
        (r) => parseRoleRef(r as string),
        4000,
      ) +
      fuzz(
        'accessTokenScope',
        recordOf(['domain', 'roles', 'idTokenService']),
        (r) => accessTokenScope(r as { domain: string }),
        4000,
      ) +
      fuzz(
        'resolveService',
        fc.record(
          {
            domain: name,
            service: name,
            iamRoleArn: fc.oneof(hostileText(), mutated('arn:aws:iam::123456789012:role/ecs/sports.api', 4)),
            taskRoleArn: fc.oneof(hostileText(), mutated('arn:aws:iam::123456789012:role/sports.api-service', 4)),
            partition: hostileText(10),
            accountId: fc.oneof(hostileText(14), fc.constant('123456789012')),
            rolePath: fc.oneof(hostileText(10), fc.constantFrom('/', 'ecs', '/ecs/')),
          },
          { requiredKeys: [] },
        ),
        (input) => resolveService(input as Parameters<typeof resolveService>[0]),
        6000,
      );
    expect(n).toBe(scaled(26_000));
  });
});

/** An HttpClient on core's transport whose "network" answers `status` and `body`. */
function answering(status: number, body: string) {
  return createHttpClient({
    fetch: (async () =>
      new Response(body, {
        status,
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': 'r' },
      })) as typeof fetch,
  });
}
const status = fc.oneof(fc.constantFrom(200, 201, 400, 403, 404, 429, 500, 503), fc.integer({ min: 200, max: 599 }));

describe('ZTS answers', () => {
  it('parseZtsErrorBody and mapZtsError on any error body', () => {
    const body = fc.oneof(
      jsonText(),
      recordOf(['code', 'message']).map((r) => JSON.stringify(r)),
      hostileText(),
    );
    const n =
      fuzz('parseZtsErrorBody', body, (t) => parseZtsErrorBody(t), 6000) +
      fuzz(
        'mapZtsError',
        fc.tuple(fc.integer({ min: 100, max: 599 }), body),
        ([s, text]) => {
          const mapped = mapZtsError(
            new HttpStatusError({ method: 'POST', url: 'https://zts/zts/v1/instance', status: s, responseText: text }),
            'register sports.api',
          );
          if (!(mapped instanceof Error)) throw new TypeError('mapZtsError must give an error');
        },
        6000,
      );
    expect(n).toBe(scaled(12_000));
  });

  it('register, refresh, rolecert, token and JWKS answers of any status and body', async () => {
    const identity = {
      provider: 'athenz.aws-ecs.us-west-2',
      name: 'sports.api',
      instanceId: TASK_ID,
      x509Certificate: 'CERT',
    };
    const body = fc.oneof(
      jsonText(),
      recordOf(['provider', 'name', 'instanceId', 'x509Certificate', 'x509CertificateSigner']).map((r) =>
        JSON.stringify({ ...identity, ...r }),
      ),
      recordOf(['access_token', 'token_type', 'expires_in', 'scope', 'keys', 'x509Certificate']).map((r) =>
        JSON.stringify(r),
      ),
      jsonValue().map((v) => JSON.stringify({ keys: v })),
      hostileText(),
    );
    const tls = { keyPem: 'k', certPem: 'c' };
    const ref = { provider: 'athenz.aws-ecs.us-west-2', domain: 'sports', service: 'api', instanceId: TASK_ID };
    const n = await fuzzAsync(
      'ZTS client answers',
      fc.tuple(status, body, fc.constantFrom('register', 'refresh', 'rolecert', 'token', 'jwks')),
      async ([s, text, call]) => {
        const http = answering(s, text);
        const zts = createZtsClient({ url: 'https://zts.example.com:4443/zts/v1', transport: () => http });
        if (call === 'register') await zts.register({ ...ref, attestationData: '{}', csr: 'x' });
        else if (call === 'refresh') await zts.refresh(ref, { csr: 'x' }, tls);
        else if (call === 'rolecert') await zts.roleCertificate({ csr: 'x' }, tls);
        else if (call === 'token') await zts.accessToken({ scope: 'sports:domain' }, tls);
        else await zts.jwks();
      },
      4000,
    );
    expect(n).toBe(scaled(4000));
  });

  it('verifyAccessToken on any token and key set', async () => {
    const segment = fc.oneof(
      hostileText(40),
      fc.base64String({ maxLength: 60 }),
      jsonText().map((j) => btoa(unescape(encodeURIComponent(j)))),
    );
    const token = fc.oneof(
      hostileText(),
      fc.tuple(segment, segment, segment).map((parts) => parts.join('.')),
    );
    const n = await fuzzAsync(
      'verifyAccessToken',
      fc.tuple(token, fc.oneof(jsonValue(), fc.array(recordOf(['kty', 'kid', 'crv', 'x', 'y', 'n', 'e', 'alg'])))),
      ([t, keysValue]) =>
        verifyAccessToken(t, {
          jwks: { keys: (Array.isArray(keysValue) ? keysValue : [keysValue]) as JsonWebKey[] },
          issuer: 'https://zts.example.com:4443/zts/v1',
          audience: 'sports',
        }),
      2000,
    );
    expect(n).toBe(scaled(2000));
  });
});

const ASSUME_ROLE_OK =
  '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><AssumedRoleUser>' +
  '<Arn>arn:aws:sts::123456789012:assumed-role/sports.api/sports.api</Arn><AssumedRoleId>AROA:sports.api' +
  '</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>' +
  'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey><SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>' +
  '<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult><ResponseMetadata><RequestId>r' +
  '</RequestId></ResponseMetadata></AssumeRoleResponse>';
const STS_ERROR =
  '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied' +
  '</Code><Message>not authorized</Message></Error><RequestId>r</RequestId></ErrorResponse>';

describe('STS answers', () => {
  it('AssumeRole answers of any status and body, through the AWS SDK and our handler', async () => {
    const credentials = awsCredentials({
      accessKeyId: 'ASIATASKEXAMPLE',
      secretAccessKey: 'task-secret-0123456789',
      sessionToken: 'task-token-0123456789',
    });
    // One attestor (one STS client, as a provider keeps): each case only changes what the "network" answers.
    let answer = { status: 200, body: '' };
    const http = createHttpClient({
      fetch: (async () =>
        new Response(answer.body, { status: answer.status, headers: { 'content-type': 'text/xml' } })) as typeof fetch,
    });
    const attestor = stsAttestor({
      region: 'us-west-2',
      credentials,
      stsEndpoint: 'https://sts.us-west-2.amazonaws.com',
      http,
    });
    try {
      const n = await fuzzAsync(
        'stsAttestor answers',
        fc.tuple(status, fc.oneof(mutated(ASSUME_ROLE_OK, 6), mutated(STS_ERROR, 6), hostileText(), bytesText())),
        async ([s, body]) => {
          answer = { status: s, body };
          await attestor.attest({
            domain: 'sports',
            service: 'api',
            taskId: TASK_ID,
            roleArn: 'arn:aws:iam::123456789012:role/sports.api',
          });
        },
        2000,
      );
      expect(n).toBe(scaled(2000));
    } finally {
      attestor.close();
    }
  });
});
