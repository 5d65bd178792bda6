import { ManualClock } from '@ecs-identity/testkit';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { IdentityError } from './errors.js';
import { parseRetryAfter, retry } from './retry.js';

const retryable = (retryAfterMs?: number) =>
  new IdentityError('HTTP_STATUS', 'POST http://127.0.0.1/x answered 503', {
    retryable: true,
    status: 503,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });

/** Runs `p` to completion by firing the manual clock's timers one by one (bounded). */
async function drive<T>(
  clock: ManualClock,
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let done = false;
  const settled = p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  void settled.then(() => {
    done = true;
  });
  for (let i = 0; i < 1000 && !done; i++) {
    if (!(await clock.runNext())) await clock.flush();
  }
  expect(done).toBe(true);
  return settled;
}

describe('retry', () => {
  it('returns the first success and passes the 1-based attempt number each time', async () => {
    const clock = new ManualClock();
    const attempts: number[] = [];
    const fn = async (attempt: number) => {
      attempts.push(attempt);
      if (attempt < 3) throw retryable();
      return `ok on ${attempt}`;
    };
    const r = await drive(clock, retry(fn, { clock, maxAttempts: 5 }));
    expect(r).toEqual({ ok: true, value: 'ok on 3' });
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('does not retry an error that is not marked retryable', async () => {
    const clock = new ManualClock();
    const fatal = new IdentityError('HTTP_STATUS', 'answered 403', { status: 403 });
    const plain = new Error('boom');
    for (const error of [fatal, plain]) {
      const fn = vi.fn(async () => {
        throw error;
      });
      const r = await drive(clock, retry(fn, { clock, maxAttempts: 5 }));
      expect(r).toEqual({ ok: false, error });
      expect(fn).toHaveBeenCalledTimes(1);
    }
  });

  it('uses a custom isRetryable', async () => {
    const clock = new ManualClock();
    const fn = vi.fn(async () => {
      throw new Error('flaky');
    });
    const r = await drive(
      clock,
      retry(fn, { clock, maxAttempts: 4, isRetryable: (e) => (e as Error).message === 'flaky' }),
    );
    expect(r.ok).toBe(false);
    expect(fn).toHaveBeenCalledTimes(4);
  });

  it('throws the last error as-is when attempts run out, after maxAttempts calls', async () => {
    const clock = new ManualClock();
    const errors = [retryable(), retryable(), retryable()];
    let i = 0;
    const r = await drive(
      clock,
      retry(
        async () => {
          throw errors[i++];
        },
        { clock, maxAttempts: 3 },
      ),
    );
    expect(r).toEqual({ ok: false, error: errors[2] });
    expect(i).toBe(3);
  });

  it('waits at least Retry-After even when the backoff cap is smaller, and reports each retry', async () => {
    const clock = new ManualClock(0);
    const starts: number[] = [];
    const onRetry = vi.fn();
    const r = await drive(
      clock,
      retry(
        async (attempt) => {
          starts.push(clock.now());
          if (attempt === 1) throw retryable(7000);
          return 'ok';
        },
        { clock, baseDelayMs: 100, maxDelayMs: 200, random: () => 0.5, onRetry },
      ),
    );
    expect(r.ok).toBe(true);
    expect(starts).toEqual([0, 7000]);
    expect(onRetry).toHaveBeenCalledWith({ error: expect.any(IdentityError), attempt: 1, delayMs: 7000 });
  });

  it('full jitter: each delay is random() times the doubling cap, from 0 up to the cap', async () => {
    for (const r of [0, 0.25, 0.999]) {
      const clock = new ManualClock(0);
      const delays: number[] = [];
      const result = await drive(
        clock,
        retry(
          async (attempt) => {
            if (attempt < 5) throw retryable();
            return 'ok';
          },
          {
            clock,
            maxAttempts: 5,
            baseDelayMs: 100,
            maxDelayMs: 500,
            random: () => r,
            onRetry: ({ delayMs }) => delays.push(delayMs),
          },
        ),
      );
      expect(result.ok).toBe(true);
      // caps 100, 200, 400, then 500 (maxDelayMs)
      expect(delays).toEqual([100 * r, 200 * r, 400 * r, 500 * r]);
    }
  });

  it('throws at once rather than sleep past the deadline', async () => {
    const clock = new ManualClock(0);
    const fn = vi.fn(async () => {
      throw retryable(5000);
    });
    const r = await drive(clock, retry(fn, { clock, maxAttempts: 10, deadlineMs: 12_000 }));
    expect(r.ok).toBe(false);
    // attempts at 0, 5000, 10000; a fourth would start at 15000 > deadline
    expect(fn).toHaveBeenCalledTimes(3);
    expect(clock.now()).toBe(10_000);
  });

  it('cuts a Retry-After longer than maxRetryAfterMs (default one minute) to it', async () => {
    for (const [options, expected] of [
      [{}, 60_000],
      [{ maxRetryAfterMs: 2000 }, 2000],
    ] as const) {
      const clock = new ManualClock(0);
      const delays: number[] = [];
      const fn = async (attempt: number) => {
        if (attempt === 1) throw retryable(3_600_000); // Retry-After: 3600
        return 'ok';
      };
      const r = await drive(
        clock,
        retry(fn, { clock, random: () => 0, onRetry: ({ delayMs }) => delays.push(delayMs), ...options }),
      );
      expect(r).toEqual({ ok: true, value: 'ok' });
      expect(delays).toEqual([expected]);
      expect(clock.now()).toBe(expected);
    }
  });

  it('gives up at once when even the capped Retry-After would end past the deadline', async () => {
    const clock = new ManualClock(0);
    const fn = vi.fn(async () => {
      throw retryable(3_600_000);
    });
    const r = await drive(clock, retry(fn, { clock, maxAttempts: 5, deadlineMs: 10_000 }));
    expect(r.ok).toBe(false);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.now()).toBe(0);
  });

  it('stops a backoff sleep with ABORTED when the signal fires', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const fn = vi.fn(async () => {
      throw retryable(30_000);
    });
    const p = retry(fn, { clock, signal: ac.signal, maxAttempts: 5 });
    await clock.flush();
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(1);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fn).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not call fn when the signal is already aborted, and passes the signal to fn', async () => {
    const fn = vi.fn(async () => 'x');
    await expect(retry(fn, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(fn).not.toHaveBeenCalled();
    const ac = new AbortController();
    await retry(fn, { signal: ac.signal });
    expect(fn).toHaveBeenCalledWith(1, ac.signal);
  });

  it('reports ABORTED when fn fails because the signal fired mid-attempt', async () => {
    const ac = new AbortController();
    const p = retry(
      async () => {
        ac.abort();
        throw retryable();
      },
      { signal: ac.signal, maxAttempts: 5 },
    );
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('rejects bad options with INVALID_ARGUMENT naming the option', async () => {
    const fn = async () => 1;
    await expect(retry(fn, { maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
    await expect(retry(fn, { maxAttempts: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(retry(fn, { baseDelayMs: -1 })).rejects.toThrow(/baseDelayMs/);
    await expect(retry(fn, { deadlineMs: Number.NaN })).rejects.toThrow(/deadlineMs/);
    await expect(retry(fn, { maxRetryAfterMs: -1 })).rejects.toThrow(/maxRetryAfterMs/);
  });

  it('property: delays stay within [retryAfter, max(retryAfter, cap)], attempts within maxAttempts, none past the deadline', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          maxAttempts: fc.integer({ min: 1, max: 8 }),
          baseDelayMs: fc.integer({ min: 0, max: 2000 }),
          maxDelayMs: fc.integer({ min: 0, max: 10_000 }),
          deadlineMs: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
          retryAfter: fc.array(fc.option(fc.integer({ min: 0, max: 8000 }), { nil: undefined }), {
            minLength: 8,
            maxLength: 8,
          }),
          randoms: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
            minLength: 8,
            maxLength: 8,
          }),
          succeedOn: fc.integer({ min: 1, max: 10 }),
        }),
        async (c) => {
          const start = 1_700_000_000_000;
          const clock = new ManualClock(start);
          const starts: number[] = [];
          const delays: { attempt: number; delayMs: number }[] = [];
          let r = 0;
          const p = retry(
            async (attempt) => {
              starts.push(clock.now());
              if (attempt >= c.succeedOn) return attempt;
              throw retryable(c.retryAfter[attempt - 1]);
            },
            {
              clock,
              maxAttempts: c.maxAttempts,
              baseDelayMs: c.baseDelayMs,
              maxDelayMs: c.maxDelayMs,
              deadlineMs: c.deadlineMs,
              random: () => c.randoms[r++ % c.randoms.length] as number,
              onRetry: ({ attempt, delayMs }) => delays.push({ attempt, delayMs }),
            },
          );
          const result = await drive(clock, p);
          expect(starts.length).toBeLessThanOrEqual(c.maxAttempts);
          expect(result.ok).toBe(starts.length >= c.succeedOn);
          expect(delays.length).toBe(starts.length - 1);
          for (const { attempt, delayMs } of delays) {
            const ra = c.retryAfter[attempt - 1] ?? 0;
            const cap = Math.min(c.maxDelayMs, c.baseDelayMs * 2 ** (attempt - 1));
            expect(delayMs).toBeGreaterThanOrEqual(ra);
            expect(delayMs).toBeLessThanOrEqual(Math.max(ra, cap));
            // (float addition on epoch-sized numbers loses sub-microsecond delays, hence the tolerance)
            expect((starts[attempt] as number) - (starts[attempt - 1] as number)).toBeCloseTo(delayMs, 3);
          }
          if (c.deadlineMs !== undefined) {
            for (const t of starts.slice(1)) expect(t).toBeLessThan(start + c.deadlineMs);
            // and no sleep ran past it
            expect(clock.now()).toBeLessThan(start + Math.max(c.deadlineMs, 1));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-25T08:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 7 ', now)).toBe(7000);
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBe(0);
  });

  it('reads HTTP dates in all three forms, relative to now', () => {
    expect(parseRetryAfter('Wed, 25 Nov 2026 08:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 25-Nov-26 08:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Wed Nov 25 08:00:05 2026', now)).toBe(5000);
  });

  it('gives 0 for a date in the past', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(0);
  });

  it('gives undefined for absent or garbage values', () => {
    for (const v of [undefined, null, '', '   ', 'soon', '1.5', '12abc', 'Not a date at all', '1e3']) {
      expect(parseRetryAfter(v, now)).toBeUndefined();
    }
  });
});
