import { IdentityError } from '@ecs-identity/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type Stub, type StubAnswer, startStub, tokenJson } from '../test/stub-server.js';
import { classifyConsulError, consulErrorText } from './consul-errors.js';
import { consulAclClient } from './index.js';

let stub: Stub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

async function client(answer: StubAnswer | ((n: number) => StubAnswer)) {
  let n = 0;
  stub = await startStub(() => (typeof answer === 'function' ? answer(n++) : answer));
  return consulAclClient({ address: stub.url, env: {} });
}

describe('consulAclClient.login', () => {
  it('POSTs AuthMethod, the bearer token as a JSON string and Meta, with dc/partition/ns, and parses the token', async () => {
    const acl = await client({ status: 200, body: tokenJson({ ExpirationTime: '2026-01-02T04:04:05Z' }) });
    const bearer = JSON.stringify({ iam_http_request_method: 'POST', iam_request_url: 'aHR0cHM6' });
    const token = await acl.login({
      authMethod: 'iam-ecs-service-token',
      bearerToken: bearer,
      meta: { 'consul.hashicorp.com/task-id': 'abc' },
      datacenter: 'dc2',
      partition: 'team',
      namespace: 'web',
    });
    const req = stub?.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/acl/login?dc=dc2&partition=team&ns=web');
    expect(req?.headers['x-consul-token']).toBeUndefined();
    const body = JSON.parse(req?.body ?? '');
    expect(body).toEqual({
      AuthMethod: 'iam-ecs-service-token',
      BearerToken: bearer,
      Meta: { 'consul.hashicorp.com/task-id': 'abc' },
    });
    expect(typeof body.BearerToken).toBe('string');
    expect(token.accessorId).toBe('6a1253d2-1785-24fd-91c2-f8e78c745511');
    expect(token.secretId).toBe('45a3bd52-07c7-47a4-52fd-0745e0cfe967');
    expect(token.expiresAt?.toISOString()).toBe('2026-01-02T04:04:05.000Z');
    expect(token.createdAt?.toISOString()).toBe('2026-01-02T03:04:05.123Z');
    expect(token.serviceIdentities).toEqual([{ serviceName: 'web' }]);
    expect(token.roles).toEqual([{ id: 'r1', name: 'web-role' }]);
    expect(token.local).toBe(true);
    // The SecretID never shows when the token is printed or serialised.
    expect(JSON.stringify(token)).not.toContain('45a3bd52-07c7-47a4-52fd-0745e0cfe967');
    expect(String(token)).not.toContain('45a3bd52-07c7-47a4-52fd-0745e0cfe967');
  });

  const errors: [number, string, string, boolean][] = [
    [401, 'ACL support disabled', 'CONSUL_ACL_DISABLED', false],
    [403, 'ACL not found: auth method "iam-ecs-service-token" not found', 'CONSUL_AUTH_METHOD_NOT_FOUND', false],
    [403, 'Permission denied', 'CONSUL_PERMISSION_DENIED', false],
    [
      500,
      'rpc error making call: IAM principal arn:aws:iam::123456789012:role/other is not trusted',
      'CONSUL_PRINCIPAL_NOT_TRUSTED',
      false,
    ],
    // A token check: the same token fails the same way every time, so it is not retryable.
    [
      500,
      'rpc error making call: rpc error making call: invalid request header: X-Amz-User-Agent',
      'CONSUL_LOGIN_FAILED',
      false,
    ],
    // AWS refused (e.g. credentials just rotated): another attempt with a new token may pass.
    [
      500,
      'received error code 403: <ErrorResponse><Error><Code>ExpiredToken</Code></Error></ErrorResponse>',
      'CONSUL_LOGIN_FAILED',
      true,
    ],
    [400, 'Request decode failed: unexpected EOF', 'CONSUL_LOGIN_FAILED', false],
  ];
  for (const [status, text, code, retryable] of errors) {
    it(`maps ${status} "${text.slice(0, 40)}" to ${code} keeping the server's text`, async () => {
      const acl = await client({ status, body: text, contentType: 'text/plain' });
      const error = await acl.login({ authMethod: 'm', bearerToken: '{}' }).catch((e: unknown) => e);
      expect(IdentityError.is(error)).toBe(true);
      const e = error as IdentityError;
      expect(e.code).toBe(code);
      expect(e.status).toBe(status);
      expect(e.retryable).toBe(retryable);
      expect(e.message).toContain(consulErrorText(text));
      expect(e.message).not.toContain('rpc error making call');
      expect(e.message).toContain(`Consul login (auth method "m") at ${stub?.url} answered ${status}`);
    });
  }

  it('rejects bad parameters before any request', async () => {
    const acl = await client({ status: 200, body: tokenJson() });
    for (const params of [
      { authMethod: '', bearerToken: '{}' },
      { authMethod: 'm', bearerToken: '' },
      { authMethod: 'm', bearerToken: '{}', meta: { a: 1 } },
    ]) {
      const error = await acl.login(params as never).catch((e: unknown) => e);
      expect(IdentityError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    }
    expect(stub?.requests).toHaveLength(0);
  });

  it('rejects an answer without SecretID as INVALID_RESPONSE', async () => {
    const acl = await client({ status: 200, body: JSON.stringify({ AccessorID: 'a' }) });
    const error = await acl.login({ authMethod: 'm', bearerToken: '{}' }).catch((e: unknown) => e);
    expect(IdentityError.is(error, 'INVALID_RESPONSE')).toBe(true);
    expect((error as Error).message).toContain('SecretID is missing');
  });
});

describe('consulAclClient.logout and readSelf', () => {
  it('logs out with X-Consul-Token and reads self with ?stale', async () => {
    const acl = await client((n) => (n === 0 ? { status: 200, body: 'true' } : { status: 200, body: tokenJson() }));
    await acl.logout('secret-1');
    const self = await acl.readSelf('secret-2', { stale: true });
    expect(stub?.requests.map((r) => [r.method, r.url, r.headers['x-consul-token']])).toEqual([
      ['POST', '/v1/acl/logout', 'secret-1'],
      ['GET', '/v1/acl/token/self?stale', 'secret-2'],
    ]);
    expect(self.accessorId).toBe('6a1253d2-1785-24fd-91c2-f8e78c745511');
  });

  it('maps ACL not found to CONSUL_TOKEN_NOT_FOUND and other logout failures to LOGOUT_FAILED', async () => {
    const acl = await client((n) =>
      n === 0
        ? { status: 403, body: 'ACL not found', contentType: 'text/plain' }
        : { status: 500, body: 'rpc error making call: leadership lost', contentType: 'text/plain' },
    );
    const gone = await acl.readSelf('s', { stale: true }).catch((e: unknown) => e);
    expect(IdentityError.is(gone, 'CONSUL_TOKEN_NOT_FOUND')).toBe(true);
    const failed = await acl.logout('s').catch((e: unknown) => e);
    expect(IdentityError.is(failed, 'LOGOUT_FAILED')).toBe(true);
    expect((failed as IdentityError).retryable).toBe(true);
    expect((failed as Error).message).toContain('leadership lost');
    expect((failed as Error).message).not.toContain('"s"');
  });

  it('refuses plain http to a remote host unless allowed', async () => {
    const acl = consulAclClient({ address: 'http://consul.example:8500', env: {} });
    const error = await acl.logout('secret').catch((e: unknown) => e);
    expect(IdentityError.is(error, 'INSECURE_URL')).toBe(true);
  });
});

describe('classifyConsulError', () => {
  it('treats "ACL not found" on login (auth method) and elsewhere (token) differently', () => {
    expect(classifyConsulError('login', 403, 'ACL not found: auth method "x" not found')).toBe(
      'CONSUL_AUTH_METHOD_NOT_FOUND',
    );
    expect(classifyConsulError('login', 403, 'ACL not found')).toBe('CONSUL_LOGIN_FAILED');
    expect(classifyConsulError('read-self', 403, 'ACL not found')).toBe('CONSUL_TOKEN_NOT_FOUND');
    expect(classifyConsulError('read-self', 500, 'boom')).toBeUndefined();
  });
});
