// credentialMetrics against the real OpenTelemetry metrics SDK, fed by a real refreshingProvider on a ManualClock.

import { ManualClock } from '@ecs-identity/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { metricsHarness, metricValue, pointsOf } from '../../../test-support/otel.js';
import { IdentityError } from './errors.js';
import { credentialMetrics, CREDENTIAL_METRICS as M, measured, meteredRefreshHooks } from './metrics.js';
import { type RefreshEvent, refreshingProvider } from './refreshing-provider.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const HOUR = 3600_000;
const CRED = { [M.credentialAttribute]: 'test-token' };

let harness = metricsHarness();
afterEach(async () => {
  await harness.shutdown();
  harness = metricsHarness();
});

/** A provider whose fetch fails while `failure` is set, on a ManualClock, with its metrics wired the providers' way. */
function setup(lifetimeMs = HOUR) {
  const clock = new ManualClock(T0);
  const metrics = credentialMetrics({ meter: harness.meter, credential: 'test-token', clock });
  let failure: unknown;
  const events: RefreshEvent[] = [];
  const hooks = meteredRefreshHooks(metrics, { onEvent: (e) => events.push(e) });
  const provider = refreshingProvider({
    name: 'test token',
    clock,
    // random() = 0: refreshed at the latest point (80 % of the lifetime), retried after retry.minDelayMs
    random: () => 0,
    retry: { minDelayMs: 60_000 },
    ...hooks.options,
    fetch: async () => {
      if (failure !== undefined) throw failure;
      return { expiresAt: new Date(clock.now() + lifetimeMs) };
    },
  });
  hooks.attach(provider);
  return {
    clock,
    metrics,
    provider,
    events,
    fail: (e: unknown) => {
      failure = e;
    },
  };
}

describe('credentialMetrics', () => {
  it('reports time to expiry from the injected clock, counts attempts, and failures by code', async () => {
    const { clock, provider, fail, events } = setup();
    await provider.get();
    let points = await harness.collect();
    expect(metricValue(points, M.timeToExpiry, CRED)).toBe(3600);
    expect(metricValue(points, M.refreshAttempts, CRED)).toBe(1);
    expect(pointsOf(points, M.refreshFailures)).toEqual([]);
    expect(pointsOf(points, M.timeToExpiry)[0]?.unit).toBe('s');

    // The background refresh (at 80 % of the hour) fails twice with a server error, then succeeds.
    fail(new IdentityError('HTTP_STATUS', 'server said 503', { status: 503, retryable: true }));
    await clock.advance(0.8 * HOUR);
    await clock.advance(60_000);
    points = await harness.collect();
    expect(metricValue(points, M.refreshAttempts, CRED)).toBe(3);
    expect(metricValue(points, M.refreshFailures, { ...CRED, [M.errorAttribute]: 'HTTP_STATUS' })).toBe(2);
    expect(metricValue(points, M.timeToExpiry, CRED)).toBe(0.2 * 3600 - 60);
    // The caller's own onEvent still sees every event.
    expect(events.filter((e) => e.type === 'refresh-failed').map((e) => e.code)).toEqual([
      'HTTP_STATUS',
      'HTTP_STATUS',
    ]);

    fail(undefined);
    await clock.advance(120_000);
    points = await harness.collect();
    expect(metricValue(points, M.refreshAttempts, CRED)).toBe(4);
    expect(events.filter((e) => e.type === 'refreshed')).toHaveLength(1);
    // Renewed 60 s into that advance, for another hour.
    expect(metricValue(points, M.timeToExpiry, CRED)).toBe(3600 - 60);
    await provider.close();
  });

  it('goes negative once the newest credential has expired and nothing replaced it', async () => {
    const { clock, provider, fail } = setup();
    await provider.get();
    fail(new TypeError('boom'));
    await clock.advance(HOUR + 30_000);
    const points = await harness.collect();
    expect(metricValue(points, M.timeToExpiry, CRED)).toBe(-30);
    // An error that is not an IdentityError is counted under its name.
    expect(metricValue(points, M.refreshFailures, { ...CRED, [M.errorAttribute]: 'TypeError' })).toBeGreaterThan(0);
    await provider.close();
  });

  it('measures operations on the injected clock, failed ones with their code', async () => {
    const { clock, metrics } = setup();
    const slow = metrics.measure('login', async () => {
      await clock.advance(1500);
      return 'token';
    });
    await expect(slow).resolves.toBe('token');
    const refused = measured(metrics, 'login', async () => {
      await clock.advance(250);
      throw new IdentityError('CONSUL_PERMISSION_DENIED', 'Permission denied');
    });
    await expect(refused).rejects.toThrow('Permission denied');
    const points = await harness.collect();
    const login = { ...CRED, [M.operationAttribute]: 'login' };
    expect(pointsOf(points, M.operationDuration, login)).toHaveLength(2);
    const ok = pointsOf(points, M.operationDuration, login).find((p) => !(M.errorAttribute in p.attributes));
    expect(ok?.value).toEqual({ count: 1, sum: 1.5 });
    expect(
      metricValue(points, M.operationDuration, { ...login, [M.errorAttribute]: 'CONSUL_PERMISSION_DENIED' }),
    ).toEqual({
      count: 1,
      sum: 0.25,
    });
    expect(pointsOf(points, M.operationDuration)[0]?.unit).toBe('s');
  });

  it('measured() without metrics only runs the operation', async () => {
    await expect(measured(undefined, 'login', async () => 42)).resolves.toBe(42);
    expect(await harness.collect()).toEqual([]);
  });

  it('keeps credentials on one Meter apart, and stops observing after close()', async () => {
    const clock = new ManualClock(T0);
    const a = credentialMetrics({ meter: harness.meter, credential: 'a', clock, attributes: { team: 'x' } });
    const b = credentialMetrics({ meter: harness.meter, credential: 'b', clock });
    a.recordCredential({ expiresAt: new Date(T0 + 10_000) });
    b.recordCredential({ expiresAt: new Date(T0 + 20_000) });
    b.onError(new IdentityError('TIMEOUT', 'slow'));
    let points = await harness.collect();
    expect(metricValue(points, M.timeToExpiry, { [M.credentialAttribute]: 'a', team: 'x' })).toBe(10);
    expect(metricValue(points, M.timeToExpiry, { [M.credentialAttribute]: 'b' })).toBe(20);
    expect(metricValue(points, M.refreshAttempts, { [M.credentialAttribute]: 'b' })).toBe(2);
    a.close();
    a.close(); // idempotent
    a.recordCredential({ expiresAt: new Date(T0 + 99_000) });
    await clock.advance(5000);
    points = await harness.collect();
    // a's callback is gone: the SDK repeats its last (cumulative) point, which no longer moves with the clock.
    expect(metricValue(points, M.timeToExpiry, { [M.credentialAttribute]: 'a', team: 'x' })).toBe(10);
    expect(metricValue(points, M.refreshAttempts, { [M.credentialAttribute]: 'a', team: 'x' })).toBe(1);
    expect(metricValue(points, M.timeToExpiry, { [M.credentialAttribute]: 'b' })).toBe(15);
  });

  it('observe() reports a credential fetched before it started watching, through peek()', async () => {
    const clock = new ManualClock(T0);
    const provider = refreshingProvider({
      name: 'early',
      clock,
      refresh: { background: false },
      fetch: async () => ({ expiresAt: new Date(clock.now() + 5000) }),
    });
    await provider.get();
    const metrics = credentialMetrics({ meter: harness.meter, credential: 'early', clock });
    const stop = metrics.observe(provider);
    const cred = { [M.credentialAttribute]: 'early' };
    expect(metricValue(await harness.collect(), M.timeToExpiry, cred)).toBe(5);
    stop();
    await clock.advance(2000);
    // No longer observed: the SDK repeats the last point instead of a new one (3).
    expect(metricValue(await harness.collect(), M.timeToExpiry, cred)).toBe(5);
    await provider.close();
  });

  it('takes refresh events: refreshed, refresh-failed (by code) and expiring', async () => {
    const clock = new ManualClock(T0);
    const metrics = credentialMetrics({ meter: harness.meter, credential: 'events', clock });
    metrics.onEvent({ type: 'refreshed', expiresAt: new Date(T0 + 60_000) });
    metrics.onEvent({ type: 'refresh-failed', code: 'ZTS_RATE_LIMITED' });
    metrics.onEvent({ type: 'expiring', expiresAt: T0 + 30_000 });
    metrics.onEvent({ type: 'something-new' });
    const cred = { [M.credentialAttribute]: 'events' };
    const points = await harness.collect();
    expect(metricValue(points, M.refreshAttempts, cred)).toBe(2);
    expect(metricValue(points, M.refreshFailures, { ...cred, [M.errorAttribute]: 'ZTS_RATE_LIMITED' })).toBe(1);
    expect(metricValue(points, M.timeToExpiry, cred)).toBe(30);
  });

  it('observe(provider, { countAttempts: false }) leaves counting to the events and still reports the expiry', async () => {
    const clock = new ManualClock(T0);
    const provider = refreshingProvider({
      name: 'evented',
      clock,
      refresh: { background: false },
      fetch: async () => ({ expiresAt: new Date(clock.now() + 8000) }),
    });
    const metrics = credentialMetrics({ meter: harness.meter, credential: 'evented', clock });
    metrics.observe(provider, { countAttempts: false });
    const fetched = await provider.get();
    metrics.onEvent({ type: 'refreshed', expiresAt: fetched.expiresAt });
    const cred = { [M.credentialAttribute]: 'evented' };
    const points = await harness.collect();
    expect(metricValue(points, M.refreshAttempts, cred)).toBe(1);
    expect(metricValue(points, M.timeToExpiry, cred)).toBe(8);
    await provider.close();
  });

  it("observe(provider, { countAttempts: 'first' }) counts the first credential once, the events the rest", async () => {
    const clock = new ManualClock(T0);
    const metrics = credentialMetrics({ meter: harness.meter, credential: 'first', clock });
    const provider = refreshingProvider({
      name: 'first',
      clock,
      refresh: { background: false },
      onEvent: metrics.onEvent,
      fetch: async () => ({ expiresAt: new Date(clock.now() + 8000) }),
    });
    metrics.observe(provider, { countAttempts: 'first' });
    await provider.get();
    await provider.get({ forceRefresh: true });
    await provider.get({ forceRefresh: true });
    const cred = { [M.credentialAttribute]: 'first' };
    expect(metricValue(await harness.collect(), M.refreshAttempts, cred)).toBe(3);
    // Observed once a credential is cached: that one was the first, so the next counts through its event only.
    const late = credentialMetrics({ meter: harness.meter, credential: 'late', clock });
    late.observe(provider, { countAttempts: 'first' });
    await provider.get({ forceRefresh: true });
    late.onEvent({ type: 'refreshed', expiresAt: provider.peek()?.expiresAt });
    expect(metricValue(await harness.collect(), M.refreshAttempts, { [M.credentialAttribute]: 'late' })).toBe(1);
    await provider.close();
  });

  it('refuses a missing meter or name with INVALID_ARGUMENT', () => {
    expect(() => credentialMetrics({ meter: {} as never, credential: 'x' })).toThrow(/meter must be an OpenTelemetry/);
    expect(() => credentialMetrics({ meter: harness.meter, credential: ' ' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('without metrics, the hooks are the caller’s own', () => {
    const own = (): void => {};
    const hooks = meteredRefreshHooks(undefined, { onEvent: own });
    expect(hooks.options).toEqual({ onEvent: own });
    expect(meteredRefreshHooks(undefined).options).toEqual({});
  });
});
