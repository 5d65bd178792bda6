import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect, it } from 'vitest';
import { decodeToken, serverChecks } from '../test/token-checks.js';
import { buildBearerToken } from './bearer-token.js';

const credentials = {
  accessKeyId: 'ASIABROWSEREXAMPLE01',
  secretAccessKey: 'browser/secret/key/EXAMPLEKEYEXAMPLEKEY',
  sessionToken: 'FwoGZXIvYXdzEBROWSERSESSIONTOKENEXAMPLE==',
  roleArn: 'arn:aws:iam::210987654321:role/mesh/api',
};
const signingDate = new Date('2026-03-04T05:06:07Z');

it('builds the token in a real browser; the STS signature matches the documented request signed directly', async () => {
  expect(typeof window).toBe('object');
  const token = await buildBearerToken({
    credentials,
    region: 'eu-west-3',
    serverIdHeaderValue: 'consul.example',
    signingDate,
  });
  const t = serverChecks(token, { enableIamEntityDetails: true, serverIdHeaderValue: 'consul.example' });
  expect(t.url).toBe('https://sts.eu-west-3.amazonaws.com/');
  expect(t.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
  expect(t.entity?.body).toBe('Action=GetRole&RoleName=api&Version=2010-05-08');
  expect(t.entity?.url).toBe('https://iam.amazonaws.com/');

  // The request PROTOCOLS.md documents, written out here rather than taken from the builder.
  const entityHeaders = decodeToken(token).headers;
  const documented = {
    method: 'POST',
    protocol: 'https:',
    hostname: 'sts.eu-west-3.amazonaws.com',
    path: '/',
    query: {},
    headers: {
      host: 'sts.eu-west-3.amazonaws.com',
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'x-consul-iam-serverid': 'consul.example',
      'x-consul-iam-getentity-method': 'POST',
      'x-consul-iam-getentity-url': 'https://iam.amazonaws.com/',
      'x-consul-iam-getentity-body': 'Action=GetRole&RoleName=api&Version=2010-05-08',
      // The embedded IAM request's own headers are opaque signed bytes here; take them as sent.
      'x-consul-iam-getentity-headers': entityHeaders['X-Consul-Iam-Getentity-Headers']?.[0] ?? '',
    },
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
  };
  const signer = new SignatureV4({
    service: 'sts',
    region: 'eu-west-3',
    credentials,
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(documented, { signingDate });
  expect(t.headers.Authorization).toEqual([signed.headers.authorization]);
  expect(t.headers['X-Amz-Date']).toEqual(['20260304T050607Z']);
  expect(t.headers['X-Amz-Security-Token']).toEqual([credentials.sessionToken]);
});
