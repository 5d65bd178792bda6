import { describe, expect, it } from 'vitest';
import { athenzRunPolicy } from './athenz-run-policy.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('athenzRunPolicy', () => {
  it("siad's defaults: daily refreshes, backoff within 6 h doubling to 24 h, exit a day before a 7-day certificate expires", () => {
    const p = athenzRunPolicy({ refreshinterval: 1440 });
    expect(p.intervalMs).toBe(DAY);
    expect(p.refresh).toEqual({ background: true, intervalMs: DAY });
    expect(p.retry).toEqual({ baseDelayMs: 6 * HOUR, maxDelayMs: DAY });
    expect(p.exitBeforeExpiryMs(7 * DAY)).toBe(DAY);
  });

  it('scales the backoff to a shorter interval, and caps the default exit margin at 15% of the validity', () => {
    const p = athenzRunPolicy({ refreshinterval: 0.1 });
    expect(p.retry).toEqual({ baseDelayMs: 1500, maxDelayMs: 6000 });
    expect(p.exitBeforeExpiryMs(60_000)).toBe(6000);
    expect(p.exitBeforeExpiryMs(20_000)).toBe(3000);
    // a one-hour certificate with daily refreshes: 9 minutes, not a day (it would exit at the first failure)
    expect(athenzRunPolicy({ refreshinterval: 1440 }).exitBeforeExpiryMs(HOUR)).toBe(9 * 60_000);
    // longer intervals keep the Athenz figures
    expect(athenzRunPolicy({ refreshinterval: 2880 }).retry).toEqual({ baseDelayMs: 6 * HOUR, maxDelayMs: DAY });
  });

  it('takes -exit-before-expiry and -warn-before-expiry as given, 0 included', () => {
    const p = athenzRunPolicy({ refreshinterval: 60, 'exit-before-expiry': 0, 'warn-before-expiry': 4320 });
    expect(p.exitBeforeExpiryMs(7 * DAY)).toBe(0);
    expect(p.refresh).toMatchObject({ expiringThresholdMs: 3 * DAY });
    expect(athenzRunPolicy({ refreshinterval: 60, 'exit-before-expiry': 0.5 }).exitBeforeExpiryMs(DAY)).toBe(30_000);
  });
});
