import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { AwsApiError } from '../src/aws/errors.js';
import { type ReceivedRequest, verifySigV4 } from '../src/aws/sigv4-verifier.js';

// The official aws-c-auth SigV4 suite: the verifier must accept each signed request and reject it once altered.
const root = fileURLToPath(new URL('./fixtures/sigv4/', import.meta.url));
const cases = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

interface Context {
  credentials: { access_key_id: string; secret_access_key: string; token?: string };
  timestamp: string;
}

/** Parses a suite `header-signed-request.txt` (LF line endings, `Name:value` headers) into a received request. */
function parseRequest(text: string): ReceivedRequest {
  const split = text.indexOf('\n\n');
  const head = text.slice(0, split).split('\n');
  const body = text.slice(split + 2);
  const [method, target] = head[0]!.split(' ') as [string, string];
  const headers: Record<string, string[]> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    headers[name] = [...(headers[name] ?? []), line.slice(colon + 1).trim()];
  }
  const q = target.indexOf('?');
  return {
    method,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    headers,
    body: new TextEncoder().encode(body),
  };
}

function load(name: string) {
  const ctx = JSON.parse(readFileSync(`${root}${name}/context.json`, 'utf8')) as Context;
  const req = parseRequest(readFileSync(`${root}${name}/header-signed-request.txt`, 'utf8'));
  const signature = readFileSync(`${root}${name}/header-signature.txt`, 'utf8').trim();
  const options = {
    lookup: (id: string) =>
      id === ctx.credentials.access_key_id
        ? {
            secretAccessKey: ctx.credentials.secret_access_key,
            ...(ctx.credentials.token !== undefined ? { sessionToken: ctx.credentials.token } : {}),
          }
        : undefined,
    now: Date.parse(ctx.timestamp),
  };
  return { req, signature, options };
}

describe('verifySigV4 against the aws-c-auth suite', () => {
  it('has the copied cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10);
  });

  for (const name of cases) {
    it(`${name}: accepts the official signature`, async () => {
      const { req, signature, options } = load(name);
      expect(req.headers.authorization?.[0]).toContain(`Signature=${signature}`);
      const v = await verifySigV4(req, options);
      expect(v).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', region: 'us-east-1', service: 'service' });
    });

    it(`${name}: rejects the request once altered`, async () => {
      const { req, options } = load(name);
      const altered: ReceivedRequest = {
        ...req,
        // A changed body, or for bodyless requests a changed path, must change the signature.
        ...(req.body.length > 0 ? { body: new TextEncoder().encode('Param1=value2') } : { path: '/other' }),
      };
      // With sign_body the x-amz-content-sha256 header no longer matches the body: AWS reports that first.
      await expect(verifySigV4(altered, options)).rejects.toSatisfy(
        (e: unknown) =>
          e instanceof AwsApiError &&
          (e.code === 'SignatureDoesNotMatch' || e.code === 'XAmzContentSHA256Mismatch') &&
          e.status >= 400,
      );
    });
  }

  it('rejects a signature changed in one hex digit', async () => {
    const { req, signature, options } = load('get-vanilla');
    const flipped = signature.slice(0, -1) + (signature.endsWith('0') ? '1' : '0');
    const auth = req.headers.authorization![0]!.replace(signature, flipped);
    await expect(
      verifySigV4({ ...req, headers: { ...req.headers, authorization: [auth] } }, options),
    ).rejects.toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
  });

  it('post-sts-header-after: the unsigned token must still belong to the key', async () => {
    const { req, options } = load('post-sts-header-after');
    const headers = { ...req.headers, 'x-amz-security-token': ['not-the-issued-token'] };
    await expect(verifySigV4({ ...req, headers }, options)).rejects.toMatchObject({
      code: 'InvalidClientTokenId',
      status: 403,
    });
  });

  it('post-sts-header-before: the signed token may not be dropped', async () => {
    const { req, options } = load('post-sts-header-before');
    const { 'x-amz-security-token': _dropped, ...headers } = req.headers;
    await expect(verifySigV4({ ...req, headers }, options)).rejects.toMatchObject({ code: 'InvalidClientTokenId' });
  });

  it('rejects a request 16 minutes after its X-Amz-Date', async () => {
    const { req, options } = load('get-vanilla');
    await expect(verifySigV4(req, { ...options, now: options.now + 16 * 60_000 })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      message: 'Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)',
    });
    await expect(verifySigV4(req, { ...options, now: options.now - 16 * 60_000 })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      message: expect.stringContaining('Signature not yet current: 20150830T123600Z is still later than'),
    });
    await expect(verifySigV4(req, { ...options, now: options.now + 14 * 60_000 })).resolves.toBeDefined();
  });

  it('checks the scope service and region when asked', async () => {
    const { req, options } = load('get-vanilla');
    await expect(verifySigV4(req, { ...options, service: 'sts' })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      message: "Credential should be scoped to correct service: 'sts'. ",
    });
    await expect(verifySigV4(req, { ...options, regions: ['us-west-2'] })).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      message: 'Credential should be scoped to a valid region. ',
    });
  });

  it('rejects a credential scope whose date is not the X-Amz-Date day', async () => {
    const { req, options } = load('get-vanilla');
    const auth = req.headers.authorization![0]!.replace('/20150830/', '/20150831/');
    await expect(
      verifySigV4({ ...req, headers: { ...req.headers, authorization: [auth] } }, options),
    ).rejects.toMatchObject({
      code: 'SignatureDoesNotMatch',
      message:
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.",
    });
  });

  it('rejects a correctly signed request whose SignedHeaders leave out host', async () => {
    // Signed for real (so only the host rule can refuse it): x-amz-date is the one signed header.
    const { options } = load('get-vanilla');
    const signer = new SignatureV4({
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' },
      region: 'us-east-1',
      service: 'service',
      sha256: Sha256,
      applyChecksum: false,
    });
    const signed = await signer.sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'example.amazonaws.com',
        path: '/',
        headers: { host: 'example.amazonaws.com' },
      },
      { signingDate: new Date(options.now), unsignableHeaders: new Set(['host']) },
    );
    const authorization = String(signed.headers.authorization);
    expect(authorization).toContain('SignedHeaders=x-amz-date,');
    const req: ReceivedRequest = {
      method: 'GET',
      path: '/',
      query: '',
      headers: {
        host: ['example.amazonaws.com'],
        'x-amz-date': [String(signed.headers['x-amz-date'])],
        authorization: [authorization],
      },
      body: new Uint8Array(),
    };
    await expect(verifySigV4(req, options)).rejects.toMatchObject({
      code: 'IncompleteSignature',
      status: 400,
      message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    });
  });

  it('answers a malformed query string with an AWS error, not a crash', async () => {
    const { req, options } = load('get-vanilla-query-order-key-case');
    await expect(verifySigV4({ ...req, query: 'Param1=%zz' }, options)).rejects.toMatchObject({
      code: 'MalformedQueryString',
      status: 400,
    });
  });

  it('rejects an unknown key and a missing Authorization header', async () => {
    const { req, options } = load('get-vanilla');
    await expect(verifySigV4(req, { ...options, lookup: () => undefined })).rejects.toMatchObject({
      code: 'InvalidClientTokenId',
      message: 'The security token included in the request is invalid.',
    });
    const { authorization: _a, ...headers } = req.headers;
    await expect(verifySigV4({ ...req, headers }, options)).rejects.toMatchObject({
      code: 'MissingAuthenticationToken',
      status: 403,
    });
  });
});
