import { IdentityError } from '@ecs-identity/core';
import { ManualClock } from '@ecs-identity/testkit';
import { describe, expect, it } from 'vitest';
import { countingCredentials, drive, memoryAcl, taskRoleArn } from '../test/memory-acl.js';
import { decodeToken } from '../test/token-checks.js';
import { consulLogin } from './index.js';

const task = {
  partition: 'aws',
  accountId: '123456789012',
  region: 'eu-west-1',
  taskId: '158d1c8083dd49d6b527399fd6414f5c',
  clusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/prod',
};

function setup() {
  const clock = new ManualClock(Date.parse('2026-02-03T04:05:06Z'));
  const acl = memoryAcl(clock);
  const credentials = countingCredentials();
  return { clock, acl, credentials, base: { acl, credentials, task, clock, retry: { random: () => 0 } } };
}

describe('consulLogin', () => {
  it('logs in with the task meta (caller wins), the task region and entity details, then waits for replication', async () => {
    const { clock, acl, base } = setup();
    acl.lagReads = 3;
    const sunk: string[] = [];
    const token = await drive(
      clock,
      consulLogin({
        ...base,
        meta: { 'consul.hashicorp.com/cluster': 'override', team: 'payments' },
        aws: { serverIdHeaderValue: 'consul.prod' },
        sink: (t) => {
          sunk.push(t.secretId);
        },
      }),
    );
    expect(token.accessorId).toBe('accessor-1');
    expect(acl.logins).toHaveLength(1);
    const login = acl.logins[0];
    expect(login?.authMethod).toBe('iam-ecs-service-token');
    expect(login?.meta).toEqual({
      'consul.hashicorp.com/task-id': task.taskId,
      'consul.hashicorp.com/cluster': 'override',
      team: 'payments',
    });
    const t = decodeToken(login?.bearerToken ?? '');
    expect(t.url).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(t.entity?.body).toBe('Action=GetRole&RoleName=web-task&Version=2010-05-08');
    expect(t.headers['X-Consul-Iam-Serverid']).toEqual(['consul.prod']);
    expect(acl.selfReads).toBe(4);
    expect(sunk).toEqual(['secret-1-0123456789']);
    expect(taskRoleArn).toContain('web-task');
  });

  it('fails with CONSUL_NOT_REPLICATED after 20 stale reads 100 ms apart, logs the token out, writes no sink', async () => {
    const { clock, acl, base } = setup();
    acl.lagReads = 1000;
    const start = clock.now();
    let sunk = false;
    const error = await drive(
      clock,
      consulLogin({
        ...base,
        sink: () => {
          sunk = true;
        },
      }).catch((e: unknown) => e),
    );
    expect(IdentityError.is(error, 'CONSUL_NOT_REPLICATED')).toBe(true);
    expect((error as Error).message).toContain('after 20 tries 100 ms apart');
    expect(acl.selfReads).toBe(20);
    expect(clock.now() - start).toBeGreaterThanOrEqual(1900);
    expect(acl.logouts).toEqual(['secret-1-0123456789']);
    expect(sunk).toBe(false);
  });

  it('retries retryable failures with a new bearer token (and fresh credentials after ExpiredToken)', async () => {
    const { clock, acl, credentials, base } = setup();
    acl.loginErrors.push(
      new IdentityError('CONSUL_LOGIN_FAILED', 'answered 500: error calling sts: ExpiredToken', {
        status: 500,
        retryable: true,
      }),
      new IdentityError('NETWORK', 'connection reset', { retryable: true }),
    );
    const token = await drive(clock, consulLogin({ ...base, replication: false }));
    expect(token.accessorId).toBe('accessor-1');
    expect(acl.logins).toHaveLength(3);
    expect(credentials.gets).toBe(3);
    expect(credentials.forced).toBe(1);
    const keys = acl.logins.map((l) => decodeToken(l.bearerToken).headers['X-Amz-Security-Token']?.[0]);
    expect(new Set(keys).size).toBe(3);
  });

  it('does not retry a permission error, and says why', async () => {
    const { clock, acl, base } = setup();
    acl.loginErrors.push(
      new IdentityError('CONSUL_PERMISSION_DENIED', 'answered 403: Permission denied', { status: 403 }),
    );
    const error = await drive(
      clock,
      consulLogin(base).catch((e: unknown) => e),
    );
    expect(IdentityError.is(error, 'CONSUL_PERMISSION_DENIED')).toBe(true);
    expect(acl.logins).toHaveLength(1);
  });

  it('logs the token out again when the sink fails', async () => {
    const { clock, acl, base } = setup();
    const error = await drive(
      clock,
      consulLogin({
        ...base,
        sink: () => {
          throw new IdentityError('FILE_IO', 'disk full');
        },
      }).catch((e: unknown) => e),
    );
    expect(IdentityError.is(error, 'FILE_IO')).toBe(true);
    expect(acl.logouts).toEqual(['secret-1-0123456789']);
  });

  it('rejects incomplete task facts with INVALID_ARGUMENT before logging in', async () => {
    const { clock, acl, base } = setup();
    const error = await drive(
      clock,
      consulLogin({ ...base, task: { ...task, clusterArn: '' } }).catch((e: unknown) => e),
    );
    expect(IdentityError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain('task.clusterArn');
    expect(acl.logins).toHaveLength(0);
  });
});
