import { connect } from 'node:net';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { consulLogin } from '@ecs-identity/consul-login';
import { IdentityError } from '@ecs-identity/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type IssuedCredentials,
  startTaskEmulators,
  TASK_EMULATOR_DEFAULTS,
  type TaskEmulators,
} from '../src/index.js';

/** Whether something accepts TCP connections at `url`'s port on 127.0.0.1 (bounded: one attempt, 2 s). */
function listening(url: string): Promise<boolean> {
  const port = Number(new URL(url).port);
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(2000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Listening TCP servers of this process (each emulator is one). A closed server's handle goes away a turn of the
 * event loop after its close callback, so this waits two timer turns first.
 */
async function tcpServers(): Promise<number> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;
}

/** The task-role credentials, read from the agent the way an SDK would, with the environment's URI and token. */
async function agentCredentials(env: Readonly<Record<string, string>>) {
  const uri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  const token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  if (!uri || !token) throw new Error('no credentials variables in env');
  const res = await fetch(uri, { headers: { Authorization: token }, signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
  return { accessKeyId: body.AccessKeyId, secretAccessKey: body.SecretAccessKey, sessionToken: body.Token };
}

describe('startTaskEmulators (defaults)', () => {
  let world: TaskEmulators;
  const issued: IssuedCredentials[] = [];
  beforeAll(async () => {
    world = await startTaskEmulators({ consulReplicationLagMs: 0, onAgentCredentials: (c) => issued.push(c) });
  });
  afterAll(() => world.close());

  it('gives the task environment of the agent plus CONSUL_HTTP_ADDR, and the default names', () => {
    expect(world.env).toMatchObject({
      ECS_CONTAINER_METADATA_URI_V4: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v4\//),
      ECS_CONTAINER_METADATA_URI: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/v3\//),
      AWS_CONTAINER_CREDENTIALS_FULL_URI: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//),
      AWS_CONTAINER_AUTHORIZATION_TOKEN: expect.any(String),
      CONSUL_HTTP_ADDR: world.consul.url,
    });
    expect(world.names).toEqual(TASK_EMULATOR_DEFAULTS);
    expect(world.taskRole.arn).toBe('arn:aws:iam::123456789012:role/ecs/sports.api-service');
    expect(world.serviceRole.arn).toBe('arn:aws:iam::123456789012:role/ecs/sports.api');
    expect(world.athenzProvider).toBe('athenz.aws-ecs.us-west-2');
    expect(world.agent).toMatchObject({ region: 'us-west-2', accountId: '123456789012' });
    expect(world.agent.clusterArn).toBe('arn:aws:ecs:us-west-2:123456789012:cluster/demo');
  });

  it("the agent's credentials are the fake AWS's: GetCallerIdentity and AssumeRole of the service role verify", async () => {
    const credentials = await agentCredentials(world.env);
    expect(issued.map((c) => c.accessKeyId)).toContain(credentials.accessKeyId);
    const sts = new STSClient({ region: world.aws.region, endpoint: world.aws.url, credentials, maxAttempts: 1 });
    try {
      const me = await sts.send(new GetCallerIdentityCommand({}));
      expect(me.Arn).toMatch(/^arn:aws:sts::123456789012:assumed-role\/sports\.api-service\//);
      const assumed = await sts.send(
        new AssumeRoleCommand({ RoleArn: world.serviceRole.arn, RoleSessionName: world.agent.taskId }),
      );
      expect(assumed.AssumedRoleUser?.Arn).toBe(
        `arn:aws:sts::123456789012:assumed-role/sports.api/${world.agent.taskId}`,
      );
      // A key the fake AWS never issued is refused: the check above is not an accept-anything.
      const forged = new STSClient({
        region: world.aws.region,
        endpoint: world.aws.url,
        credentials: { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` },
        maxAttempts: 1,
      });
      await expect(forged.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
        name: 'SignatureDoesNotMatch',
      });
      forged.destroy();
    } finally {
      sts.destroy();
    }
  });

  it('Consul logs the task in through the aws-iam method and binds the service from the role tag', async () => {
    const token = await consulLogin({
      env: world.env,
      authMethod: world.names.consulAuthMethod,
      aws: { serverIdHeaderValue: world.names.consulServerId },
      retry: { maxAttempts: 1 },
    });
    const stored = world.consul.tokens().find((t) => t.secretId === token.secretId);
    expect(stored?.serviceIdentities).toEqual([{ ServiceName: 'api' }]);
  });
});

describe('startTaskEmulators (options, close, partial failure)', () => {
  it('applies the names, starts only what is asked, and close() closes every port', async () => {
    const before = await tcpServers();
    const world = await startTaskEmulators({
      consul: false,
      region: 'eu-west-1',
      accountId: '111122223333',
      clusterName: 'prod',
      launchType: 'EC2',
      rolePath: '/',
      athenzDomain: 'media',
      athenzRoles: ['readers', 'writers'],
      zts: { certLifetimeMinutes: 5 },
    });
    // Typed by the options: no Consul here, a ZTS there.
    const noConsul: undefined = world.consul;
    expect(noConsul).toBeUndefined();
    expect(world.env.CONSUL_HTTP_ADDR).toBeUndefined();
    expect(await tcpServers()).toBe(before + 3);
    expect(world.names).toMatchObject({ taskRoleName: 'media.api-service', athenzRoles: ['readers', 'writers'] });
    expect(world.taskRole.arn).toBe('arn:aws:iam::111122223333:role/media.api-service');
    expect(world.athenzProvider).toBe('athenz.aws-ecs.eu-west-1');
    expect(world.agent.clusterArn).toBe('arn:aws:ecs:eu-west-1:111122223333:cluster/prod');
    const task = (await (await fetch(`${world.env.ECS_CONTAINER_METADATA_URI_V4}/task`)).json()) as {
      LaunchType: string;
    };
    expect(task.LaunchType).toBe('EC2');
    const urls = [world.aws.url, world.agent.url, world.zts.url];
    for (const url of urls) expect(await listening(url)).toBe(true);
    await world.close();
    await world.close(); // idempotent
    for (const url of urls) expect(await listening(url)).toBe(false);
    expect(await tcpServers()).toBe(before);
  });

  it('a failure in one emulator start closes the ones already started, then throws', async () => {
    const before = await tcpServers();
    const bad = startTaskEmulators({ zts: { dnsSuffix: 'not a suffix!' } });
    await expect(bad).rejects.toSatisfy((e: unknown) => IdentityError.is(e) && e.message.includes('dnsSuffix'));
    expect(await tcpServers()).toBe(before);
    // The same with the failure in Consul, which starts beside a ZTS that succeeds.
    const badConsul = startTaskEmulators({
      consul: { authMethods: [{ name: 'x', config: { BoundIAMPrincipalARNs: [] } }] },
    });
    await expect(badConsul).rejects.toThrow();
    expect(await tcpServers()).toBe(before);
  });
});
