/**
 * How a user tests their own code with @ecs-identity/testkit: start the emulated task (ECS agent, AWS, Consul, ZTS on
 * 127.0.0.1), hand the app the environment ECS would give it, and look at the fakes' state. The fakes apply the real
 * servers' checks (SigV4 re-verified, Consul's aws-iam rules), so a passing test means the real servers would accept
 * what the app sends.
 */
import { startTaskEmulators, type TaskEmulators } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsulSession } from './consul-session.js';

let world: TaskEmulators;
beforeAll(async () => {
  world = await startTaskEmulators({ consulReplicationLagMs: 50 });
});
afterAll(() => world.close());

describe('openConsulSession', () => {
  it('logs in with the task role, is bound to its service, and logs out on close', async () => {
    const session = await openConsulSession({ env: world.env, serverId: world.names.consulServerId });
    expect(session.service).toBe(world.names.consulService);
    const live = world.consul.liveTokens();
    expect(live.map((t) => t.secretId)).toEqual([session.headers['X-Consul-Token']]);
    expect(live[0]?.authMethod).toBe(world.names.consulAuthMethod);

    await session.close();
    expect(world.consul.liveTokens()).toEqual([]);
  });

  it('rides out a Consul error at login (the retry builds a new signed token)', async () => {
    world.consul.setFault({ match: '/v1/acl/login', status: 500, times: 1 });
    const session = await openConsulSession({ env: world.env, serverId: world.names.consulServerId });
    const logins = world.consul.requests.filter((r) => r.path === '/v1/acl/login').slice(-2);
    expect(logins.map((r) => r.status)).toEqual([500, 200]);
    await session.close();
  });

  it('fails with a clear error when the auth method does not accept the task (wrong server ID)', async () => {
    await expect(openConsulSession({ env: world.env, serverId: 'another.consul' })).rejects.toMatchObject({
      name: 'IdentityError',
      code: 'CONSUL_LOGIN_FAILED',
      message: expect.stringContaining(`expected "${world.names.consulServerId}" but got "another.consul"`),
    });
    expect(world.consul.liveTokens()).toEqual([]);
  });
});
