import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { expect, it } from 'vitest';
import { buildBearerToken } from './bearer-token.js';

const credentials = {
  accessKeyId: 'ASIABROWSEREXAMPLE01',
  secretAccessKey: 'browser/secret/key/EXAMPLEKEYEXAMPLEKEY',
  sessionToken: 'FwoGZXIvYXdzEBROWSERSESSIONTOKENEXAMPLE==',
  roleArn: 'arn:aws:iam::210987654321:role/mesh/api',
};
const signingDate = new Date('2026-03-04T05:06:07Z');

/**
 * Minimal decoding (base64 + JSON only). The server's token checks run in the node tests with testkit's parser, which
 * loads in Chromium but decodes base64 with Node's `Buffer`.
 */
function decode(token: string) {
  const text = (b64: unknown) =>
    new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(atob(String(b64)), (c) => c.charCodeAt(0)));
  const outer = JSON.parse(token) as Record<string, unknown>;
  return {
    method: outer.iam_http_request_method,
    url: text(outer.iam_request_url),
    body: text(outer.iam_request_body),
    headers: JSON.parse(text(outer.iam_request_headers)) as Record<string, string[] | undefined>,
  };
}

it('builds the token in a real browser; the STS signature matches the documented request signed directly', async () => {
  expect(typeof window).toBe('object');
  const token = await buildBearerToken({
    credentials,
    region: 'eu-west-3',
    serverIdHeaderValue: 'consul.example',
    signingDate,
  });
  const t = decode(token);
  expect(t.method).toBe('POST');
  expect(t.url).toBe('https://sts.eu-west-3.amazonaws.com/');
  expect(t.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
  expect(t.headers['X-Consul-Iam-Getentity-Method']).toEqual(['POST']);
  expect(t.headers['X-Consul-Iam-Getentity-Body']).toEqual(['Action=GetRole&RoleName=api&Version=2010-05-08']);
  expect(t.headers['X-Consul-Iam-Getentity-Url']).toEqual(['https://iam.amazonaws.com/']);
  expect(t.headers['X-Consul-Iam-Serverid']).toEqual(['consul.example']);

  // The request PROTOCOLS.md documents, written out here rather than taken from the builder.
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
      'x-consul-iam-getentity-headers': t.headers['X-Consul-Iam-Getentity-Headers']?.[0] ?? '',
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
