import { IdentityError } from '@ecs-identity/core';
import { ManualClock } from '@ecs-identity/testkit';
import { describe, expect, it } from 'vitest';
import { countingCredentials, drive, type MemoryAcl, memoryAcl } from '../test/memory-acl.js';
import { consulTokenProvider } from './index.js';
import type { TokenLogoutEvent } from './token-logouts.js';
import type { ConsulTokenProviderOptions } from './token-provider.js';

const task = {
  partition: 'aws',
  accountId: '123456789012',
  region: 'us-west-2',
  taskId: 'abc',
  clusterArn: 'arn:aws:ecs:us-west-2:123456789012:cluster/c',
};

function setup(options: Partial<ConsulTokenProviderOptions> = {}, configure: (acl: MemoryAcl) => void = () => {}) {
  const clock = new ManualClock(Date.parse('2026-02-03T04:05:06Z'));
  const acl = memoryAcl(clock);
  configure(acl);
  const events: TokenLogoutEvent[] = [];
  const provider = consulTokenProvider({
    acl,
    credentials: countingCredentials(),
    task,
    clock,
    replication: false,
    onLogout: (e) => events.push(e),
    random: () => 0,
    refresh: { background: false },
    ...options,
  });
  return { clock, acl, provider, events };
}

/** With one-hour tokens: lets the refresh come due, and returns the token that replaced the one in use. */
async function replaced(clock: ManualClock, provider: ReturnType<typeof setup>['provider']) {
  await clock.advance(3600_000 - 60_000);
  await drive(clock, provider.get()); // due: served while the new login runs
  await clock.advance(50);
  return drive(clock, provider.get());
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

  it('logs a replaced token out after the grace period, not before; close() ends the wait', async () => {
    const { clock, acl, provider, events } = setup({ logout: { supersededGraceMs: 10_000 } }, (a) => {
      a.ttlMs = 3600_000;
    });
    let replacedAt = 0;
    provider.subscribe(() => {
      replacedAt = clock.now();
    });
    const first = await drive(clock, provider.get());
    const second = await replaced(clock, provider);
    expect(second.accessorId).not.toBe(first.accessorId);
    await clock.advance(replacedAt + 10_000 - 100 - clock.now());
    expect(acl.logouts).toEqual([]); // readers of the old token still have time to switch
    await clock.advance(200);
    expect(acl.logouts).toEqual([first.secretId]);
    expect(events).toEqual([{ accessorId: first.accessorId, reason: 'superseded' }]);

    // Replaced again, then closed within the grace period: both go at once.
    const third = await replaced(clock, provider);
    expect(third.accessorId).not.toBe(second.accessorId);
    await provider.close();
    expect(acl.logouts.slice(1).sort()).toEqual([second.secretId, third.secretId].sort());
    const byId = (a: { accessorId: string }, b: { accessorId: string }) => a.accessorId.localeCompare(b.accessorId);
    expect(events.slice(1).sort(byId)).toEqual(
      [
        { accessorId: second.accessorId, reason: 'superseded' },
        { accessorId: third.accessorId, reason: 'close' },
      ].sort(byId),
    );
  });

  it('a login answered after its timeout is logged out when the answer arrives; the retry is kept', async () => {
    // The first login takes 3 s against a 1 s timeout; the retry is quick.
    const { clock, acl, provider, events } = setup({}, (a) => {
      a.timeoutMs = 1000;
      a.loginDelaysMs = [3000];
    });
    const token = await drive(clock, provider.get());
    expect(acl.logins).toHaveLength(2);
    expect(acl.logins[0]?.timeoutMs).toBe(1000 + 30_000); // the request itself listens on
    expect(token.accessorId).toBe('accessor-1'); // the retry's token (the late one is made after it)
    expect(acl.logouts).toEqual([]);
    await clock.advance(3000);
    expect(acl.logouts).toEqual(['secret-2-0123456789']);
    expect(events).toEqual([{ accessorId: 'accessor-2', reason: 'late-answer' }]);
    await provider.close();
    expect(acl.logouts).toEqual(['secret-2-0123456789', token.secretId]);
  });

  it('close() waits for the answer of a login it abandoned and logs that token out too', async () => {
    const { clock, acl, provider } = setup({}, (a) => {
      a.timeoutMs = 1000;
      a.loginDelaysMs = [800];
    });
    const pending = provider.get().catch((e: unknown) => e);
    await clock.advance(100);
    expect(acl.logins).toHaveLength(1);
    const closing = provider.close();
    expect(await pending).toMatchObject({ code: 'CLOSED' });
    await clock.advance(800);
    await closing;
    expect(acl.logouts).toEqual(['secret-1-0123456789']);
  });

  it('close() rejects with LOGOUT_FAILED when a replaced token cannot be logged out', async () => {
    const { clock, acl, provider, events } = setup({}, (a) => {
      a.ttlMs = 3600_000;
    });
    await drive(clock, provider.get());
    await replaced(clock, provider);
    acl.logoutError = new IdentityError('LOGOUT_FAILED', 'answered 500: boom', { status: 500 });
    await expect(provider.close()).rejects.toMatchObject({ code: 'LOGOUT_FAILED' });
    expect(events.map((e) => [e.reason, IdentityError.is(e.error, 'LOGOUT_FAILED')])).toEqual(
      expect.arrayContaining([
        ['superseded', true],
        ['close', true],
      ]),
    );
  });

  it('rejects a negative supersededGraceMs', () => {
    expect(() => consulTokenProvider({ acl: memoryAcl(), logout: { supersededGraceMs: -1 } })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('supersededGraceMs') }),
    );
  });
});
