import { ManualClock, seededRandom } from '@ecs-identity/testkit';
import { describe, expect, it } from 'vitest';
import { mergeRefreshPolicy, refreshBackoff, refreshTime, resolveRefresh, resolveRetry } from './refresh-policy.js';
import { refreshingProvider } from './refreshing-provider.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

// The Athenz identity's settings: at the latest a day after issue, never after half the life, spread over half.
const daily = resolveRefresh({ intervalMs: DAY, latestFraction: 0.5, beforeExpiryMs: 0, spread: 0.5 });

describe('refreshTime', () => {
  it('finds the latest point: the earliest of the interval, the lifetime share and the window before expiry', () => {
    const at = (refresh: Parameters<typeof resolveRefresh>[0], lifetime: number) =>
      refreshTime(0, lifetime, resolveRefresh({ ...refresh, spread: 0 }), false, () => 0.5).latestMs;
    expect(at({ intervalMs: DAY, latestFraction: 0.5, beforeExpiryMs: 0 }, 7 * DAY)).toBe(DAY);
    expect(at({ intervalMs: DAY, latestFraction: 0.5, beforeExpiryMs: 0 }, 4 * HOUR)).toBe(2 * HOUR);
    // 5 minutes before expiry (the default window) comes before 0.8 of an hour-long life? No: 48 min < 55 min.
    expect(at({}, HOUR)).toBe(48 * MIN);
    expect(at({ beforeExpiryMs: 20 * MIN }, HOUR)).toBe(40 * MIN);
    // the window is capped at half the life: a 60 s credential is not refreshed the moment it arrives
    expect(at({}, 60_000)).toBe(30_000);
  });

  it('spreads a later refresh uniformly over the last `spread` share of the interval: 12 to 24 h for a daily refresh', () => {
    const random = seededRandom(1);
    const times: number[] = [];
    for (let i = 0; i < 20_000; i++) times.push(refreshTime(0, 7 * DAY, daily, false, random).atMs);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(12 * HOUR);
    expect(Math.max(...times)).toBeLessThanOrEqual(DAY);
    // uniform: each of the 12 hours gets about a twelfth (the old rule put all of them in the last 10 minutes)
    const perHour = new Array<number>(12).fill(0);
    for (const t of times) {
      const h = Math.min(11, Math.floor(t / HOUR) - 12);
      perHour[h] = (perHour[h] ?? 0) + 1;
    }
    for (const n of perHour) expect(Math.abs(n - 20_000 / 12)).toBeLessThan(200);
    // the bounds themselves: random 0 is the latest point, random 1 the earliest
    expect(refreshTime(0, 7 * DAY, daily, false, () => 0).atMs).toBe(DAY);
    expect(refreshTime(0, 7 * DAY, daily, false, () => 1).atMs).toBe(12 * HOUR);
  });

  it('draws the first refresh from the equilibrium law: flat over the first half, falling to 0 at the latest point', () => {
    const random = seededRandom(2);
    const n = 60_000;
    const perHour = new Array<number>(24).fill(0);
    const times: number[] = [];
    for (let i = 0; i < n; i++) times.push(refreshTime(0, 7 * DAY, daily, true, random).atMs);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...times)).toBeLessThanOrEqual(DAY);
    for (const t of times) {
      const h = Math.min(23, Math.floor(t / HOUR));
      perHour[h] = (perHour[h] ?? 0) + 1;
    }
    // density 1/18 h over [0, 12 h], then (24 h - t) / (12 h · 18 h)
    for (let h = 0; h < 24; h++) {
      const mid = h + 0.5;
      const expected = n * (h < 12 ? 1 / 18 : (24 - mid) / (12 * 18));
      expect(Math.abs((perHour[h] as number) - expected)).toBeLessThan(5 * Math.sqrt(expected) + 10);
    }
    expect(refreshTime(0, 7 * DAY, daily, true, () => 0).atMs).toBe(DAY);
    expect(refreshTime(0, 7 * DAY, daily, true, () => 1).atMs).toBe(0);
    expect(refreshTime(0, 7 * DAY, daily, true, () => 0.5).atMs).toBe(9 * HOUR);
  });

  it('does not spread with spread 0, and never refreshes a credential without expiry', () => {
    const exact = resolveRefresh({ ...daily, spread: 0 });
    expect(refreshTime(5, 5 + 7 * DAY, exact, true, () => 0.7)).toEqual({ latestMs: 5 + DAY, atMs: 5 + DAY });
    expect(refreshTime(0, Number.POSITIVE_INFINITY, daily, true, () => 0.7).atMs).toBe(Number.POSITIVE_INFINITY);
    expect(refreshTime(1000, 1000, daily, true, () => 0.7).atMs).toBe(1000);
  });
});

describe('refreshBackoff', () => {
  const ztsRetry = resolveRetry({ baseDelayMs: 6 * HOUR, maxDelayMs: DAY, remainingFraction: 0.25, minDelayMs: 1000 });

  it('is uniform in [minDelayMs, cap]: the cap doubles per failure up to maxDelayMs', () => {
    const left = 6 * DAY;
    expect(refreshBackoff(1, left, ztsRetry, () => 0)).toBe(1000);
    expect(refreshBackoff(1, left, ztsRetry, () => 1)).toBe(6 * HOUR);
    expect(refreshBackoff(2, left, ztsRetry, () => 1)).toBe(12 * HOUR);
    expect(refreshBackoff(3, left, ztsRetry, () => 1)).toBe(DAY);
    expect(refreshBackoff(30, left, ztsRetry, () => 1)).toBe(DAY);
    expect(refreshBackoff(1, left, ztsRetry, () => 0.5)).toBe(1000 + 0.5 * (6 * HOUR - 1000));
  });

  it('tightens as expiry nears: never more than remainingFraction of the validity left, never under minDelayMs', () => {
    expect(refreshBackoff(5, 2 * DAY, ztsRetry, () => 1)).toBe(12 * HOUR);
    expect(refreshBackoff(5, HOUR, ztsRetry, () => 1)).toBe(15 * MIN);
    expect(refreshBackoff(5, 2000, ztsRetry, () => 1)).toBe(1000);
    expect(refreshBackoff(5, 0, ztsRetry, () => 1)).toBe(1000);
  });
});

describe('mergeRefreshPolicy', () => {
  it('overlays the caller field by field; undefined keeps the default, retry.initial included', () => {
    const merged = mergeRefreshPolicy(
      { refresh: { intervalMs: DAY, spread: 0.5 }, retry: { baseDelayMs: HOUR, initial: { maxAttempts: 3 } } },
      { refresh: { spread: 0.25, intervalMs: undefined }, retry: { initial: { baseDelayMs: 10 } } },
    );
    expect(merged).toEqual({
      refresh: { intervalMs: DAY, spread: 0.25 },
      retry: { baseDelayMs: HOUR, initial: { maxAttempts: 3, baseDelayMs: 10 } },
    });
    expect(mergeRefreshPolicy({}, undefined)).toEqual({ refresh: {}, retry: {} });
  });
});

describe('a fleet started together on one ManualClock', () => {
  it('refreshes at a steady rate from the first hour on and stays spread (the old 10-minute jitter made waves)', async () => {
    const clock = new ManualClock(Date.parse('2026-03-02T09:00:00Z'));
    const t0 = clock.now();
    const random = seededRandom(3);
    const tasks = 2000;
    const perHour = new Array<number>(72).fill(0);
    const providers = Array.from({ length: tasks }, () =>
      refreshingProvider({
        name: 'fleet',
        clock,
        random,
        refresh: { intervalMs: DAY, latestFraction: 0.5, beforeExpiryMs: 0, spread: 0.5 },
        fetch: async (_signal, previous) => {
          if (previous !== undefined) {
            const h = Math.floor((clock.now() - t0) / HOUR);
            perHour[h] = (perHour[h] ?? 0) + 1;
          }
          return { expiresAt: new Date(clock.now() + 7 * DAY) };
        },
      }),
    );
    for (const p of providers) clock.setTimeout(() => void p.get(), random() * MIN);
    for (let h = 0; h < 72; h++) await clock.advance(HOUR);
    // a refresh every 18 h on average: 2000 / 18 per hour, in every hour of the three days
    const mean = tasks / 18;
    const peak = Math.max(...perHour);
    const trough = Math.min(...perHour);
    expect(peak / mean).toBeLessThan(1.4);
    expect(trough / mean).toBeGreaterThan(0.6);
    await Promise.all(providers.map((p) => p.close()));
  });
});
