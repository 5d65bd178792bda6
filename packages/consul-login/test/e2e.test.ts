/**
 * End to end on the testkit: fake ECS agent (task metadata + task-role credentials the fake AWS issued) →
 * @ecs-identity/consul-login → fake Consul (every consul-awsauth check) → fake AWS (every signature verified).
 * Complements packages/testkit/test/consul-e2e.test.ts: sink file, wildcard role paths, explicit endpoints with a
 * real GetCallerIdentity, replication lag beyond the wait, token TTL re-login, a client agent's error prefix, the
 * near-miss tokens the server rejects, and a SIGTERM logout with a failure.
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consulAclClient, consulLogin, consulTokenProvider } from '@ecs-identity/consul-login';
import { logoutOnSigterm, tokenFileSink } from '@ecs-identity/consul-login/node';
import { type Clock, IdentityError, staticProvider, systemClock } from '@ecs-identity/core';
import {
  type AwsEmulator,
  type ConsulEmulator,
  type EcsAgent,
  type FakeRole,
  startAws,
  startConsul,
  startEcsAgent,
} from '@ecs-identity/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildBearerToken } from '../src/bearer-token.js';
import { type DecodedToken, decodeToken } from './token-checks.js';

const TAG = 'consul.hashicorp.com.service-name';
const ACCOUNT = '444455556666';
const REGION = 'ap-southeast-2';
const SERVER_ID = 'consul.prod.example';
const noRetry = { maxAttempts: 1 };

let aws: AwsEmulator;
let consul: ConsulEmulator;
let agent: EcsAgent;
let role: FakeRole;
let env: Record<string, string>;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'consul-e2e-'));
  aws = await startAws({ region: REGION, accountId: ACCOUNT });
  role = aws.addRole({ name: 'payments-api', path: '/ecs/team-a/', tags: { [TAG]: 'payments' } });
  agent = await startEcsAgent({
    region: REGION,
    accountId: ACCOUNT,
    clusterName: 'prod-cluster',
    arnFormat: 'old',
    taskRoleArn: role.arn,
    credentials: async (arn) => aws.issueRoleCredentials(arn),
  });
  const entity = { EnableIAMEntityDetails: true, IAMEntityTags: [TAG] };
  consul = await startConsul({
    aws,
    authMethods: [
      {
        name: 'iam-ecs-service-token',
        config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/*`], ...entity },
      },
      {
        name: 'server-id',
        config: { BoundIAMPrincipalARNs: [role.arn], ServerIDHeaderValue: SERVER_ID, ...entity },
      },
      {
        name: 'local-endpoints',
        config: {
          BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/team-a/*`],
          STSEndpoint: aws.url,
          IAMEndpoint: aws.url,
          ...entity,
        },
      },
      {
        name: 'short-ttl',
        maxTokenTtlMs: 120_000,
        config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/*`], ...entity },
      },
      // No binding rule for this one: the login is refused with Permission denied.
      { name: 'unbound', config: { BoundIAMPrincipalARNs: [role.arn], ...entity } },
    ],
    bindingRules: ['iam-ecs-service-token', 'server-id', 'local-endpoints', 'short-ttl'].map((authMethod) => ({
      authMethod,
      bindType: 'service' as const,
      bindName: `\${entity_tags.${TAG}}`,
    })),
  });
  env = { ...agent.env, CONSUL_HTTP_ADDR: consul.url };
});
afterAll(async () => {
  await consul.close();
  await agent.close();
  await aws.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  consul.setReplicationLag(0);
  consul.setFault(undefined);
});

const stored = (secret: string) => consul.tokens().find((t) => t.secretId === secret);

describe('login', () => {
  it('old-format task ARN, role path under a wildcard binding, caller meta, sink file 0600', async () => {
    const sinkFile = join(dir, 'tokens', 'service');
    const token = await consulLogin({ env, sink: tokenFileSink(sinkFile), meta: { team: 'a' }, retry: noRetry });
    expect(await readFile(sinkFile, 'utf8')).toBe(token.secretId);
    expect((await stat(sinkFile)).mode & 0o777).toBe(0o600);
    const record = stored(token.secretId);
    expect(record?.serviceIdentities).toEqual([{ ServiceName: 'payments' }]);
    // Old ARN: the cluster ARN is built from the Cluster name, never `...:cluster` with no name.
    expect(agent.clusterArn).toBe(`arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod-cluster`);
    expect(record?.description).toContain(`"consul.hashicorp.com/cluster":"${agent.clusterArn}"`);
    expect(record?.description).toContain(`"consul.hashicorp.com/task-id":"${agent.taskId}"`);
    expect(record?.description).toContain('"team":"a"');
    const login = consul.requests.filter((r) => r.path === '/v1/acl/login').at(-1);
    expect(login).toMatchObject({ status: 200, principalArn: role.arn });
  });

  it('with a server ID, and the same client refused by a method expecting another one', async () => {
    const token = await consulLogin({
      env,
      authMethod: 'server-id',
      aws: { serverIdHeaderValue: SERVER_ID },
      retry: noRetry,
    });
    expect(stored(token.secretId)?.authMethod).toBe('server-id');
    const error = await consulLogin({ env, authMethod: 'server-id', retry: noRetry }).catch((e: unknown) => e);
    expect(IdentityError.is(error, 'CONSUL_LOGIN_FAILED')).toBe(true);
    expect((error as Error).message).toContain('missing header "X-Consul-IAM-ServerID"');
  });

  it('explicit endpoints: a credential without a role ARN asks the (fake) STS who it is, then logs in', async () => {
    const { roleArn: _, ...noArn } = aws.issueRoleCredentials(role.arn);
    const before = aws.requests.length;
    const token = await consulLogin({
      acl: { address: consul.url },
      env: {},
      authMethod: 'local-endpoints',
      task: {
        partition: 'aws',
        accountId: agent.accountId,
        region: REGION,
        taskId: agent.taskId,
        clusterArn: agent.clusterArn,
      },
      credentials: staticProvider(noArn),
      aws: { stsEndpoint: aws.url, iamEndpoint: aws.url },
      retry: noRetry,
    });
    expect(stored(token.secretId)?.serviceIdentities).toEqual([{ ServiceName: 'payments' }]);
    // Ours (GetCallerIdentity to learn the role), then the server's STS and IAM calls.
    expect(aws.requests.slice(before).map((r) => `${r.action} ${r.status}`)).toEqual([
      'GetCallerIdentity 200',
      'GetCallerIdentity 200',
      'GetRole 200',
    ]);
  });

  it('replication lag: waits it out, or gives up with CONSUL_NOT_REPLICATED and logs the token out', async () => {
    consul.setReplicationLag(200);
    const token = await consulLogin({ env, retry: noRetry });
    expect(stored(token.secretId)).toBeDefined();
    consul.setReplicationLag(60_000);
    const before = consul.tokens().length;
    const error = await consulLogin({ env, retry: noRetry, replication: { attempts: 3, intervalMs: 10 } }).catch(
      (e: unknown) => e,
    );
    expect(IdentityError.is(error, 'CONSUL_NOT_REPLICATED')).toBe(true);
    expect((error as Error).message).toContain('after 3 tries 10 ms apart');
    expect(consul.tokens()).toHaveLength(before);
  });

  it('the login phase has one bound, the attempt in flight included: a silent server ends it in time', async () => {
    // Each request could wait 10 s (the default per-request timeout): the 400 ms bound must end the login before.
    consul.setFault({ match: '/v1/acl/login', hang: true });
    const t0 = performance.now();
    const error = await consulLogin({ env, retry: { deadlineMs: 400 } }).catch((e: unknown) => e);
    const ms = performance.now() - t0;
    expect(IdentityError.is(error, 'TIMEOUT')).toBe(true);
    expect((error as IdentityError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/did not finish within 400 ms/);
    // the metadata and credentials reads come before the bound starts; 10 s would be the per-request timeout
    expect(ms).toBeLessThan(5000);
  });

  it('maps refusals: no binding rule, ACLs disabled, a client agent`s rpc prefix', async () => {
    await expect(consulLogin({ env, authMethod: 'unbound', retry: noRetry })).rejects.toMatchObject({
      code: 'CONSUL_PERMISSION_DENIED',
      status: 403,
    });
    consul.setAclsEnabled(false);
    try {
      await expect(consulLogin({ env, retry: noRetry })).rejects.toMatchObject({ code: 'CONSUL_ACL_DISABLED' });
    } finally {
      consul.setAclsEnabled(true);
    }
    const viaAgent = await startConsul({
      aws,
      viaClientAgent: true,
      authMethods: [
        { name: 'iam-ecs-service-token', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/x`] } },
      ],
    });
    try {
      const error = await consulLogin({ env: { ...env, CONSUL_HTTP_ADDR: viaAgent.url }, retry: noRetry }).catch(
        (e: unknown) => e,
      );
      expect(IdentityError.is(error, 'CONSUL_PRINCIPAL_NOT_TRUSTED')).toBe(true);
      // Without entity details the server only knows the assumed-role ARN, so the principal has no path.
      expect((error as Error).message).toContain(
        `IAM principal arn:aws:iam::${ACCOUNT}:role/payments-api is not trusted`,
      );
      expect((error as Error).message).not.toContain('rpc error making call');
    } finally {
      await viaAgent.close();
    }
  });
});

/** Re-encodes a decoded token (after a test mutates it). */
function encode(t: DecodedToken): string {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return JSON.stringify({
    iam_http_request_method: t.method,
    iam_request_url: b64(t.url),
    iam_request_body: b64(t.body),
    iam_request_headers: b64(JSON.stringify(t.headers)),
  });
}

describe('near misses: the fake Consul refuses what the real one refuses; the builder produces none of them', () => {
  async function freshToken(serverId?: string): Promise<DecodedToken> {
    const credentials = aws.issueRoleCredentials(role.arn);
    return decodeToken(
      await buildBearerToken({
        credentials,
        region: REGION,
        serverIdHeaderValue: serverId,
      }),
    );
  }
  const acl = () => consulAclClient({ address: consul.url, env: {} });
  const login = (authMethod: string, t: DecodedToken) => acl().login({ authMethod, bearerToken: encode(t) });

  it('accepts the builder`s token as is', async () => {
    const token = await login('iam-ecs-service-token', await freshToken());
    expect(stored(token.secretId)).toBeDefined();
  });

  const cases: [string, string, (t: DecodedToken) => DecodedToken, string][] = [
    [
      'a query string',
      'iam-ecs-service-token',
      (t) => ({ ...t, url: `${t.url}?Action=GetCallerIdentity` }),
      'iam_request_url must not contain a query string',
    ],
    [
      'another body',
      'iam-ecs-service-token',
      (t) => ({ ...t, body: `${t.body}&Foo=bar` }),
      'iam_request_body error: unexpected field "Foo"',
    ],
    [
      'an extra X-Amz-* header',
      'iam-ecs-service-token',
      (t) => ({ ...t, headers: { ...t.headers, 'X-Amz-User-Agent': ['aws-sdk-js/3'] } }),
      'invalid request header: X-Amz-User-Agent',
    ],
    [
      'a non-canonical key',
      'iam-ecs-service-token',
      (t) => {
        const { 'X-Consul-Iam-Getentity-Method': method, ...rest } = t.headers;
        return { ...t, headers: { ...rest, 'X-Consul-IAM-GetEntity-Method': method ?? [] } };
      },
      'missing header "X-Consul-IAM-GetEntity-Method"',
    ],
    [
      'a missing entity header',
      'iam-ecs-service-token',
      (t) => {
        const { 'X-Consul-Iam-Getentity-Body': _, ...rest } = t.headers;
        return { ...t, headers: rest };
      },
      'missing header "X-Consul-IAM-GetEntity-Body"',
    ],
    [
      'an unsigned server ID',
      'server-id',
      (t) => ({ ...t, headers: { ...t.headers, 'X-Consul-Iam-Serverid': [SERVER_ID] } }),
      "header wasn't signed",
    ],
    [
      'a non-STS host',
      'iam-ecs-service-token',
      (t) => ({ ...t, url: 'https://evil.example.com/' }),
      'invalid STS hostname: "evil.example.com"',
    ],
  ];
  for (const [name, method, mutate, message] of cases) {
    it(`refuses ${name}`, async () => {
      const error = await login(method, mutate(await freshToken())).catch((e: unknown) => e);
      expect(IdentityError.is(error, 'CONSUL_LOGIN_FAILED')).toBe(true);
      expect((error as Error).message).toContain(message);
    });
  }

  it('refuses a token whose signed part was changed after signing (AWS says SignatureDoesNotMatch)', async () => {
    const t = await freshToken(SERVER_ID);
    const error = await login('server-id', {
      ...t,
      headers: { ...t.headers, 'X-Consul-Iam-Serverid': ['other'] },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toContain(`expected "${SERVER_ID}" but got "other"`);
  });
});

describe('provider, logout, re-login and shutdown', () => {
  it('logs in again when the token is deleted behind its back, and before a TTL token expires', async () => {
    let skewMs = 0;
    const clock: Clock = { ...systemClock, now: () => systemClock.now() + skewMs };
    const provider = consulTokenProvider({ env, authMethod: 'short-ttl', retry: { initial: noRetry }, clock });
    const first = await provider.get();
    expect(first.expiresAt).toBeDefined();
    // Deleted by someone else: the self-read says so, the provider is told, the next get() logs in again.
    await provider.acl.logout(first);
    const gone = await provider.acl.readSelf(first).catch((e: unknown) => e);
    expect(IdentityError.is(gone, 'CONSUL_TOKEN_NOT_FOUND')).toBe(true);
    provider.invalidate(first);
    const second = await provider.get();
    expect(second.accessorId).not.toBe(first.accessorId);
    // Jump to 10 s before expiry: the provider serves the token and logs in again behind it.
    const renewed = new Promise<string>((resolve) => provider.subscribe((t) => resolve(t.accessorId)));
    skewMs = (second.expiresAt?.getTime() ?? 0) - Date.now() - 10_000;
    expect(await provider.get()).toBe(second);
    const third = await renewed;
    expect(third).not.toBe(second.accessorId);
    expect((await provider.get()).accessorId).toBe(third);
    await provider.close();
    expect(consul.tokens().some((t) => t.accessorId === third)).toBe(false);
  });

  it('SIGTERM logs out the service then the client token, reports a failure and exits 1', async () => {
    const service = await consulLogin({ env, retry: noRetry });
    const client = await consulLogin({ env, retry: noRetry });
    const other = await consulLogin({ env, retry: noRetry });
    const acl = consulAclClient({ address: consul.url, env: {} });
    consul.setFault({ match: '/v1/acl/logout', status: 500, body: 'rpc error making call: leadership lost', times: 1 });
    const proc = new EventEmitter();
    const lines: string[] = [];
    const log = (o: unknown, m?: string) => lines.push(`${m ?? ''} ${JSON.stringify(o)}`);
    const before = consul.requests.length;
    const code = await new Promise<number>((resolve) => {
      logoutOnSigterm(
        [
          { name: 'other token', acl, token: other },
          { name: 'service token', acl, token: service },
          { name: 'client token', acl, token: client },
        ],
        {
          process: proc as unknown as Pick<NodeJS.Process, 'once' | 'removeListener'>,
          exit: resolve,
          logger: { debug: log, info: log, warn: log, error: log },
        },
      );
      proc.emit('SIGTERM', 'SIGTERM');
    });
    expect(code).toBe(1);
    const logouts = consul.requests.slice(before).filter((r) => r.path === '/v1/acl/logout');
    expect(logouts.map((r) => r.status)).toEqual([500, 200, 200]);
    expect(stored(other.secretId)).toBeDefined();
    expect(stored(service.secretId)).toBeUndefined();
    expect(stored(client.secretId)).toBeUndefined();
    expect(lines.join('\n')).toContain('leadership lost');
    expect(lines.join('\n')).not.toContain(other.secretId);
  });
});
