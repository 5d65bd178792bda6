// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Consul bind-name templates are literal ${...} strings
import { EventEmitter } from 'node:events';
import { consulLogin, consulTokenProvider } from '@ecs-identity/consul-login';
import { logoutOnSigterm } from '@ecs-identity/consul-login/node';
import { IdentityError } from '@ecs-identity/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AwsEmulator,
  type ConsulEmulator,
  type EcsAgent,
  type FakeRole,
  startAws,
  startConsul,
  startEcsAgent,
} from '../src/index.js';

// End to end on the testkit: fake ECS agent (task metadata + task-role credentials issued by the fake AWS) →
// @ecs-identity/consul-login → fake Consul → fake AWS. Real clocks: the client signs with the current time.

const TAG = 'consul.hashicorp.com.service-name';
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const SERVER_ID = 'consul.dc1.example';

let aws: AwsEmulator;
let consul: ConsulEmulator;
let agent: EcsAgent;
let role: FakeRole;
let env: Record<string, string>;
const noRetry = { maxAttempts: 1 };

beforeAll(async () => {
  aws = await startAws({ region: REGION, accountId: ACCOUNT });
  role = aws.addRole({ name: 'web', path: '/ecs/services/', tags: { [TAG]: 'web-svc' } });
  agent = await startEcsAgent({
    region: REGION,
    accountId: ACCOUNT,
    clusterName: 'prod',
    taskRoleArn: role.arn,
    credentials: async (arn) => aws.issueRoleCredentials(arn),
  });
  consul = await startConsul({
    aws,
    authMethods: [
      {
        name: 'iam-ecs-service-token',
        config: {
          BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/services/*`],
          EnableIAMEntityDetails: true,
          IAMEntityTags: [TAG],
        },
      },
      { name: 'no-entity', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/web`] } },
      {
        name: 'server-id',
        config: {
          BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/ecs/services/web`],
          EnableIAMEntityDetails: true,
          IAMEntityTags: [TAG],
          ServerIDHeaderValue: SERVER_ID,
        },
      },
      { name: 'untrusting', config: { BoundIAMPrincipalARNs: [`arn:aws:iam::${ACCOUNT}:role/someone-else`] } },
    ],
    bindingRules: [
      { authMethod: 'iam-ecs-service-token', bindType: 'service', bindName: `\${entity_tags.${TAG}}` },
      { authMethod: 'no-entity', bindType: 'service', bindName: '${entity_name}' },
      { authMethod: 'server-id', bindType: 'service', bindName: `\${entity_tags.${TAG}}` },
    ],
  });
  env = { ...agent.env, CONSUL_HTTP_ADDR: consul.url };
});
afterAll(async () => {
  await consul.close();
  await agent.close();
  await aws.close();
});
beforeEach(() => consul.setReplicationLag(0));

const tokenBySecret = (secret: string) => consul.tokens().find((t) => t.secretId === secret);

describe('consul-login against the testkit (ECS agent + AWS + Consul)', () => {
  it('logs in with entity details: role with a path, service from the role tag, task meta', async () => {
    const token = await consulLogin({ env, retry: noRetry });
    const stored = tokenBySecret(token.secretId);
    expect(stored).toMatchObject({
      authMethod: 'iam-ecs-service-token',
      serviceIdentities: [{ ServiceName: 'web-svc' }],
    });
    expect(stored?.description).toBe(
      `token created via login: {"consul.hashicorp.com/cluster":"${agent.clusterArn}","consul.hashicorp.com/task-id":"${agent.taskId}"}`,
    );
    const login = consul.requests.filter((r) => r.path === '/v1/acl/login').at(-1);
    expect(login).toMatchObject({ status: 200, principalArn: role.arn });
    // The client used the regional STS endpoint and the global IAM one; Consul forwarded both with those hosts.
    expect(aws.requests.slice(-2).map((r) => r.host)).toEqual([`sts.${REGION}.amazonaws.com`, 'iam.amazonaws.com']);
  });

  it('logs in without entity details', async () => {
    const token = await consulLogin({ env, authMethod: 'no-entity', aws: { includeEntity: false }, retry: noRetry });
    expect(tokenBySecret(token.secretId)?.serviceIdentities).toEqual([{ ServiceName: 'web' }]);
    expect(aws.requests.at(-1)?.action).toBe('GetCallerIdentity');
  });

  it('logs in with a server ID signed into both requests, and is refused with a wrong one', async () => {
    const token = await consulLogin({
      env,
      authMethod: 'server-id',
      aws: { serverIdHeaderValue: SERVER_ID },
      retry: noRetry,
    });
    expect(tokenBySecret(token.secretId)?.authMethod).toBe('server-id');
    const wrong = consulLogin({ env, authMethod: 'server-id', aws: { serverIdHeaderValue: 'other' }, retry: noRetry });
    await expect(wrong).rejects.toSatisfy(
      (e: unknown) => IdentityError.is(e) && e.message.includes(`expected "${SERVER_ID}" but got "other"`),
    );
  });

  it('waits for replication: stale self-reads answer ACL not found until the lag has passed', async () => {
    consul.setReplicationLag(250);
    const before = consul.requests.length;
    const token = await consulLogin({ env, retry: noRetry });
    const reads = consul.requests.slice(before).filter((r) => r.path === '/v1/acl/token/self');
    expect(reads.length).toBeGreaterThanOrEqual(2);
    expect(reads[0]).toMatchObject({ status: 403, error: 'ACL not found' });
    expect(reads.at(-1)).toMatchObject({ status: 200, accessorId: token.accessorId });
  });

  it('maps the server refusals to typed codes', async () => {
    await expect(
      consulLogin({ env, authMethod: 'untrusting', aws: { includeEntity: false }, retry: noRetry }),
    ).rejects.toMatchObject({
      code: 'CONSUL_PRINCIPAL_NOT_TRUSTED',
    });
    await expect(consulLogin({ env, authMethod: 'missing', retry: noRetry })).rejects.toMatchObject({
      code: 'CONSUL_AUTH_METHOD_NOT_FOUND',
    });
  });

  it('token provider: logs in once, logs in again when told the token is gone, logs out on close', async () => {
    const provider = consulTokenProvider({ env, retry: { initial: noRetry } });
    const first = await provider.get();
    expect(await provider.get()).toBe(first);
    provider.invalidate(first);
    const second = await provider.get();
    expect(second.secretId).not.toBe(first.secretId);
    await provider.close();
    expect(tokenBySecret(second.secretId)).toBeUndefined();
    const logouts = consul.requests.filter((r) => r.path === '/v1/acl/logout');
    expect(logouts.at(-1)).toMatchObject({ status: 200, accessorId: second.accessorId });
  });

  it('SIGTERM logs out the service token, then the client token, and exits 0', async () => {
    const service = consulTokenProvider({ env, retry: { initial: noRetry } });
    const serviceToken = await service.get();
    const client = consulTokenProvider({
      env,
      authMethod: 'no-entity',
      aws: { includeEntity: false },
      retry: { initial: noRetry },
    });
    const clientToken = await client.get();
    const proc = new EventEmitter();
    const codes: number[] = [];
    const exited = new Promise<void>((resolve) => {
      logoutOnSigterm(
        [
          { name: 'service', provider: service },
          { name: 'client', provider: client },
        ],
        {
          process: proc as unknown as Pick<NodeJS.Process, 'once' | 'removeListener'>,
          exit: (code) => {
            codes.push(code);
            resolve();
          },
          logger: { debug() {}, info() {}, warn() {}, error() {} },
        },
      );
    });
    const before = consul.requests.length;
    proc.emit('SIGTERM', 'SIGTERM');
    await exited;
    expect(codes).toEqual([0]);
    const order = consul.requests
      .slice(before)
      .filter((r) => r.path === '/v1/acl/logout')
      .map((r) => [r.accessorId, r.status]);
    expect(order).toEqual([
      [serviceToken.accessorId, 200],
      [clientToken.accessorId, 200],
    ]);
    expect(tokenBySecret(serviceToken.secretId)).toBeUndefined();
    expect(tokenBySecret(clientToken.secretId)).toBeUndefined();
  });
});
