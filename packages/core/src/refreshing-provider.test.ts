import { ManualClock } from '@ecs-identity/testkit';
import { describe, expect, it, vi } from 'vitest';
import { type Clock, MAX_TIMER_DELAY_MS } from './clock.js';
import { IdentityError } from './errors.js';
import type { Logger } from './logger.js';
import { type RefreshEvent, type RefreshingProviderOptions, refreshingProvider } from './refreshing-provider.js';
import { registerSecret } from './secrets.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

interface Cred {
  readonly id: number;
  readonly secret: string;
  readonly expiresAt?: Date;
}

interface Call {
  readonly signal: AbortSignal;
  readonly previous: Cred | undefined;
  resolve(c: Cred): void;
  reject(e: unknown): void;
}

/**
 * A fetch the test controls. In `auto` mode each call resolves at once with a credential valid for `lifetimeMs`
 * (or no expiry when lifetimeMs is undefined); otherwise calls stay pending until the test settles them.
 */
function harness(
  opts: Partial<RefreshingProviderOptions<Cred>> & { auto?: boolean; lifetimeMs?: number | undefined } = {},
) {
  const clock = new ManualClock(T0);
  const calls: Call[] = [];
  let nextId = 1;
  const lifetime = 'lifetimeMs' in opts ? opts.lifetimeMs : HOUR;
  const make = (validMs: number | undefined = lifetime): Cred => ({
    id: nextId++,
    secret: `s3cr3t-${nextId}`,
    ...(validMs === undefined ? {} : { expiresAt: new Date(clock.now() + validMs) }),
  });
  let failWith: unknown;
  const fetch = vi.fn((signal: AbortSignal, previous: Cred | undefined) => {
    if (opts.auto !== false) {
      return failWith === undefined ? Promise.resolve(make()) : Promise.reject(failWith);
    }
    return new Promise<Cred>((resolve, reject) => calls.push({ signal, previous, resolve, reject }));
  });
  const warn = vi.fn();
  const logger: Logger = { debug: vi.fn(), info: vi.fn(), warn, error: vi.fn() };
  const onError = vi.fn();
  const provider = refreshingProvider<Cred>({
    name: 'test token',
    fetch,
    clock,
    random: () => 0,
    logger,
    onError,
    ...opts,
  });
  return {
    clock,
    provider,
    fetch,
    calls,
    make,
    warn,
    onError,
    fail(e: unknown) {
      failWith = e;
    },
  };
}

const unavailable = () =>
  new IdentityError('HTTP_STATUS', 'GET http://127.0.0.1/token answered 503', { retryable: true });

describe('refreshingProvider', () => {
  it('closes itself at the end of an `await using` block ([Symbol.asyncDispose] is close())', async () => {
    const disposed = vi.fn();
    let kept: { get(): Promise<unknown> } | undefined;
    {
      await using provider = refreshingProvider<Cred>({
        name: 'scoped',
        fetch: async () => ({ id: 1, secret: 'scoped-secret-1' }),
        dispose: disposed,
      });
      kept = provider;
      expect(await provider.get()).toMatchObject({ id: 1 });
      expect(disposed).not.toHaveBeenCalled();
    }
    expect(disposed).toHaveBeenCalledTimes(1);
    await expect(kept?.get()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('fetches on the first get, then serves the cached credential as the same resolved promise', async () => {
    const { provider, fetch } = harness();
    expect(provider.peek()).toBeUndefined();
    expect(fetch).not.toHaveBeenCalled();
    const a = await provider.get();
    expect(fetch).toHaveBeenCalledTimes(1);
    const p1 = provider.get();
    const p2 = provider.get();
    expect(p1).toBe(p2);
    expect(await p1).toBe(a);
    expect(provider.peek()).toBe(a);
    expect(fetch).toHaveBeenCalledTimes(1);
    await provider.close();
  });

  it('10,000 concurrent get() before the first credential make exactly one fetch', async () => {
    const { provider, fetch, calls, make } = harness({ auto: false });
    const gets = Array.from({ length: 10_000 }, () => provider.get());
    expect(fetch).toHaveBeenCalledTimes(1);
    const cred = make();
    calls[0]?.resolve(cred);
    const all = await Promise.all(gets);
    expect(all.every((c) => c === cred)).toBe(true);
    expect(fetch).toHaveBeenCalledTimes(1);
    await provider.close();
  });

  it('10,000 concurrent get() during a refresh of an expiring credential make exactly one fetch and do not wait', async () => {
    const { provider, fetch, calls, make, clock } = harness({ auto: false, refresh: { background: false } });
    const first = provider.get();
    calls[0]?.resolve(make());
    const c1 = await first;
    await clock.advance(50 * MIN); // past the refresh time (48 min), 10 min before expiry
    const gets = Array.from({ length: 10_000 }, () => provider.get());
    expect(fetch).toHaveBeenCalledTimes(2);
    expect((await Promise.all(gets)).every((c) => c === c1)).toBe(true);
    const c2 = make();
    calls[1]?.resolve(c2);
    await clock.flush();
    expect(await provider.get()).toBe(c2);
    expect(fetch).toHaveBeenCalledTimes(2);
    await provider.close();
  });

  it('10,000 concurrent get() after expiry all wait for one fetch and never see the expired credential', async () => {
    const { provider, fetch, calls, make, clock } = harness({ auto: false, refresh: { background: false } });
    const first = provider.get();
    const c1 = make();
    calls[0]?.resolve(c1);
    await first;
    await clock.advance(HOUR); // expiresAt == now: expired
    expect(provider.peek()).toBeUndefined();
    const gets = Array.from({ length: 10_000 }, () => provider.get());
    expect(fetch).toHaveBeenCalledTimes(2);
    const c2 = make();
    calls[1]?.resolve(c2);
    const all = await Promise.all(gets);
    expect(all.every((c) => c === c2)).toBe(true);
    expect(fetch).toHaveBeenCalledTimes(2);
    await provider.close();
  });

  it('refreshes in the background exactly at the drawn refresh time', async () => {
    // 1 h lifetime: the latest point is 48 min (0.8 of it). The first credential's time is drawn over [0, 48 min]
    // (random 0 = the latest point; 0.5 = 18 min, inside the flat part); a later one over [24 min, 48 min].
    for (const [random, first, second] of [
      [0, 48 * MIN, 48 * MIN],
      [0.5, 18 * MIN, 36 * MIN],
    ] as const) {
      const { provider, fetch, clock } = harness({ random: () => random });
      const c1 = await provider.get();
      expect(clock.nextTimerAt()).toBeCloseTo(T0 + first, 6);
      await clock.advance(Math.floor(first) - 1);
      expect(fetch).toHaveBeenCalledTimes(1);
      await clock.advance(1);
      expect(fetch).toHaveBeenCalledTimes(2);
      const c2 = await provider.get();
      expect(c2).not.toBe(c1);
      expect(fetch).toHaveBeenCalledTimes(2);
      expect((clock.nextTimerAt() as number) - clock.now()).toBeCloseTo(second, 6);
      await provider.close();
    }
  });

  it('arms its background timer without keepAlive, so it never holds a Node process open', async () => {
    const clock = new ManualClock(T0);
    const timerOptions: unknown[] = [];
    const recording: Clock = {
      now: () => clock.now(),
      setTimeout: (fn, ms, options) => {
        timerOptions.push(options);
        return clock.setTimeout(fn, ms);
      },
      clearTimeout: (h) => clock.clearTimeout(h),
    };
    let n = 0;
    const provider = refreshingProvider<Cred>({
      name: 'unref test',
      clock: recording,
      random: () => 0,
      fetch: async () => ({ id: ++n, secret: 'x', expiresAt: new Date(clock.now() + HOUR) }),
    });
    await provider.get();
    await clock.advance(HOUR - MIN); // past the refresh time: the timer fired and re-armed
    expect(n).toBe(2);
    expect(timerOptions.length).toBeGreaterThanOrEqual(2);
    expect(timerOptions.every((o) => (o as { keepAlive?: boolean } | undefined)?.keepAlive !== true)).toBe(true);
    await provider.close();
  });

  it('uses the absolute window when it comes before the fraction', async () => {
    const { provider, fetch, clock } = harness({ refresh: { beforeExpiryMs: 20 * MIN } });
    await provider.get();
    expect(clock.nextTimerAt()).toBe(T0 + 40 * MIN);
    await clock.advance(40 * MIN);
    expect(fetch).toHaveBeenCalledTimes(2);
    await provider.close();
  });

  it('passes the previous credential to fetch', async () => {
    const { provider, fetch } = harness();
    const c1 = await provider.get();
    await provider.get({ forceRefresh: true });
    expect(fetch.mock.calls[0]?.[1]).toBeUndefined();
    expect(fetch.mock.calls[1]?.[1]).toBe(c1);
    await provider.close();
  });

  it('keeps serving the cached credential while valid when a refresh fails, reports it, and backs off', async () => {
    // the refresh at the latest point (48 min), then every backoff drawn in the middle of its range
    const draws = [0];
    const { provider, fetch, clock, fail, onError, warn } = harness({ random: () => draws.shift() ?? 0.5 });
    const c1 = await provider.get();
    const error = unavailable();
    fail(error);
    await clock.advance(48 * MIN); // background refresh fires and fails
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(onError).toHaveBeenCalledWith(error);
    expect(warn).toHaveBeenCalledTimes(1);
    const logged = JSON.stringify(warn.mock.calls[0]);
    expect(logged).toContain('test token');
    expect(logged).toContain('HTTP_STATUS');
    expect(logged).not.toContain(c1.secret);
    expect(await provider.get()).toBe(c1);
    // the retry is not immediate: with 12 minutes left, the backoff cap is a quarter of that (3 min), drawn at 0.5
    expect(clock.nextTimerAt()).toBe(clock.now() + 1000 + 0.5 * (3 * MIN - 1000));
    // no hot loop: a thousand 1 ms steps with get() each make no further attempt
    for (let i = 0; i < 1000; i++) {
      await clock.advance(1);
      expect(await provider.get()).toBe(c1);
    }
    expect(fetch).toHaveBeenCalledTimes(2);
    // over the remaining 12 minutes the retries tighten as expiry nears (each an eighth of the validity left here,
    // at least 1 s): a few dozen attempts, not one per get() or per millisecond
    await clock.advance(12 * MIN - 1000);
    expect(fetch.mock.calls.length).toBeGreaterThan(20);
    expect(fetch.mock.calls.length).toBeLessThan(60);
    // once expired, the background keeps trying, backing off from retry.baseDelayMs (5 min) again and doubling
    // (drawn at 0.5: about 2.5, 5, 10, 20 min apart): a handful in the next hour, no hot loop
    const attempts = fetch.mock.calls.length;
    await clock.advance(HOUR);
    expect(fetch.mock.calls.length - attempts).toBeGreaterThanOrEqual(3);
    expect(fetch.mock.calls.length - attempts).toBeLessThanOrEqual(6);
    expect(clock.pendingTimers).toBe(1);
    // and a get() meanwhile fetches at once (and gets the error)
    const before = fetch.mock.calls.length;
    await expect(provider.get()).rejects.toBe(error);
    expect(fetch).toHaveBeenCalledTimes(before + 1);
    await provider.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('recovers on the next retry after a failed refresh', async () => {
    const { provider, fetch, clock, fail } = harness();
    const c1 = await provider.get();
    fail(unavailable());
    await clock.advance(48 * MIN);
    fail(undefined);
    const retryAt = clock.nextTimerAt() as number;
    await clock.advance(retryAt - clock.now());
    expect(fetch).toHaveBeenCalledTimes(3);
    const c2 = await provider.get();
    expect(c2).not.toBe(c1);
    expect(clock.nextTimerAt()).toBeGreaterThan(clock.now() + 40 * MIN);
    await provider.close();
  });

  it('propagates the fetch error to get() once the cached credential has expired', async () => {
    const { provider, clock, fail } = harness({ refresh: { background: false } });
    const c1 = await provider.get();
    const error = unavailable();
    fail(error);
    await clock.advance(59 * MIN);
    expect(await provider.get()).toBe(c1); // still valid: served, refresh fails behind it
    await clock.advance(MIN);
    await expect(provider.get()).rejects.toBe(error);
    expect(provider.peek()).toBeUndefined();
    await provider.close();
  });

  it('rejects a fetched credential that is already expired with EXPIRED and never hands it out', async () => {
    const { provider, clock, make, fetch, calls } = harness({ auto: false });
    const listener = vi.fn();
    provider.subscribe(listener);
    const p = provider.get();
    calls[0]?.resolve(make(0));
    const e = await p.catch((x: unknown) => x);
    expect(IdentityError.is(e, 'EXPIRED')).toBe(true);
    expect((e as Error).message).toContain('test token');
    expect(provider.peek()).toBeUndefined();
    expect(listener).not.toHaveBeenCalled();
    // with an expiry margin, one that would lapse within the margin is refused too
    const h2 = harness({ auto: false, refresh: { expiryMarginMs: 10_000 } });
    const p2 = h2.provider.get();
    h2.calls[0]?.resolve(h2.make(5000));
    await expect(p2).rejects.toMatchObject({ code: 'EXPIRED' });
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
    await provider.close();
    await h2.provider.close();
  });

  it('refuses a fetch result that is not an object without quoting it (it may be a raw secret)', async () => {
    const raw = 'hvs.CAESIRAWTOKENTHATMUSTNOTLEAK';
    for (const value of [raw, null, 42]) {
      const provider = refreshingProvider<Cred>({
        name: 'raw',
        clock: new ManualClock(T0),
        fetch: async () => value as unknown as Cred,
      });
      const e = (await provider.get().catch((x: unknown) => x)) as IdentityError;
      expect(e).toMatchObject({ code: 'INVALID_RESPONSE' });
      expect(e.message).toBe(`raw: fetch returned ${value === null ? 'null' : typeof value}, not a credential object`);
      expect(e.message).not.toContain('RAWTOKEN');
      await provider.close();
    }
  });

  it('refuses a credential whose expiresAt is not a valid Date', async () => {
    const { provider, calls } = harness({ auto: false });
    const p = provider.get();
    calls[0]?.resolve({ id: 1, secret: 'x', expiresAt: new Date('nope') });
    await expect(p).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    await provider.close();
  });

  it('never refreshes a credential without expiresAt unless forced', async () => {
    const { provider, fetch, clock } = harness({ lifetimeMs: undefined });
    const c1 = await provider.get();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10 * 365 * 24 * HOUR);
    expect(await provider.get()).toBe(c1);
    expect(fetch).toHaveBeenCalledTimes(1);
    const c2 = await provider.get({ forceRefresh: true });
    expect(c2).not.toBe(c1);
    expect(fetch).toHaveBeenCalledTimes(2);
    await provider.close();
  });

  it('forceRefresh joins a fetch in flight and rejects when it fails, while plain get() keeps the valid cache', async () => {
    const { provider, fetch, calls, make } = harness({ auto: false });
    const first = provider.get();
    const c1 = make();
    calls[0]?.resolve(c1);
    await first;
    const f1 = provider.get({ forceRefresh: true });
    const f2 = provider.get({ forceRefresh: true });
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(await provider.get()).toBe(c1);
    const error = unavailable();
    calls[1]?.reject(error);
    await expect(f1).rejects.toBe(error);
    await expect(f2).rejects.toBe(error);
    expect(await provider.get()).toBe(c1);
    await provider.close();
  });

  it('clamps timers for very long lifetimes to 2^31-1 ms and still refreshes on time', async () => {
    const { provider, fetch, clock } = harness({ lifetimeMs: 100 * 24 * HOUR, refresh: { spread: 0 } });
    await provider.get();
    const refreshAt = T0 + 80 * 24 * HOUR;
    expect((clock.nextTimerAt() as number) - clock.now()).toBe(MAX_TIMER_DELAY_MS);
    await clock.advance(MAX_TIMER_DELAY_MS);
    expect(fetch).toHaveBeenCalledTimes(1);
    await clock.advance(refreshAt - clock.now() - 1);
    expect(fetch).toHaveBeenCalledTimes(1);
    await clock.advance(1);
    expect(fetch).toHaveBeenCalledTimes(2);
    await provider.close();
  });

  describe('subscribe', () => {
    it('calls each listener once per new credential, in order, without replaying the current one', async () => {
      const { provider, clock } = harness();
      const c1 = await provider.get();
      const seen: number[] = [];
      const unsubscribe = provider.subscribe((c) => seen.push(c.id));
      expect(seen).toEqual([]); // no replay of c1
      await clock.advance(48 * MIN);
      const c2 = await provider.get();
      const c3 = await provider.get({ forceRefresh: true });
      await clock.advance(MIN);
      expect(seen).toEqual([c2.id, c3.id]);
      expect(c1.id).toBeLessThan(c2.id);
      unsubscribe();
      await provider.get({ forceRefresh: true });
      expect(seen).toEqual([c2.id, c3.id]);
      await provider.close();
    });

    it('isolates a throwing listener from the provider and the other listeners', async () => {
      const { provider, warn } = harness();
      const good = vi.fn();
      provider.subscribe(() => {
        throw new Error('listener bug');
      });
      provider.subscribe(good);
      const c = await provider.get();
      expect(good).toHaveBeenCalledWith(c);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(await provider.get()).toBe(c);
      await provider.close();
    });
  });

  describe('caller abort', () => {
    it('aborts only that caller’s wait, not the shared fetch', async () => {
      const { provider, fetch, calls, make } = harness({ auto: false });
      const ac = new AbortController();
      const aborted = provider.get({ signal: ac.signal });
      const other = provider.get();
      ac.abort();
      await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
      expect(calls[0]?.signal.aborted).toBe(false);
      const c = make();
      calls[0]?.resolve(c);
      expect(await other).toBe(c);
      expect(fetch).toHaveBeenCalledTimes(1);
      await provider.close();
    });

    it('rejects at once with ABORTED for an already aborted signal', async () => {
      const { provider } = harness();
      await provider.get();
      await expect(provider.get({ signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
      await provider.close();
    });
  });

  describe('close', () => {
    it('rejects pending and later get() with CLOSED, aborts the fetch, clears timers, disposes once', async () => {
      const dispose = vi.fn(async () => {});
      const { provider, calls, make, clock } = harness({ auto: false, dispose });
      const first = provider.get();
      const c1 = make();
      calls[0]?.resolve(c1);
      await first;
      expect(clock.pendingTimers).toBe(1);
      const pending = provider.get({ forceRefresh: true });
      const closes = [provider.close(), provider.close(), provider.close()];
      await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
      expect(calls[1]?.signal.aborted).toBe(true);
      calls[1]?.reject(new Error('aborted'));
      await Promise.all(closes);
      await provider.close();
      expect(dispose).toHaveBeenCalledTimes(1);
      expect(dispose).toHaveBeenCalledWith(c1);
      expect(clock.pendingTimers).toBe(0);
      await expect(provider.get()).rejects.toMatchObject({ code: 'CLOSED' });
      expect(provider.peek()).toBeUndefined();
    });

    it('hands a credential that arrives during close to the disposer (so it is logged out too)', async () => {
      const dispose = vi.fn();
      const { provider, calls, make } = harness({ auto: false, dispose });
      const p = provider.get();
      const closing = provider.close();
      await expect(p).rejects.toMatchObject({ code: 'CLOSED' });
      const late = make();
      calls[0]?.resolve(late);
      await closing;
      expect(dispose).toHaveBeenCalledWith(late);
    });

    it('rejects close() when the disposer fails, and still runs it only once', async () => {
      const failure = new IdentityError('LOGOUT_FAILED', 'logout answered 500');
      const dispose = vi.fn(async () => {
        throw failure;
      });
      const { provider } = harness({ dispose });
      await provider.get();
      await expect(provider.close()).rejects.toBe(failure);
      await expect(provider.close()).rejects.toBe(failure);
      expect(dispose).toHaveBeenCalledTimes(1);
    });

    it('does not notify subscribers after close', async () => {
      const listener = vi.fn();
      const { provider, calls, make } = harness({ auto: false });
      provider.subscribe(listener);
      const p = provider.get().catch(() => undefined);
      const closing = provider.close();
      calls[0]?.resolve(make());
      await closing;
      await p;
      expect(listener).not.toHaveBeenCalled();
    });
  });

  it('bounds a whole fetch with fetchTimeoutMs: waiters get a retryable TIMEOUT, the fetch signal is aborted', async () => {
    const { provider, calls, make, clock, fetch } = harness({ auto: false, fetchTimeoutMs: 10_000 });
    const p = provider.get();
    await clock.advance(9999);
    expect(calls[0]?.signal.aborted).toBe(false);
    await clock.advance(1);
    const e = await p.catch((x: unknown) => x);
    expect(IdentityError.is(e, 'TIMEOUT') && (e as IdentityError).retryable).toBe(true);
    expect(calls[0]?.signal.aborted).toBe(true);
    calls[0]?.resolve(make()); // too late: dropped
    await clock.flush();
    expect(provider.peek()).toBeUndefined();
    // the next get() starts a new fetch; its timeout timer goes away with close()
    const next = provider.get();
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(clock.pendingTimers).toBe(1);
    const closing = provider.close();
    await expect(next).rejects.toMatchObject({ code: 'CLOSED' });
    expect(clock.pendingTimers).toBe(0);
    calls[1]?.reject(new Error('aborted'));
    await closing;
  });

  it('does not notify again when a fetch returns the credential it already had', async () => {
    const same: Cred = { id: 7, secret: 'x', expiresAt: new Date(T0 + HOUR) };
    const listener = vi.fn();
    const provider = refreshingProvider<Cred>({ name: 'same', fetch: async () => same, clock: new ManualClock(T0) });
    provider.subscribe(listener);
    await provider.get();
    await provider.get({ forceRefresh: true });
    expect(listener).toHaveBeenCalledTimes(1);
    await provider.close();
  });

  it('logs through safeLogger, so a registered secret in an error message never reaches the log', async () => {
    const secret = 'consul-secret-id-3f9a1c2b';
    registerSecret(secret);
    const { provider, clock, fail, warn } = harness();
    await provider.get();
    fail(new Error(`server echoed ${secret} back`));
    await clock.advance(48 * MIN);
    expect(warn).toHaveBeenCalledTimes(1);
    const logged = JSON.stringify(warn.mock.calls[0]);
    expect(logged).toContain('server echoed');
    expect(logged).not.toContain(secret);
    await provider.close();
  });

  it('validates its options with INVALID_ARGUMENT naming the field', () => {
    const fetch = async (): Promise<Cred> => ({ id: 1, secret: 'x' });
    expect(() => refreshingProvider({ name: '', fetch })).toThrow(/name/);
    expect(() => refreshingProvider({ name: 'x', fetch: undefined as unknown as typeof fetch })).toThrow(/fetch/);
    const cases: [Partial<RefreshingProviderOptions<Cred>>, RegExp][] = [
      [{ refresh: { latestFraction: 0 } }, /refresh\.latestFraction must be a number > 0 <= 1, got 0/],
      [{ refresh: { latestFraction: 1.5 } }, /refresh\.latestFraction/],
      [{ refresh: { beforeExpiryMs: -1 } }, /refresh\.beforeExpiryMs/],
      [{ refresh: { spread: 1.1 } }, /refresh\.spread must be a number >= 0 <= 1/],
      [{ refresh: { spread: Number.NaN } }, /refresh\.spread/],
      [{ refresh: { intervalMs: 0 } }, /refresh\.intervalMs/],
      [{ refresh: { expiringThresholdMs: -1 } }, /refresh\.expiringThresholdMs/],
      [{ refresh: { expiryMarginMs: -5 } }, /refresh\.expiryMarginMs/],
      [{ refresh: { background: 'yes' as unknown as boolean } }, /refresh\.background must be a boolean/],
      [{ refresh: 5 as unknown as object }, /refresh must be an object/],
      [{ retry: { baseDelayMs: -1 } }, /retry\.baseDelayMs/],
      [{ retry: { remainingFraction: 0 } }, /retry\.remainingFraction/],
      [{ retry: { minDelayMs: Number.POSITIVE_INFINITY } }, /retry\.minDelayMs/],
      [{ retry: { initial: { maxAttempts: 1.5 } } }, /retry\.initial\.maxAttempts must be an integer >= 1/],
      [{ fetchTimeoutMs: 0 }, /fetchTimeoutMs/],
      [{ onEvent: 'log' as unknown as () => void }, /onEvent must be a function/],
    ];
    for (const [options, message] of cases) {
      let thrown: unknown;
      try {
        refreshingProvider({ name: 'x', fetch, ...options });
      } catch (e) {
        thrown = e;
      }
      expect(IdentityError.is(thrown, 'INVALID_ARGUMENT'), String(message)).toBe(true);
      expect((thrown as Error).message).toMatch(message);
    }
  });
});

describe('refreshingProvider: outages, events and expiry', () => {
  const DAY = 24 * HOUR;

  function outageHarness(opts: Partial<RefreshingProviderOptions<Cred>> & { lifetimeMs?: number } = {}) {
    const events: RefreshEvent[] = [];
    const h = harness({ onEvent: (e) => events.push(e), ...opts });
    return { ...h, events };
  }

  it('counts failed attempts per refresh cycle, not per backoff retry, and reports when the next attempt is', async () => {
    const { provider, clock, fail, fetch, events, onError } = outageHarness({
      lifetimeMs: 7 * DAY,
      random: () => 0.5,
      refresh: { intervalMs: DAY, latestFraction: 0.5, beforeExpiryMs: 0, spread: 0 },
      retry: { baseDelayMs: HOUR, maxDelayMs: 4 * HOUR },
    });
    const c1 = await provider.get();
    fail(unavailable());
    await clock.advance(DAY);
    const first = events[0];
    expect(first).toEqual({
      type: 'refresh-failed',
      provider: 'test token',
      attempt: 1,
      failures: 1,
      code: 'HTTP_STATUS',
      nextAttemptAt: new Date(clock.now() + 1000 + 0.5 * (HOUR - 1000)),
      expiresAt: c1.expiresAt,
    });
    // a day of failures: one attempt per backoff (30 min, 1 h, then 2 h apart), all in the first refresh cycle
    await clock.advance(DAY - 1);
    const inFirstCycle = events.filter((e) => e.type === 'refresh-failed');
    expect(inFirstCycle.length).toBeGreaterThan(8);
    expect(inFirstCycle.length).toBeLessThan(16);
    expect(fetch).toHaveBeenCalledTimes(1 + inFirstCycle.length);
    expect(inFirstCycle.every((e) => e.attempt === 1)).toBe(true);
    expect(inFirstCycle.map((e) => e.failures)).toEqual(inFirstCycle.map((_, i) => i + 1));
    const at = inFirstCycle.map((e) => (e.nextAttemptAt as Date).getTime());
    const gaps = at.slice(1).map((t, i) => t - (at[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0.5 * HOUR);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(2 * HOUR + 1000);
    // into the next day: the second cycle
    await clock.advance(2 * HOUR + 2);
    expect(events.at(-1)).toMatchObject({ type: 'refresh-failed', attempt: 2 });
    // the server is back: the next attempt succeeds, the streak ends; a brief outage never reported an expiry
    fail(undefined);
    const retryAt = clock.nextTimerAt() as number;
    await clock.advance(retryAt - clock.now());
    const c2 = await provider.get();
    expect(c2).not.toBe(c1);
    expect(events.at(-1)).toEqual({
      type: 'refreshed',
      provider: 'test token',
      expiresAt: c2.expiresAt,
      nextAttemptAt: new Date(clock.now() + DAY),
    });
    expect(events.some((e) => e.code === 'EXPIRES_BEFORE_NEXT_ATTEMPT' || e.type === 'expiring')).toBe(false);
    expect(onError.mock.calls.every(([e]) => IdentityError.is(e, 'HTTP_STATUS'))).toBe(true);
    await provider.close();
  });

  it('emits expiring once under the threshold, then EXPIRES_BEFORE_NEXT_ATTEMPT when no attempt can come in time', async () => {
    const secret = 'expiring-secret-value-19';
    const { provider, clock, fail, events, onError, warn } = outageHarness({
      random: () => 0.5,
      refresh: { spread: 0 }, // 1 h credential: latest point 48 min, expiring at 12 / 2 = 6 min left
      retry: { minDelayMs: 5 * MIN },
    });
    await provider.get();
    registerSecret(secret);
    fail(new IdentityError('HTTP_STATUS', `echoed ${secret}`, { retryable: true }));
    await clock.advance(48 * MIN); // fails; 12 min left, a quarter is under the 5 min floor: next at 53 min
    await clock.advance(5 * MIN); // fails again; next at 58 min
    expect(events.map((e) => e.type)).toEqual(['refresh-failed', 'refresh-failed']);
    await clock.advance(MIN); // 54 min: 6 min left
    expect(events.at(-1)).toEqual({
      type: 'expiring',
      provider: 'test token',
      expiresAt: new Date(T0 + HOUR),
      nextAttemptAt: new Date(T0 + 58 * MIN),
    });
    const expiringLine = warn.mock.calls.at(-1);
    expect(String(expiringLine?.[1])).toMatch(/expires at .* in 6 minutes; refreshing it has failed 2 times/);
    await clock.advance(4 * MIN); // 58 min: fails with 2 min left; the next attempt could only be after expiry
    const last = events.at(-1);
    expect(last).toMatchObject({ type: 'refresh-failed', code: 'EXPIRES_BEFORE_NEXT_ATTEMPT', attempt: 1 });
    const reported = onError.mock.calls.at(-1)?.[0] as IdentityError;
    expect(reported.code).toBe('EXPIRES_BEFORE_NEXT_ATTEMPT');
    expect(reported.message).toMatch(/expires at 2026-01-01T01:00:00.000Z, before another attempt/);
    expect((reported.cause as IdentityError).code).toBe('HTTP_STATUS');
    expect(JSON.stringify(warn.mock.calls)).not.toContain(secret);
    expect(events.filter((e) => e.type === 'expiring')).toHaveLength(1);
    await provider.close();
  });

  it('keeps trying in the background after its credential expired, backing off, until a fetch succeeds', async () => {
    // Nobody calls get(): a subscriber (a TLS server swapping its certificate) is all there is.
    const { provider, clock, fail, fetch, events } = outageHarness({
      random: () => 1,
      refresh: { spread: 0 }, // 1 h credential: latest point 48 min
      retry: { baseDelayMs: 10 * MIN, maxDelayMs: 40 * MIN },
    });
    const seen: Cred[] = [];
    provider.subscribe((c) => seen.push(c));
    await provider.get();
    fail(unavailable());
    await clock.advance(HOUR); // the attempts before expiry, tighter and tighter, and the last one at expiry
    const beforeExpiry = fetch.mock.calls.length;
    expect(provider.peek()).toBeUndefined();
    // After expiry: within 10 min, then 20, then 40, 40 (random() = 1 draws each cap).
    const after: number[] = [];
    for (let i = 0; i < 4; i++) {
      const next = clock.nextTimerAt();
      expect(next).toBeDefined();
      after.push((next as number) - clock.now());
      await clock.advance((next as number) - clock.now());
      expect(events.at(-1)).toMatchObject({ type: 'refresh-failed', code: 'HTTP_STATUS' });
      expect(events.at(-1)?.nextAttemptAt?.getTime()).toBe(clock.nextTimerAt());
    }
    expect(after).toEqual([10 * MIN, 20 * MIN, 40 * MIN, 40 * MIN]);
    expect(fetch.mock.calls.length).toBe(beforeExpiry + 4);
    // the server is back: the next background attempt brings a new credential to the subscriber
    fail(undefined);
    await clock.advance((clock.nextTimerAt() as number) - clock.now());
    expect(seen).toHaveLength(2);
    expect(provider.peek()).toBe(seen[1]);
    expect(events.at(-1)).toMatchObject({ type: 'refreshed', expiresAt: seen[1]?.expiresAt });
    await provider.close();
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('arms no retry after expiry without refresh.background: the next get() fetches', async () => {
    const { provider, clock, fail, fetch } = outageHarness({ refresh: { background: false } });
    await provider.get();
    fail(unavailable());
    await clock.advance(50 * MIN);
    await provider.get(); // refresh due: served, a refresh fails behind it
    await clock.advance(20 * MIN);
    expect(clock.nextTimerAt()).toBeUndefined();
    const calls = fetch.mock.calls.length;
    fail(undefined);
    await provider.get();
    expect(fetch).toHaveBeenCalledTimes(calls + 1);
    await provider.close();
  });

  it('emits expiring for a credential that arrives already under an explicit threshold, once', async () => {
    const { provider, clock, events } = outageHarness({ refresh: { expiringThresholdMs: 2 * HOUR, background: true } });
    await provider.get();
    expect(events).toEqual([
      {
        type: 'expiring',
        provider: 'test token',
        expiresAt: new Date(T0 + HOUR),
        nextAttemptAt: new Date(T0 + 48 * MIN),
      },
    ]);
    await clock.advance(10 * MIN);
    await provider.get();
    expect(events).toHaveLength(1);
    await provider.close();
  });

  it('retries a fetch with nothing cached at once as retry.initial allows, but only retryable errors', async () => {
    let n = 0;
    const clock = new ManualClock(T0);
    const provider = refreshingProvider<Cred>({
      name: 'cold',
      clock,
      random: () => 1,
      retry: { initial: { maxAttempts: 3, baseDelayMs: 100 } },
      fetch: async () => {
        n++;
        if (n < 3) throw unavailable();
        return { id: n, secret: 'x', expiresAt: new Date(clock.now() + HOUR) };
      },
    });
    const got = provider.get();
    await clock.advance(100); // first backoff: up to 100 ms
    await clock.advance(200); // second: up to 200 ms
    expect((await got).id).toBe(3);
    // with a valid credential cached, a refresh is one attempt: no quick retry multiplying it
    n = 0;
    const refreshed = provider.get({ forceRefresh: true });
    await expect(refreshed).rejects.toMatchObject({ code: 'HTTP_STATUS' });
    expect(n).toBe(1);
    await provider.close();

    let m = 0;
    const strict = refreshingProvider<Cred>({
      name: 'cold',
      clock,
      retry: { initial: { maxAttempts: 3 } },
      fetch: async () => {
        m++;
        throw new IdentityError('CONSUL_PERMISSION_DENIED', 'denied');
      },
    });
    await expect(strict.get()).rejects.toMatchObject({ code: 'CONSUL_PERMISSION_DENIED' });
    expect(m).toBe(1);
    await strict.close();
  });

  it('isolates a throwing onEvent listener', async () => {
    const { provider, clock, fail, warn, fetch } = harness({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await provider.get();
    fail(unavailable());
    await clock.advance(48 * MIN);
    expect(fetch).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.some(([, msg]) => String(msg).includes('an onEvent listener threw'))).toBe(true);
    await provider.close();
  });
});
