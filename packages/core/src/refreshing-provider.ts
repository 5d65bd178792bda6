/**
 * The refreshing provider: turns a `fetch(signal)` function into a {@link CredentialProvider} that caches, shares one
 * in-flight fetch between callers, refreshes ahead of expiry and survives refresh failures while the cached
 * credential is still valid.
 * @packageDocumentation
 */
import { abortedError, type Clock, MAX_TIMER_DELAY_MS, systemClock } from './clock.js';
import type { Credential, CredentialProvider, GetOptions } from './credential.js';
import { IdentityError } from './errors.js';
import { type Logger, safeLogger } from './logger.js';

/** @public */
export interface RefreshingProviderOptions<C extends Credential> {
  /** What the provider is (used in log lines and errors), e.g. "consul token". */
  name: string;
  /** Fetches a new credential. `previous` is the last one handed out, if any (e.g. to reuse a key). */
  fetch: (signal: AbortSignal, previous: C | undefined) => Promise<C>;
  /**
   * Refresh when less than this many ms of validity remain. Default 5 minutes. Capped at half the lifetime, so a
   * credential that lives less than twice this long is not refreshed the moment it arrives.
   */
  refreshBeforeMs?: number;
  /** Refresh once this fraction of the lifetime (fetch time → expiresAt) has passed, if that is earlier. Default 0.8. */
  refreshAtFraction?: number;
  /** Up to this many ms are subtracted at random from each refresh time so a fleet does not refresh in step. Default 30_000 (capped to a tenth of the remaining lifetime). */
  jitterMs?: number;
  /** Refresh in the background with an unref'd timer so a cached get() never waits. Default true. */
  backgroundRefresh?: boolean;
  /** Runs once on close() with the last credential (logout, delete). */
  dispose?: (last: C | undefined) => Promise<void> | void;
  /** Called with each refresh error (the cached credential keeps being served while valid). */
  onError?: (error: unknown) => void;
  logger?: Logger;
  clock?: Clock;
  random?: () => number;
  /**
   * A credential counts as expired this many ms before its `expiresAt`, so one that would lapse in flight is not
   * handed out. Default 0.
   */
  expiryMarginMs?: number;
  /**
   * After a failed refresh (while the cached credential is still valid) the next attempt waits a jittered backoff
   * starting here and doubling per failure, at most half the remaining validity and at least this. Default 1000.
   */
  retryBaseDelayMs?: number;
  /** The largest backoff between failed refreshes. Default 300_000 (5 minutes). */
  retryMaxDelayMs?: number;
  /**
   * An overall bound on one fetch (all its requests and retries): when it passes, the fetch's signal is aborted and
   * its waiters get a retryable `TIMEOUT` error. Default: none (each request of the fetch has its own timeout).
   */
  fetchTimeoutMs?: number;
}

/** A CredentialProvider plus a cheap synchronous snapshot. @public */
export interface RefreshingProvider<C extends Credential> extends CredentialProvider<C> {
  /** The cached credential if it is still valid, without any I/O. */
  peek(): C | undefined;
}

/**
 * When a credential fetched at `fetchedAtMs` and expiring at `expiresAtMs` should be refreshed: the earlier of
 * "`refreshBeforeMs` before expiry" (capped at half the lifetime) and "`refreshAtFraction` of the lifetime", minus a
 * random jitter of up to `min(jitterMs, lifetime / 10)`; never before the fetch. Infinity when it never expires.
 * @internal
 */
export function computeRefreshAt(
  fetchedAtMs: number,
  expiresAtMs: number,
  refreshBeforeMs: number,
  refreshAtFraction: number,
  jitterMs: number,
  random: () => number,
): number {
  if (expiresAtMs === Number.POSITIVE_INFINITY) return expiresAtMs;
  const lifetime = Math.max(0, expiresAtMs - fetchedAtMs);
  const byWindow = expiresAtMs - Math.min(refreshBeforeMs, lifetime / 2);
  const byFraction = fetchedAtMs + lifetime * refreshAtFraction;
  const jitter = random() * Math.min(jitterMs, lifetime / 10);
  return Math.max(fetchedAtMs, Math.min(byWindow, byFraction) - jitter);
}

function invalid(field: string, what: string, value: unknown): IdentityError {
  return new IdentityError('INVALID_ARGUMENT', `refreshingProvider: ${field} must be ${what}, got ${String(value)}`);
}

function nonNegative(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw invalid(field, 'a finite number >= 0', value);
  }
  return value;
}

function describe(error: unknown): { code: string; message: string } {
  if (error instanceof IdentityError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'UNKNOWN', message: typeof error };
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Nobody may be waiting (a background refresh); the rejection still reaches every waiter that is.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

interface Subscription<C> {
  readonly fn: (credential: C) => void;
  active: boolean;
}

/**
 * Wraps a `fetch(signal, previous)` function into a {@link RefreshingProvider}.
 *
 * - The first `get()` fetches; concurrent callers share that one fetch.
 * - A cached credential is returned without I/O until its refresh time; between the refresh time and expiry it is
 *   still returned at once while a refresh runs in the background (and, with `backgroundRefresh`, a timer starts
 *   that refresh before anyone asks). An expired credential is never returned: callers then wait for the fetch.
 * - A credential without `expiresAt` is never refreshed, except by `get({ forceRefresh: true })`, which joins a
 *   fetch already in flight or starts one, and rejects when that fetch fails.
 * - A failed refresh is reported to `onError` and `logger.warn` (provider name, error code and message only); the
 *   cached credential keeps being served while valid and the refresh is retried with a bounded backoff. Once no
 *   valid credential is cached, `get()` rejects with the fetch's error.
 * - A fetched credential that is already expired is rejected with `EXPIRED` and never handed out.
 * - `subscribe(listener)` calls the listener once with each new credential, in order, starting with the next one
 *   (the current credential is not replayed; use `peek()` for it). A throwing listener is logged and ignored.
 * - `close()` clears the timer, aborts the fetch in flight, rejects waiting and later `get()` calls with `CLOSED`,
 *   waits for the aborted fetch to settle, then runs `dispose` once with the newest credential. It is idempotent
 *   and rejects when `dispose` throws.
 *
 * @example
 * ```ts
 * const tokens = refreshingProvider({
 *   name: 'consul token',
 *   fetch: (signal) => login(signal),
 *   dispose: (last) => (last ? logout(last) : undefined),
 * });
 * const token = await tokens.get();
 * tokens.subscribe((t) => console.log('new token until', t.expiresAt));
 * await tokens.close();
 * ```
 * @public
 */
export function refreshingProvider<C extends Credential>(options: RefreshingProviderOptions<C>): RefreshingProvider<C> {
  if (options === null || typeof options !== 'object') throw invalid('options', 'an object', options);
  const { name, dispose, onError } = options;
  // Every log line goes through safeLogger, which scrubs registered secrets even from error messages.
  const logger = safeLogger(options.logger);
  if (typeof name !== 'string' || name.trim() === '') throw invalid('name', 'a non-empty string', name);
  const fetchCredential = options.fetch;
  if (typeof fetchCredential !== 'function') throw invalid('fetch', 'a function', fetchCredential);
  if (dispose !== undefined && typeof dispose !== 'function') throw invalid('dispose', 'a function', dispose);
  const refreshBeforeMs = nonNegative('refreshBeforeMs', options.refreshBeforeMs, 300_000);
  const jitterMs = nonNegative('jitterMs', options.jitterMs, 30_000);
  const expiryMarginMs = nonNegative('expiryMarginMs', options.expiryMarginMs, 0);
  const retryBaseDelayMs = nonNegative('retryBaseDelayMs', options.retryBaseDelayMs, 1000);
  const fetchTimeoutMs = options.fetchTimeoutMs;
  if (fetchTimeoutMs !== undefined && !(typeof fetchTimeoutMs === 'number' && fetchTimeoutMs > 0)) {
    throw invalid('fetchTimeoutMs', 'a number > 0', fetchTimeoutMs);
  }
  const retryMaxDelayMs = Math.max(retryBaseDelayMs, nonNegative('retryMaxDelayMs', options.retryMaxDelayMs, 300_000));
  const refreshAtFraction = options.refreshAtFraction ?? 0.8;
  if (typeof refreshAtFraction !== 'number' || !(refreshAtFraction > 0 && refreshAtFraction <= 1)) {
    throw invalid('refreshAtFraction', 'a number in (0, 1]', refreshAtFraction);
  }
  const background = options.backgroundRefresh ?? true;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;

  // The cached credential, a resolved promise of it (the hot path returns this very object), and its schedule.
  let current: C | undefined;
  let currentPromise: Promise<C> | undefined;
  let refreshAtMs = Number.NEGATIVE_INFINITY;
  let usableUntilMs = Number.NEGATIVE_INFINITY;
  let failures = 0;

  let inflight: Deferred<C> | undefined;
  let controller: AbortController | undefined;
  let fetchSettled: Promise<void> | undefined;
  let fetchTimer: unknown;

  let timer: unknown;
  let timerArmed = false;
  let timerAtMs = 0;

  let subscriptions: readonly Subscription<C>[] = [];
  let closed = false;
  let closing: Promise<void> | undefined;
  let fetchedAfterClose: C | undefined;

  const closedError = (): IdentityError =>
    new IdentityError('CLOSED', `${name}: the provider was closed; create a new one to get credentials`);

  function clearTimer(): void {
    if (timerArmed) clock.clearTimeout(timer);
    timerArmed = false;
    timer = undefined;
  }

  function schedule(atMs: number): void {
    clearTimer();
    if (!background || closed || atMs === Number.POSITIVE_INFINITY) return;
    timerAtMs = atMs;
    // Clamped so setTimeout cannot overflow; onTimer re-arms until the real time comes.
    const delay = Math.min(Math.max(0, atMs - clock.now()), MAX_TIMER_DELAY_MS);
    timer = clock.setTimeout(onTimer, delay);
    timerArmed = true;
  }

  function onTimer(): void {
    timerArmed = false;
    timer = undefined;
    if (closed) return;
    if (clock.now() < timerAtMs) {
      schedule(timerAtMs);
      return;
    }
    void startFetch();
  }

  function notify(credential: C): void {
    for (const sub of subscriptions) {
      if (!sub.active) continue;
      try {
        sub.fn(credential);
      } catch (error) {
        const { code, message } = describe(error);
        logger.warn({ provider: name, code, message }, `${name}: a subscriber threw; ignored`);
      }
    }
  }

  function report(error: unknown, servingCached: boolean): void {
    try {
      onError?.(error);
    } catch {
      // A broken error hook must not break the provider.
    }
    const { code, message } = describe(error);
    logger.warn(
      { provider: name, code, message },
      servingCached
        ? `${name}: refresh failed; serving the cached credential while it is valid`
        : `${name}: fetching a credential failed`,
    );
  }

  function accept(credential: C): void {
    if (credential === null || typeof credential !== 'object') {
      // Only the type: a fetch that wrongly returns the raw secret (a token string) must not put it in the message.
      const got = credential === null ? 'null' : typeof credential;
      throw new IdentityError('INVALID_RESPONSE', `${name}: fetch returned ${got}, not a credential object`);
    }
    const expiresAt = credential.expiresAt;
    if (expiresAt !== undefined && !(expiresAt instanceof Date && Number.isFinite(expiresAt.getTime()))) {
      throw new IdentityError('INVALID_RESPONSE', `${name}: the fetched credential's expiresAt is not a valid Date`);
    }
    const now = clock.now();
    const expiresAtMs = expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt.getTime();
    const usableUntil = expiresAtMs - expiryMarginMs;
    if (usableUntil <= now) {
      throw new IdentityError(
        'EXPIRED',
        `${name}: the fetched credential expires at ${(expiresAt as Date).toISOString()}, ` +
          `which is not after now (${new Date(now).toISOString()})` +
          (expiryMarginMs > 0 ? ` plus the ${expiryMarginMs} ms expiry margin` : '') +
          '; check the server and local clocks',
      );
    }
    const isNew = credential !== current;
    current = credential;
    currentPromise = Promise.resolve(credential);
    usableUntilMs = usableUntil;
    refreshAtMs = Math.min(
      usableUntil,
      computeRefreshAt(now, expiresAtMs, refreshBeforeMs, refreshAtFraction, jitterMs, random),
    );
    failures = 0;
    logger.debug(
      {
        provider: name,
        expiresAt: expiresAt?.toISOString(),
        refreshAt: Number.isFinite(refreshAtMs) ? new Date(refreshAtMs).toISOString() : undefined,
      },
      `${name}: new credential`,
    );
    schedule(refreshAtMs);
    // A fetch may hand back the object it already had (an upstream cache); that is not a new credential.
    if (isNew) notify(credential);
  }

  /** After a failed refresh with a still-valid credential: push the refresh time out by a bounded backoff. */
  function backOff(now: number): void {
    const raw = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** Math.min(failures - 1, 40));
    const jittered = raw / 2 + (random() * raw) / 2;
    const delay = Math.max(retryBaseDelayMs, Math.min(jittered, (usableUntilMs - now) / 2));
    refreshAtMs = Math.min(now + delay, usableUntilMs);
    schedule(refreshAtMs);
  }

  function startFetch(): Promise<C> {
    if (inflight !== undefined) return inflight.promise;
    const d = deferred<C>();
    const ac = new AbortController();
    inflight = d;
    controller = ac;
    const previous = current;
    let finished = false;
    let timeout: unknown;
    /** Marks this fetch finished; false when it already was (timed out, or a second settlement). */
    const finish = (): boolean => {
      if (finished) return false;
      finished = true;
      if (timeout !== undefined) {
        clock.clearTimeout(timeout);
        if (fetchTimer === timeout) fetchTimer = undefined;
        timeout = undefined;
      }
      if (inflight === d) {
        inflight = undefined;
        controller = undefined;
      }
      return true;
    };
    const fail = (error: unknown): void => {
      failures++;
      const now = clock.now();
      const servingCached = current !== undefined && now < usableUntilMs;
      report(error, servingCached);
      if (servingCached) backOff(now);
      d.reject(error);
    };
    const onValue = (credential: C): void => {
      const first = finish();
      if (closed) {
        // close() already rejected the waiters; hand this newest credential to dispose (e.g. to log it out).
        if (credential !== null && typeof credential === 'object') fetchedAfterClose = credential;
        return;
      }
      // A credential arriving after fetchTimeoutMs is dropped: its waiters already got TIMEOUT.
      if (!first) return;
      try {
        accept(credential);
      } catch (error) {
        fail(error);
        return;
      }
      d.resolve(credential);
    };
    const onFailure = (error: unknown): void => {
      if (finish() && !closed) fail(error);
    };
    if (fetchTimeoutMs !== undefined) {
      timeout = clock.setTimeout(() => {
        timeout = undefined;
        fetchTimer = undefined;
        const error = new IdentityError(
          'TIMEOUT',
          `${name}: fetching a credential took longer than fetchTimeoutMs (${fetchTimeoutMs} ms)`,
          { retryable: true },
        );
        ac.abort(error);
        onFailure(error);
      }, fetchTimeoutMs);
      fetchTimer = timeout;
    }
    // The async wrapper turns a synchronous throw from fetch into a rejection.
    const run = (async () => fetchCredential(ac.signal, previous))();
    fetchSettled = run.then(onValue, onFailure);
    return d.promise;
  }

  function waitFor(promise: Promise<C>, signal: AbortSignal | undefined): Promise<C> {
    if (signal === undefined) return promise;
    return new Promise<C>((resolve, reject) => {
      const onAbort = (): void => reject(abortedError(signal, `${name}: get()`));
      signal.addEventListener('abort', onAbort, { once: true });
      promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  function getSlow(options: GetOptions | undefined): Promise<C> {
    if (closed) return Promise.reject(closedError());
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(abortedError(signal, `${name}: get()`));
    const now = clock.now();
    if (options?.forceRefresh !== true && current !== undefined && now < usableUntilMs) {
      // Refresh due but the credential is still valid: serve it now, refresh behind it.
      if (now >= refreshAtMs) void startFetch();
      return currentPromise as Promise<C>;
    }
    return waitFor(startFetch(), signal);
  }

  function get(options?: GetOptions): Promise<C> {
    // Hot path: one clock read and the same resolved promise every time.
    if (
      currentPromise !== undefined &&
      (options === undefined || (options.forceRefresh !== true && options.signal?.aborted !== true)) &&
      clock.now() < refreshAtMs
    ) {
      return currentPromise;
    }
    return getSlow(options);
  }

  function subscribe(listener: (credential: C) => void): () => void {
    if (typeof listener !== 'function') throw invalid('subscribe(listener)', 'a function', listener);
    const sub: Subscription<C> = { fn: listener, active: !closed };
    if (closed) return () => {};
    // Copy on write: a notification in progress iterates the old array, so it never sees this subscriber.
    subscriptions = [...subscriptions, sub];
    return () => {
      sub.active = false;
      subscriptions = subscriptions.filter((s) => s !== sub);
    };
  }

  async function shutdown(): Promise<void> {
    closed = true;
    clearTimer();
    if (fetchTimer !== undefined) clock.clearTimeout(fetchTimer);
    fetchTimer = undefined;
    subscriptions = [];
    let last = current;
    current = undefined;
    currentPromise = undefined;
    usableUntilMs = Number.NEGATIVE_INFINITY;
    refreshAtMs = Number.NEGATIVE_INFINITY;
    const pending = inflight;
    const settled = fetchSettled;
    inflight = undefined;
    controller?.abort(closedError());
    controller = undefined;
    pending?.reject(closedError());
    if (pending !== undefined && settled !== undefined) {
      await settled;
      if (fetchedAfterClose !== undefined) last = fetchedAfterClose;
    }
    fetchedAfterClose = undefined;
    if (dispose !== undefined) await dispose(last);
  }

  return {
    get,
    subscribe,
    peek(): C | undefined {
      return current !== undefined && clock.now() < usableUntilMs ? current : undefined;
    },
    close(): Promise<void> {
      closing ??= shutdown();
      return closing;
    },
  };
}
