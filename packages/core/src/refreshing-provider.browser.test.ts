import { expect, it } from 'vitest';
import { ManualClock } from '../../testkit/src/time/manual-clock.js';
import { IdentityError } from './errors.js';
import { refreshingProvider } from './refreshing-provider.js';
import { retry } from './retry.js';

// The mechanisms are part of the browser-safe entry: prove they run in Chromium, where timers are numbers
// (no unref) and the manual clock flushes through setTimeout(0) instead of setImmediate.
it('refreshes, retries and closes in a real browser', async () => {
  expect(typeof window).toBe('object');
  const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  let n = 0;
  const provider = refreshingProvider({
    name: 'browser token',
    clock,
    random: () => 0,
    fetch: async () => ({ n: ++n, expiresAt: new Date(clock.now() + 60_000) }),
  });
  const seen: number[] = [];
  provider.subscribe((c) => seen.push(c.n));
  expect((await provider.get()).n).toBe(1);
  await clock.advance(48_000);
  expect((await provider.get()).n).toBe(2);
  expect(seen).toEqual([1, 2]);
  await provider.close();
  await expect(provider.get()).rejects.toSatisfy((e: unknown) => IdentityError.is(e, 'CLOSED'));

  let attempts = 0;
  const value = await retry(
    async (attempt) => {
      attempts = attempt;
      if (attempt < 3) throw new IdentityError('NETWORK', 'reset', { retryable: true });
      return 'ok';
    },
    { baseDelayMs: 1, maxDelayMs: 2 },
  );
  expect([value, attempts]).toEqual(['ok', 3]);
});
