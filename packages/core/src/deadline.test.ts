import { ManualClock } from '@ecs-identity/testkit';
import { describe, expect, it } from 'vitest';
import { rejection } from '../test/rejection.js';
import { withDeadline } from './deadline.js';

describe('withDeadline', () => {
  it('rejects with a retryable TIMEOUT when the bound passes, aborting the operation with that reason', async () => {
    const clock = new ManualClock(0);
    let seen: AbortSignal | undefined;
    // An operation that ignores its signal still cannot hold the caller past the bound.
    const p = rejection(
      withDeadline(
        (signal) => {
          seen = signal;
          return new Promise<never>(() => {});
        },
        { timeoutMs: 5000, what: 'Consul login', clock },
      ),
    );
    await clock.advance(4999);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    const e = await p;
    expect(e.code).toBe('TIMEOUT');
    expect(e.retryable).toBe(true);
    expect(e.message).toBe('Consul login did not finish within 5000 ms');
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(e);
  });

  it("passes the operation's own result or error through and clears its timer", async () => {
    const clock = new ManualClock(0);
    await expect(withDeadline(async () => 42, { timeoutMs: 10, what: 'x', clock })).resolves.toBe(42);
    const boom = new Error('boom');
    await expect(
      withDeadline(
        async () => {
          throw boom;
        },
        { timeoutMs: 10, what: 'x', clock },
      ),
    ).rejects.toBe(boom);
    expect(clock.pendingTimers).toBe(0);
  });

  it("rejects with ABORTED when the caller's signal fires first (or already has)", async () => {
    const clock = new ManualClock(0);
    const ac = new AbortController();
    const p = rejection(
      withDeadline(() => new Promise<never>(() => {}), { timeoutMs: 10, what: 'x', clock, signal: ac.signal }),
    );
    ac.abort();
    expect((await p).code).toBe('ABORTED');
    expect(clock.pendingTimers).toBe(0);
    const e = await rejection(withDeadline(async () => 1, { timeoutMs: 10, what: 'x', signal: AbortSignal.abort() }));
    expect(e.code).toBe('ABORTED');
  });

  it('refuses a bound that is not a positive number', async () => {
    for (const timeoutMs of [0, -1, Number.NaN]) {
      const e = await rejection(withDeadline(async () => 1, { timeoutMs, what: 'x' }));
      expect(e.code).toBe('INVALID_ARGUMENT');
    }
  });
});
