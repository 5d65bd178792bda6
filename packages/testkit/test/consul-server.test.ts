// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Consul bind-name templates are literal ${...} strings
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsEmulator,
  type ConsulEmulator,
  type FakeRole,
  type IssuedCredentials,
  startAws,
  startConsul,
} from '../src/index.js';
import { buildToken, type TokenParts } from './consul-bearer.js';

const T0 = Date.parse('2026-05-01T12:00:00Z');
let now = T0;
const clock = { now: () => now };
const TAG = 'consul.hashicorp.com.service-name';
const REGION = 'us-west-2';
const ACCOUNT = '111122223333';

let aws: AwsEmulator;
let consul: ConsulEmulator;
let webRole: FakeRole;
let otherRole: FakeRole;
let web: IssuedCredentials;

async function login(token: string, authMethod = 'entity', meta?: Record<string, string>, c: ConsulEmulator = consul) {
  const res = await fetch(`${c.url}/v1/acl/login`, {
    method: 'POST',
    body: JSON.stringify({ AuthMethod: authMethod, BearerToken: token, ...(meta ? { Meta: meta } : {}) }),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

const parts = (over: Partial<TokenParts> = {}): TokenParts => ({
  credentials: web,
  region: REGION,
  date: new Date(now),
  entity: {
    params: [
      ['Action', 'GetRole'],
      ['RoleName', 'web'],
      ['Version', '2010-05-08'],
    ],
  },
  ...over,
});

/** Logs in with a token built from `over` and expects the real server's rejection. */
async function rejected(over: Partial<TokenParts>, status: number, message: string, method = 'entity') {
  const { token } = await buildToken(parts(over));
  const res = await login(token, method);
  expect({ status: res.status, text: res.text }).toEqual({ status, text: message });
}

beforeAll(async () => {
  aws = await startAws({ region: REGION, accountId: ACCOUNT, clock });
  webRole = aws.addRole({ name: 'web', path: '/ecs/services/', tags: { [TAG]: 'web', team: 'edge' } });
  otherRole = aws.addRole({ name: 'other', path: '/ecs/services/', tags: { [TAG]: 'other' } });
  consul = await startConsul({
    aws,
    clock,
    awsRetryWaitMs: 0,
    authMethods: [
      {
        name: 'entity',
        config: {
          BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/services/*`],
          EnableIAMEntityDetails: true,
          IAMEntityTags: [TAG],
        },
        maxTokenTtlMs: 3_600_000,
      },
      { name: 'plain', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`] } },
      {
        name: 'server-id',
        config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`], ServerIDHeaderValue: 'consul.example' },
      },
      {
        name: 'endpoints',
        config: {
          BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/services/web`],
          EnableIAMEntityDetails: true,
          IAMEntityTags: [TAG],
          STSEndpoint: aws.url,
          IAMEndpoint: aws.url,
        },
      },
    ],
    bindingRules: [
      { authMethod: 'entity', bindType: 'service', bindName: `\${entity_tags.${TAG}}` },
      { authMethod: 'plain', bindType: 'service', bindName: '${entity_name}' },
      { authMethod: 'server-id', bindType: 'service', bindName: '${entity_name}' },
      { authMethod: 'endpoints', bindType: 'service', bindName: `\${entity_tags.${TAG}}` },
    ],
  });
});
afterAll(async () => {
  await consul.close();
  await aws.close();
});
beforeEach(() => {
  now = T0;
  web = aws.issueRoleCredentials(webRole.arn, { sessionName: 'task-1' });
  aws.setFault(undefined);
  consul.setFault(undefined);
  consul.setReplicationLag(0);
});

describe('fake Consul: successful logins', () => {
  it('logs in with entity details: path-bound wildcard, service from the role tag, TTL, meta in the description', async () => {
    const { token } = await buildToken(parts());
    const res = await login(token, 'entity', { 'consul.hashicorp.com/task-id': 't1', b: '<&>' });
    expect(res.status).toBe(200);
    const t = res.json();
    expect(t).toMatchObject({
      Description: 'token created via login: {"b":"\\u003c\\u0026\\u003e","consul.hashicorp.com/task-id":"t1"}',
      ServiceIdentities: [{ ServiceName: 'web' }],
      Local: true,
      AuthMethod: 'entity',
      ExpirationTTL: '1h0m0s',
      ExpirationTime: new Date(T0 + 3_600_000).toISOString(),
      CreateTime: new Date(T0).toISOString(),
    });
    expect(t.AccessorID).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.SecretID).toMatch(/^[0-9a-f-]{36}$/);
    expect(consul.requests.at(-1)).toMatchObject({
      path: '/v1/acl/login',
      status: 200,
      principalArn: 'arn:aws:iam::111122223333:role/ecs/services/web',
    });
    // Both embedded requests reached the fake AWS with their real AWS Host headers.
    const hosts = aws.requests.slice(-2).map((r) => [r.host, r.action, r.status]);
    expect(hosts).toEqual([
      ['sts.us-west-2.amazonaws.com', 'GetCallerIdentity', 200],
      ['iam.amazonaws.com', 'GetRole', 200],
    ]);
  });

  it('logs in without entity details: canonical role ARN (no path), service from ${entity_name}', async () => {
    const { token } = await buildToken(parts({ entity: undefined }));
    const res = await login(token, 'plain');
    expect(res.status).toBe(200);
    expect(res.json().ServiceIdentities).toEqual([{ ServiceName: 'web' }]);
    expect(res.json().ExpirationTTL).toBeUndefined();
  });

  it('sends to STSEndpoint / IAMEndpoint when configured, with any host', async () => {
    const { token } = await buildToken(
      parts({ stsUrl: `${aws.url}/`, entity: { ...parts().entity!, iamUrl: `${aws.url}/` } }),
    );
    const res = await login(token, 'endpoints');
    expect(res.status).toBe(200);
    expect(res.json().ServiceIdentities).toEqual([{ ServiceName: 'web' }]);
  });

  it('accepts a signed server ID with the configured value', async () => {
    const { token } = await buildToken(parts({ entity: undefined, serverId: 'consul.example' }));
    expect((await login(token, 'server-id')).status).toBe(200);
  });
});

describe('fake Consul: every server check rejects its near miss with the real text', () => {
  it('1. method must be POST; URL without a query string', async () => {
    await rejected({ method: 'GET' }, 500, 'iam_http_request_method must be POST');
    await rejected(
      { stsUrl: `https://sts.${REGION}.amazonaws.com/?Action=GetCallerIdentity` },
      500,
      'iam_request_url must not contain a query string',
    );
  });

  it('2. the STS host must be sts.*.amazonaws.com unless STSEndpoint is set', async () => {
    await rejected({ stsUrl: `${aws.url}/` }, 500, 'invalid STS hostname: "127.0.0.1"');
    await rejected(
      { stsUrl: 'https://sts.us-west-2.amazonaws.com.evil.example/' },
      500,
      'invalid STS hostname: "sts.us-west-2.amazonaws.com.evil.example"',
    );
  });

  it('3. the body is exactly Action=GetCallerIdentity (+ Version)', async () => {
    await rejected(
      {
        stsParams: [
          ['Action', 'GetCallerIdentity'],
          ['Version', '2011-06-15'],
          ['Extra', '1'],
        ],
      },
      500,
      'iam_request_body error: unexpected field "Extra"',
    );
    await rejected(
      {
        stsParams: [
          ['Action', 'GetCallerIdentity'],
          ['Action', 'GetCallerIdentity'],
        ],
      },
      500,
      'iam_request_body error: unexpected value Action=[GetCallerIdentity GetCallerIdentity]',
    );
    await rejected(
      {
        stsParams: [
          ['Action', 'GetSessionToken'],
          ['Version', '2011-06-15'],
        ],
      },
      500,
      'iam_request_body error: unexpected value Action=[GetSessionToken]',
    );
    await rejected({ stsParams: [['Version', '2011-06-15']] }, 500, 'iam_request_body error: missing field "Action"');
  });

  it('4. X-Amz-* headers outside the allow-list are refused', async () => {
    await rejected(
      { stsHeaders: { 'x-amz-user-agent': 'aws-sdk-js/3' } },
      500,
      'invalid request header: X-Amz-User-Agent',
    );
  });

  it('5. entity details: four GetEntity headers, once each, canonical keys, IAM host, GetRole/GetUser body', async () => {
    await rejected(
      { afterSigning: (h) => void delete h['X-Consul-Iam-Getentity-Body'] },
      500,
      'missing header "X-Consul-IAM-GetEntity-Body"',
    );
    await rejected(
      { afterSigning: (h) => void h['X-Consul-Iam-Getentity-Method']!.push('POST') },
      500,
      'invalid value for header "X-Consul-IAM-GetEntity-Method" (expected 1 item)',
    );
    await rejected(
      {
        afterSigning: (h) => {
          h['x-consul-iam-getentity-method'] = h['X-Consul-Iam-Getentity-Method']!;
          delete h['X-Consul-Iam-Getentity-Method'];
        },
      },
      500,
      'missing header "X-Consul-IAM-GetEntity-Method"',
    );
    await rejected({ entity: undefined }, 500, 'missing header "X-Consul-IAM-GetEntity-Method"');
    await rejected(
      {
        entity: {
          params: [
            ['Action', 'GetCallerIdentity'],
            ['Version', '2010-05-08'],
          ],
        },
      },
      500,
      'iam_request_headers[X-Consul-IAM-GetEntity-Body] error: unexpected value Action=[GetCallerIdentity]',
    );
    await rejected(
      {
        entity: {
          params: [
            ['Action', 'GetRole'],
            ['UserName', 'web'],
          ],
        },
      },
      500,
      'iam_request_headers["X-Consul-IAM-GetEntity-Body"] error: invalid request body "Action=GetRole&UserName=web"',
    );
    await rejected({ entity: { ...parts().entity!, iamUrl: `${aws.url}/` } }, 500, 'invalid IAM hostname: "127.0.0.1"');
  });

  it('6. server ID: present, equal, and signed', async () => {
    await rejected({ entity: undefined }, 500, 'missing header "X-Consul-IAM-ServerID"', 'server-id');
    await rejected(
      { entity: undefined, serverId: 'other.example' },
      500,
      'expected "consul.example" but got "other.example"',
      'server-id',
    );
    await rejected(
      {
        entity: undefined,
        afterSigning: (h) => {
          h['X-Consul-Iam-Serverid'] = ['consul.example'];
        },
      },
      500,
      "header wasn't signed",
      'server-id',
    );
    await rejected(
      {
        entity: undefined,
        serverId: 'consul.example',
        afterSigning: (h) => void delete h.Authorization,
      },
      500,
      'missing Authorization header',
      'server-id',
    );
  });

  it('1-5. the checks run in the real order: method, STS host, body, X-Amz-* headers, then the entity headers', async () => {
    // Every later check is also broken, so each answer names the first check that still fails.
    const broken: Partial<TokenParts> = {
      method: 'GET',
      stsUrl: 'https://sts.example.com/',
      stsParams: [
        ['Action', 'GetCallerIdentity'],
        ['Extra', '1'],
      ],
      stsHeaders: { 'x-amz-user-agent': 'aws-sdk-js/3' },
      entity: undefined,
    };
    await rejected(broken, 500, 'iam_http_request_method must be POST');
    await rejected({ ...broken, method: 'POST' }, 500, 'invalid STS hostname: "sts.example.com"');
    const goodHost = { ...broken, method: 'POST', stsUrl: `https://sts.${REGION}.amazonaws.com/` };
    await rejected(goodHost, 500, 'iam_request_body error: unexpected field "Extra"');
    await rejected({ ...goodHost, stsParams: undefined }, 500, 'invalid request header: X-Amz-User-Agent');
    await rejected(
      { ...goodHost, stsParams: undefined, stsHeaders: undefined },
      500,
      'missing header "X-Consul-IAM-GetEntity-Method"',
    );
  });

  it('5. the embedded IAM URL may not carry a query string', async () => {
    await rejected(
      { entity: { ...parts().entity!, iamUrl: 'https://iam.amazonaws.com/?Action=GetRole' } },
      500,
      'iam_request_headers[X-Consul-IAM-GetEntity-URL] must not contain a query string',
    );
  });

  describe('auth method settings', () => {
    let c: ConsulEmulator;
    beforeAll(async () => {
      c = await startConsul({
        aws,
        clock,
        authMethods: [
          {
            name: 'entity-server-id',
            config: {
              BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/services/web`],
              EnableIAMEntityDetails: true,
              ServerIDHeaderValue: 'consul.example',
            },
          },
          {
            name: 'allowed-amz',
            config: {
              BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`],
              AllowedSTSHeaderValues: ['X-Amz-User-Agent'],
            },
          },
        ],
        bindingRules: ['entity-server-id', 'allowed-amz'].map((authMethod) => ({
          authMethod,
          bindType: 'service' as const,
          bindName: '${entity_name}',
        })),
      });
    });
    afterAll(() => c.close());

    it('6. with entity details the server ID must be on the IAM request too (checked after STS answered)', async () => {
      const ok = await buildToken(parts({ serverId: 'consul.example' }));
      expect((await login(ok.token, 'entity-server-id', undefined, c)).status).toBe(200);
      // The STS request carries the signed header; the embedded IAM request does not.
      const { token } = await buildToken(parts({ stsHeaders: { 'x-consul-iam-serverid': 'consul.example' } }));
      expect(await login(token, 'entity-server-id', undefined, c)).toMatchObject({
        status: 500,
        text: 'missing header "X-Consul-IAM-ServerID"',
      });
      expect(aws.requests.at(-1)).toMatchObject({ action: 'GetCallerIdentity', status: 200 });
    });

    it("4. an X-Amz-* header in the method's AllowedSTSHeaderValues is accepted", async () => {
      const { token } = await buildToken(
        parts({ entity: undefined, stsHeaders: { 'x-amz-user-agent': 'aws-sdk-js/3' } }),
      );
      expect((await login(token, 'allowed-amz', undefined, c)).status).toBe(200);
      expect((await login(token, 'plain')).text).toBe('invalid request header: X-Amz-User-Agent');
    });
  });

  it('7. AWS must accept the signature and answer text/xml; RoleId must match; the principal must be bound', async () => {
    const tampered = await buildToken(
      parts({ entity: undefined, body: 'Action=GetCallerIdentity&Version=2011-06-15 ' }),
    );
    const sig = await login(tampered.token, 'plain');
    expect(sig.status).toBe(500);
    expect(sig.text).toMatch(/^received error code 403: <\?xml[\s\S]*<Code>SignatureDoesNotMatch<\/Code>/);

    aws.setFault({ contentType: 'application/json', match: 'GetCallerIdentity' });
    await rejected({}, 500, 'response body is invalid');
    aws.setFault(undefined);

    await rejected(
      {
        entity: {
          params: [
            ['Action', 'GetRole'],
            ['RoleName', 'other'],
            ['Version', '2010-05-08'],
          ],
        },
      },
      500,
      'unique id mismatch in login token',
    );

    const stranger = aws.addRole({
      name: `stranger-${now}-${Math.random().toString(36).slice(2, 6)}`,
      path: '/other/',
    });
    const creds = aws.issueRoleCredentials(stranger.arn);
    await rejected(
      {
        credentials: creds,
        entity: {
          params: [
            ['Action', 'GetRole'],
            ['RoleName', stranger.name],
          ],
        },
      },
      500,
      `IAM principal ${stranger.arn} is not trusted`,
    );
    // Without entity details the role's path is not known: the canonical ARN has none.
    const plain = await buildToken(parts({ entity: undefined, credentials: aws.issueRoleCredentials(otherRole.arn) }));
    expect((await login(plain.token, 'plain')).text).toBe(
      `IAM principal arn:aws:iam::${ACCOUNT}:role/other is not trusted`,
    );
  });

  it("7. the signed host must be the token URL's host: AWS sees the URL's host and refuses the signature", async () => {
    const { token } = await buildToken(
      parts({ entity: undefined, tokenUrl: `https://sts-fips.${REGION}.amazonaws.com/` }),
    );
    const res = await login(token, 'plain');
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/^received error code 403: <\?xml[\s\S]*<Code>SignatureDoesNotMatch<\/Code>/);
    expect(aws.requests.at(-1)).toMatchObject({ host: `sts-fips.${REGION}.amazonaws.com`, status: 403 });
  });

  it('7. expired session credentials fail at AWS with ExpiredToken', async () => {
    const short = aws.issueRoleCredentials(webRole.arn, { lifetimeMs: 900_000 });
    now = T0 + 900_000;
    const { token } = await buildToken(parts({ credentials: short }));
    const res = await login(token);
    expect(res.status).toBe(500);
    expect(res.text).toContain('received error code 400: ');
    expect(res.text).toContain('<Code>ExpiredToken</Code>');
  });

  it('8. no binding rule matched: 403 Permission denied', async () => {
    const c = await startConsul({
      aws,
      clock,
      authMethods: [{ name: 'm', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`] } }],
      bindingRules: [
        { authMethod: 'm', bindType: 'service', bindName: '${entity_name}', selector: 'entity_name == "api"' },
      ],
    });
    try {
      const { token } = await buildToken(parts({ entity: undefined }));
      expect(await login(token, 'm', undefined, c)).toMatchObject({ status: 403, text: 'Permission denied' });
      expect(c.requests.at(-1)).toMatchObject({ status: 403, principalArn: `arn:aws:iam::${ACCOUNT}:role/web` });
    } finally {
      await c.close();
    }
  });

  it('unknown auth method, malformed token, bad request body', async () => {
    const { token } = await buildToken(parts());
    expect(await login(token, 'nope')).toMatchObject({
      status: 403,
      text: 'ACL not found: auth method "nope" not found',
    });
    expect(await login('{', 'entity')).toMatchObject({
      status: 500,
      text: 'invalid token: invalid character looking for beginning of value',
    });
    expect(
      await login(JSON.stringify({ iam_http_request_method: 'POST', iam_request_url: '%%%' }), 'entity'),
    ).toMatchObject({
      status: 500,
      text: 'invalid token: illegal base64 data at input byte 0',
    });
    const res = await fetch(`${consul.url}/v1/acl/login`, { method: 'POST', body: '' });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('Failed to decode request body: EOF');
  });

  it('retries AWS 5xx answers up to MaxRetries, then gives up like retryablehttp', async () => {
    const c = await startConsul({
      aws,
      clock,
      awsRetryWaitMs: 0,
      authMethods: [
        { name: 'r0', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`] } },
        { name: 'r1', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`], MaxRetries: 1 } },
      ],
      bindingRules: ['r0', 'r1'].map((m) => ({
        authMethod: m,
        bindType: 'service' as const,
        bindName: '${entity_name}',
      })),
    });
    try {
      aws.setFault({ status: 503, match: 'GetCallerIdentity', times: 1 });
      const first = await login((await buildToken(parts({ entity: undefined }))).token, 'r0', undefined, c);
      expect(first).toMatchObject({
        status: 500,
        text: 'error making request: POST https://sts.us-west-2.amazonaws.com// giving up after 1 attempt(s)',
      });
      aws.setFault({ status: 503, match: 'GetCallerIdentity', times: 1 });
      const second = await login((await buildToken(parts({ entity: undefined }))).token, 'r1', undefined, c);
      expect(second.status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe('fake Consul: tokens, replication, logout, modes', () => {
  async function newToken() {
    const res = await login((await buildToken(parts())).token);
    expect(res.status).toBe(200);
    return res.json() as { SecretID: string; AccessorID: string };
  }
  const self = (secret: string, stale = true) =>
    fetch(`${consul.url}/v1/acl/token/self${stale ? '?stale' : ''}`, { headers: { 'X-Consul-Token': secret } });
  const logout = (secret?: string) =>
    fetch(`${consul.url}/v1/acl/logout`, { method: 'POST', headers: secret ? { 'X-Consul-Token': secret } : {} });

  it('a stale self-read answers 403 ACL not found until the replication lag has passed', async () => {
    consul.setReplicationLag(300);
    const t = await newToken();
    const early = await self(t.SecretID);
    expect(early.status).toBe(403);
    expect(await early.text()).toBe('ACL not found');
    expect((await self(t.SecretID, false)).status).toBe(200); // the leader has it already
    now = T0 + 299;
    expect((await self(t.SecretID)).status).toBe(403);
    now = T0 + 300;
    const late = await self(t.SecretID);
    expect(late.status).toBe(200);
    expect(late.headers.get('x-consul-index')).toMatch(/^\d+$/);
    expect(await late.json()).toMatchObject({ AccessorID: t.AccessorID, AuthMethod: 'entity' });
  });

  it('an expired token reads as ACL not found', async () => {
    const t = await newToken();
    now = T0 + 3_600_000;
    expect((await self(t.SecretID)).status).toBe(403);
  });

  it('logout deletes the token and answers true; then the token is gone', async () => {
    const t = await newToken();
    const out = await logout(t.SecretID);
    expect(out.status).toBe(200);
    expect(await out.json()).toBe(true);
    expect(consul.tokens().some((x) => x.accessorId === t.AccessorID)).toBe(false);
    const again = await logout(t.SecretID);
    expect({ status: again.status, text: await again.text() }).toEqual({ status: 403, text: 'ACL not found' });
    expect((await self(t.SecretID, false)).status).toBe(403);
  });

  it('logout refuses tokens not created by login, and requests without a token', async () => {
    const mgmt = consul.createToken({ description: 'management' });
    const res = await logout(mgmt.secretId);
    expect({ status: res.status, text: await res.text() }).toEqual({ status: 403, text: 'Permission denied' });
    const none = await logout();
    expect({ status: none.status, text: await none.text() }).toEqual({
      status: 401,
      text: 'Supplied token does not exist',
    });
  });

  it('ACLs disabled: 401 ACL support disabled', async () => {
    consul.setAclsEnabled(false);
    try {
      const res = await login((await buildToken(parts())).token);
      expect(res).toMatchObject({ status: 401, text: 'ACL support disabled' });
    } finally {
      consul.setAclsEnabled(true);
    }
  });

  it('through a client agent, server errors carry the rpc prefix', async () => {
    const c = await startConsul({ aws, clock, viaClientAgent: true });
    try {
      const res = await login((await buildToken(parts())).token, 'entity', undefined, c);
      expect(res).toMatchObject({
        status: 403,
        text: 'rpc error making call: ACL not found: auth method "entity" not found',
      });
    } finally {
      await c.close();
    }
  });

  it('OSS refuses namespaces; Enterprise records them', async () => {
    const { token } = await buildToken(parts());
    const res = await fetch(`${consul.url}/v1/acl/login?ns=team`, {
      method: 'POST',
      body: JSON.stringify({ AuthMethod: 'entity', BearerToken: token }),
    });
    expect({ status: res.status, text: await res.text() }).toEqual({
      status: 400,
      text: 'Invalid query parameter: "ns" - Namespaces are a Consul Enterprise feature',
    });
  });

  it('Enterprise: namespace and partition are recorded on the token', async () => {
    const c = await startConsul({
      aws,
      clock,
      enterprise: true,
      authMethods: [{ name: 'm', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`] } }],
      bindingRules: [{ authMethod: 'm', bindType: 'service', bindName: '${entity_name}' }],
    });
    try {
      const { token } = await buildToken(parts({ entity: undefined }));
      const res = await fetch(`${c.url}/v1/acl/login?ns=team&partition=blue`, {
        method: 'POST',
        body: JSON.stringify({ AuthMethod: 'm', BearerToken: token }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ Namespace: 'team', Partition: 'blue' });
    } finally {
      await c.close();
    }
  });

  it('selectors choose rules; node bindings; a bind name that cannot be computed fails the login', async () => {
    const c = await startConsul({
      aws,
      clock,
      datacenter: 'dc7',
      authMethods: [
        {
          name: 'm',
          config: {
            BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/*`],
            EnableIAMEntityDetails: true,
            IAMEntityTags: [TAG],
          },
        },
        { name: 'bad', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`] } },
      ],
      bindingRules: [
        { authMethod: 'm', bindType: 'service', bindName: 'never', selector: `entity_tags.${TAG} == "api"` },
        {
          authMethod: 'm',
          bindType: 'service',
          bindName: '${entity_name}-svc',
          selector: `entity_tags.${TAG} == "web" and entity_path == "/ecs/services/"`,
        },
        {
          authMethod: 'm',
          bindType: 'node',
          bindName: 'node-${entity_name}',
          selector: 'account_id != "000000000000"',
        },
        { authMethod: 'bad', bindType: 'service', bindName: '${entity_tags.nope}' },
      ],
    });
    try {
      const ok = await login((await buildToken(parts())).token, 'm', undefined, c);
      expect(ok.status).toBe(200);
      expect(ok.json()).toMatchObject({
        ServiceIdentities: [{ ServiceName: 'web-svc' }],
        NodeIdentities: [{ NodeName: 'node-web', Datacenter: 'dc7' }],
      });
      const bad = await login((await buildToken(parts({ entity: undefined }))).token, 'bad', undefined, c);
      expect(bad).toMatchObject({
        status: 500,
        text: 'cannot compute "service" bind name for bind target: unknown variable accessed: entity_tags.nope',
      });
      const otherDc = await fetch(`${c.url}/v1/acl/login?dc=dc1`, { method: 'POST', body: '{}' });
      expect({ status: otherDc.status, text: await otherDc.text() }).toEqual({
        status: 500,
        text: 'No path to datacenter',
      });
    } finally {
      await c.close();
    }
  });

  it('delay and truncation faults', async () => {
    consul.setFault({ match: '/v1/acl/token/self', delayMs: 5_000, times: 1 });
    const slow = fetch(`${consul.url}/v1/acl/token/self`, { signal: AbortSignal.timeout(50) });
    await expect(slow).rejects.toThrow();
    consul.setFault({ match: '/v1/acl/logout', reset: true, times: 1 });
    await expect(fetch(`${consul.url}/v1/acl/logout`, { method: 'POST' })).rejects.toThrow();
    expect((await fetch(`${consul.url}/v1/acl/logout`, { method: 'POST' })).status).toBe(401);
    consul.setFault({ match: '/v1/acl/login', truncate: true, times: 1 });
    const body = JSON.stringify({ AuthMethod: 'entity', BearerToken: (await buildToken(parts())).token });
    // The cut comes after the headers: either the fetch or the body read fails, never a complete answer.
    const cut = fetch(`${consul.url}/v1/acl/login`, { method: 'POST', body }).then((r) => r.text());
    await expect(cut).rejects.toThrow();
  });

  it('answerDelayMs: the login is done (its token exists) while the answer is still on its way', async () => {
    const before = consul.liveTokens().length;
    consul.setFault({ match: '/v1/acl/login', answerDelayMs: 5_000, times: 1 });
    const body = JSON.stringify({ AuthMethod: 'entity', BearerToken: (await buildToken(parts())).token });
    const gaveUp = fetch(`${consul.url}/v1/acl/login`, { method: 'POST', body, signal: AbortSignal.timeout(1_000) });
    await expect(gaveUp).rejects.toThrow();
    // The client gave up; Consul made the token all the same, and nobody knows its SecretID.
    expect(consul.liveTokens()).toHaveLength(before + 1);
    expect(consul.requests.at(-1)).toMatchObject({ path: '/v1/acl/login', status: 200, authMethod: 'entity' });
  });

  it('liveTokens leaves out logged-out and expired tokens; tokens() keeps the expired ones', async () => {
    const live = () => consul.liveTokens().map((t) => t.accessorId);
    const a = await newToken();
    const b = await newToken();
    expect(live()).toEqual(expect.arrayContaining([a.AccessorID, b.AccessorID]));
    await logout(a.SecretID);
    expect(live()).not.toContain(a.AccessorID);
    now = T0 + 3_600_000; // the 'entity' method's MaxTokenTTL
    expect(live()).not.toContain(b.AccessorID);
    expect(consul.tokens().map((t) => t.accessorId)).toContain(b.AccessorID);
  });

  it('binds roles that exist and skips those that do not', async () => {
    const c = await startConsul({
      aws,
      clock,
      roles: ['web-role'],
      authMethods: [{ name: 'm', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`] } }],
      bindingRules: [
        { authMethod: 'm', bindType: 'role', bindName: '${entity_name}-role' },
        { authMethod: 'm', bindType: 'role', bindName: 'missing-role' },
      ],
    });
    try {
      const res = await login((await buildToken(parts({ entity: undefined }))).token, 'm', undefined, c);
      expect(res.status).toBe(200);
      expect(res.json().Roles).toEqual([{ ID: expect.stringMatching(/^[0-9a-f-]{36}$/), Name: 'web-role' }]);
    } finally {
      await c.close();
    }
  });

  it('injects faults and keeps secrets out of the request log', async () => {
    consul.setFault({ match: '/v1/acl/login', status: 500, body: 'rpc error: leadership lost', times: 1 });
    const { token } = await buildToken(parts());
    expect(await login(token)).toMatchObject({ status: 500, text: 'rpc error: leadership lost' });
    const ok = await login((await buildToken(parts())).token);
    expect(ok.status).toBe(200);
    const log = JSON.stringify(consul.requests);
    expect(log).not.toContain(ok.json().SecretID as string);
    expect(log).not.toContain(web.secretAccessKey);
    expect(log).not.toContain(web.sessionToken);
  });

  it('validates auth methods like Consul when they are written', () => {
    expect(() => consul.addAuthMethod({ name: 'x', config: { BoundIAMPrincipalARNs: [] } })).toThrow(
      'Invalid Auth Method: BoundIAMPrincipalARNs is required and must have at least 1 entry',
    );
    expect(() =>
      consul.addAuthMethod({ name: 'x', config: { BoundIAMPrincipalARNs: ['arn:aws:iam::1:role/*'] } }),
    ).toThrow('Must set EnableIAMEntityDetails=true to use wildcards in BoundIAMPrincipalARNs');
  });
});
