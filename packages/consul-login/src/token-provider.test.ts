import { IdentityError, ManualClock } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { countingCredentials, drive, memoryAcl } from '../test/memory-acl.js';
import { consulTokenProvider } from './token-provider.js';

const task = { region: 'us-west-2', taskId: 'abc', clusterArn: 'arn:aws:ecs:us-west-2:123456789012:cluster/c' };

function setup() {
  const clock = new ManualClock(Date.parse('2026-02-03T04:05:06Z'));
  const acl = memoryAcl(clock);
  const provider = consulTokenProvider({
    acl,
    credentials: countingCredentials(),
    task,
    clock,
    replication: false,
    random: () => 0,
    refresh: { background: false },
  });
  return { clock, acl, provider };
}

describe('consulTokenProvider', () => {
  it('logs in once for concurrent gets and logs out on close', async () => {
    const { clock, acl, provider } = setup();
    const [a, b] = await drive(clock, Promise.all([provider.get(), provider.get()]));
    expect(a).toBe(b);
    expect(acl.logins).toHaveLength(1);
    await provider.close();
    expect(acl.logouts).toEqual([a.secretId]);
    await expect(provider.get()).rejects.toMatchObject({ code: 'CLOSED' });
    await provider.close();
    expect(acl.logouts).toHaveLength(1);
  });

  it('logs in again after invalidate() (the old token is gone, not logged out)', async () => {
    const { clock, acl, provider } = setup();
    const first = await drive(clock, provider.get());
    provider.invalidate(first);
    expect(provider.peek()).toBeUndefined();
    const second = await drive(clock, provider.get());
    expect(second.accessorId).not.toBe(first.accessorId);
    expect(acl.logins).toHaveLength(2);
    // A report about an older token does not throw away the current one.
    provider.invalidate(first);
    expect(await drive(clock, provider.get())).toBe(second);
    await provider.close();
    expect(acl.logouts).toEqual([second.secretId]);
  });

  it('logs in again before an expiring token lapses', async () => {
    const { clock, acl, provider } = setup();
    acl.ttlMs = 3600_000;
    const t0 = clock.now();
    const first = await drive(clock, provider.get());
    // Issued somewhere in the first drive step.
    expect(first.expiresAt?.getTime()).toBeGreaterThanOrEqual(t0 + 3600_000);
    expect(first.expiresAt?.getTime()).toBeLessThanOrEqual(clock.now() + 3600_000);
    await clock.advance(3600_000 - 60_000);
    // Refresh is due but the token is still valid: it is served while the new login runs behind it.
    expect(await drive(clock, provider.get())).toBe(first);
    await clock.advance(50);
    const second = await drive(clock, provider.get());
    expect(second.accessorId).not.toBe(first.accessorId);
    expect(acl.logins).toHaveLength(2);
    await provider.close();
  });

  it('treats an already-gone token as logged out on close, but reports other logout failures', async () => {
    const gone = setup();
    await drive(gone.clock, gone.provider.get());
    gone.acl.logoutError = new IdentityError('CONSUL_TOKEN_NOT_FOUND', 'ACL not found', { status: 403 });
    await expect(gone.provider.close()).resolves.toBeUndefined();

    const broken = setup();
    await drive(broken.clock, broken.provider.get());
    broken.acl.logoutError = new IdentityError('LOGOUT_FAILED', 'answered 500: boom', { status: 500 });
    await expect(broken.provider.close()).rejects.toMatchObject({ code: 'LOGOUT_FAILED' });
  });
  it('close() during a login (waiting for replication) leaves no token behind', async () => {
    const clock = new ManualClock(Date.parse('2026-02-03T04:05:06Z'));
    const acl = memoryAcl(clock);
    acl.lagReads = 1000;
    const provider = consulTokenProvider({ acl, credentials: countingCredentials(), task, clock });
    const pending = provider.get().catch((e: unknown) => e);
    await clock.advance(250);
    expect(acl.logins).toHaveLength(1);
    await provider.close();
    expect(await pending).toMatchObject({ code: 'CLOSED' });
    await clock.advance(100);
    expect(acl.logouts).toEqual(['secret-1-0123456789']);
  });
});
