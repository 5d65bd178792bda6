import { IdentityError } from '@ecs-identity/core';
import { ManualClock } from '@ecs-identity/testkit';
import { describe, expect, it } from 'vitest';
import { drive, memoryAcl } from '../test/memory-acl.js';
import { parseConsulToken } from './consul-token.js';
import { waitForReplication } from './replication.js';

const token = parseConsulToken({ AccessorID: 'acc-1', SecretID: 'secret-0123456789' });

describe('waitForReplication', () => {
  it('reads until the token is found, intervalMs apart', async () => {
    const clock = new ManualClock(0);
    const acl = memoryAcl(clock);
    acl.lagReads = 2;
    await drive(clock, waitForReplication(acl, token, { clock, intervalMs: 100 }), 10);
    expect(acl.selfReads).toBe(3);
    expect(clock.now()).toBeGreaterThanOrEqual(200);
    expect(clock.now()).toBeLessThan(300);
  });

  it('gives up within timeoutMs in all, even when a self-read never answers', async () => {
    const clock = new ManualClock(0);
    const acl = memoryAcl(clock);
    let aborted = false;
    // A read that hangs (the server accepted and went quiet) until its signal fires.
    acl.readSelf = (_t, opts) =>
      new Promise((_resolve, reject) => {
        opts?.signal?.addEventListener('abort', () => {
          aborted = true;
          reject(new IdentityError('ABORTED', 'aborted'));
        });
      });
    const p = waitForReplication(acl, token, { clock, timeoutMs: 2500 }).catch((e: unknown) => e);
    await clock.advance(2499);
    expect(aborted).toBe(false);
    await clock.advance(1);
    const e = await p;
    expect(IdentityError.is(e, 'CONSUL_NOT_REPLICATED')).toBe(true);
    expect((e as Error).message).toMatch(/within 2500 ms/);
    expect(aborted).toBe(true);
  });

  it('takes a SecretID alone, resolves with the token read back, and names it by its description', async () => {
    const clock = new ManualClock(0);
    const acl = memoryAcl(clock);
    acl.lagReads = 1;
    const self = await drive(clock, waitForReplication(acl, 'secret-from-a-file-42', { clock }), 10);
    expect(self).toMatchObject({ accessorId: 'x' });
    expect(acl.selfReads).toBe(2);
    acl.lagReads = 5;
    const error = await drive(
      clock,
      waitForReplication(acl, 'secret-from-a-file-42', { clock, attempts: 2, description: 'the token in /t' }),
      10,
    ).catch((e: unknown) => e);
    expect(IdentityError.is(error, 'CONSUL_NOT_REPLICATED')).toBe(true);
    expect((error as Error).message).toMatch(/^the token in \/t was not readable with \?stale after 2 tries/);
    expect((error as Error).message).not.toContain('secret-from-a-file-42');
  });

  it('throws a non-waitable error at once', async () => {
    const clock = new ManualClock(0);
    const acl = memoryAcl(clock);
    acl.readSelf = async () => {
      throw new IdentityError('CONSUL_ACL_DISABLED', 'ACL support disabled', { status: 401 });
    };
    await expect(drive(clock, waitForReplication(acl, token, { clock }))).rejects.toMatchObject({
      code: 'CONSUL_ACL_DISABLED',
    });
  });

  it('rejects nonsense counts, and never names the secret', async () => {
    const acl = memoryAcl();
    await expect(waitForReplication(acl, token, { attempts: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(waitForReplication(acl, token, { intervalMs: -1 })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(waitForReplication(acl, token, { timeoutMs: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    acl.lagReads = 5;
    const error = await waitForReplication(acl, token, { attempts: 2, intervalMs: 0 }).catch((e: unknown) => e);
    expect(IdentityError.is(error, 'CONSUL_NOT_REPLICATED')).toBe(true);
    expect((error as Error).message).toContain('acc-1');
    expect((error as Error).message).not.toContain('secret-0123456789');
  });
});

describe('parseConsulToken', () => {
  it('treats Go zero times as absent and rejects malformed ones', () => {
    const t = parseConsulToken({ AccessorID: 'a', SecretID: 's', ExpirationTime: '0001-01-01T00:00:00Z' });
    expect(t.expiresAt).toBeUndefined();
    expect(() => parseConsulToken({ AccessorID: 'a', SecretID: 's', ExpirationTime: 'soon' })).toThrow(
      /ExpirationTime "soon" is not a timestamp/,
    );
    expect(() => parseConsulToken([])).toThrow(IdentityError);
  });
});
