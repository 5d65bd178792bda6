/**
 * The refreshing provider: turns a `fetch(signal)` function into a {@link CredentialProvider} that caches, shares one
 * in-flight fetch between callers, refreshes ahead of expiry and survives refresh failures while the cached
 * credential is still valid.
 * @packageDocumentation
 */
import { abortedError, type Clock, MAX_TIMER_DELAY_MS, systemClock } from './clock.js';
import { type Credential, type CredentialProvider, type GetOptions, withAsyncDispose } from './credential.js';
import { type CoreErrorCode, errorClass, IdentityError } from './errors.js';
import { type Logger, safeLogger } from './logger.js';
import {
  invalidOption,
  type RefreshPolicy,
  refreshBackoff,
  refreshTime,
  resolveRefresh,
  resolveRetry,
} from './refresh-policy.js';
import { retry as retryOperation } from './retry.js';

const CoreError = errorClass<CoreErrorCode>();

/**
 * What a refreshing provider reports through `onEvent`:
 * - `refreshed`: a new credential replaced an earlier one (not sent for the first credential).
 * - `refresh-failed`: a fetch failed. `attempt` numbers the refresh cycles of this failure streak (see
 *   {@link RefreshEvent.attempt}); `code` is the error's code, `EXPIRES_BEFORE_NEXT_ATTEMPT` when the cached
 *   credential will have expired before the next attempt starts.
 * - `expiring`: the cached credential's validity left fell under `refresh.expiringThresholdMs` (once per credential).
 * @public
 */
export interface RefreshEvent {
  readonly type: 'refreshed' | 'refresh-failed' | 'expiring';
  /** The provider's name. */
  readonly provider: string;
  /**
   * `refresh-failed`: which refresh cycle of the current failure streak this failure falls in: 1 for every failure
   * within one refresh interval (the time from issue to the latest refresh point of the cached credential) of the
   * streak's first failure, 2 within the next interval, and so on; backoff retries within a cycle do not raise it.
   * While no valid credential is cached, each failed fetch counts as a cycle.
   */
  readonly attempt?: number;
  /** `refresh-failed`: failed attempts in the current streak, backoff retries included. */
  readonly failures?: number;
  /** `refresh-failed`: the error's code (`IdentityError.code`, else the error's name). */
  readonly code?: string;
  /** When the next refresh attempt is due, if one is scheduled. */
  readonly nextAttemptAt?: Date;
  /** The cached credential's `expiresAt` (for `refreshed`: the new one's). */
  readonly expiresAt?: Date;
}

/** @public */
export interface RefreshingProviderOptions<C extends Credential> extends RefreshPolicy {
  /** What the provider is (used in log lines and errors), e.g. "consul token". */
  name: string;
  /** Fetches a new credential. `previous` is the last one handed out, if any (e.g. to reuse a key). */
  fetch: (signal: AbortSignal, previous: C | undefined) => Promise<C>;
  /** Runs once on close() with the last credential (logout, delete). */
  dispose?: ((last: C | undefined) => Promise<void> | void) | undefined;
  /** Called with each refresh error (the cached credential keeps being served while valid). */
  onError?: ((error: unknown) => void) | undefined;
  /** Called with each {@link RefreshEvent}; a throwing listener is logged and ignored. */
  onEvent?: ((event: RefreshEvent) => void) | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  /**
   * An overall bound on one fetch (all its requests and retries): when it passes, the fetch's signal is aborted and
   * its waiters get a retryable `TIMEOUT` error. Default: none (each request of the fetch has its own timeout).
   */
  fetchTimeoutMs?: number | undefined;
}

/** A CredentialProvider plus a cheap synchronous snapshot. @public */
export interface RefreshingProvider<C extends Credential> extends CredentialProvider<C> {
  /** The cached credential if it is still valid, without any I/O. */
  peek(): C | undefined;
}

function describe(error: unknown): { code: string; message: string } {
  if (error instanceof IdentityError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: error.name, message: error.message };
  return { code: 'UNKNOWN', message: typeof error };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A duration for messages: "3 days", "5 hours", "90 s". */
function span(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
  ];
  for (const [size, unit] of units) {
    if (ms >= 2 * size) return `${Math.floor(ms / size)} ${unit}s`;
  }
  return `${Math.round(ms / 1000)} s`;
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
 * - The first `get()` fetches; concurrent callers share that one fetch. While no valid credential is cached, a
 *   fetch is retried at once on retryable errors as `retry.initial` allows (default: not at all).
 * - A cached credential is returned without I/O until its refresh time ({@link RefreshOptions}: spread at random
 *   over a wide part of the refresh interval, never after its latest point); between the refresh time and expiry it
 *   is still returned at once while a refresh runs in the background (and, with `refresh.background`, a timer starts
 *   that refresh before anyone asks). An expired credential is never returned: callers then wait for the fetch.
 * - A credential without `expiresAt` is never refreshed, except by `get({ forceRefresh: true })`, which joins a
 *   fetch already in flight or starts one, and rejects when that fetch fails.
 * - A failed refresh is reported to `onError`, `onEvent` and `logger.warn` (provider name, error code and message
 *   only); the cached credential keeps being served while valid and the refresh is tried again, once per backoff
 *   ({@link RefreshRetryOptions}: minutes to hours while the credential has long to live, tighter as expiry nears).
 *   When the next attempt would start after the credential expired, the error reported is
 *   `EXPIRES_BEFORE_NEXT_ATTEMPT` (the fetch's error as its cause). Once no valid credential is cached, `get()`
 *   rejects with the fetch's error.
 * - With `refresh.background`, a provider whose cached credential has expired keeps trying on its own (so a
 *   subscriber that never calls `get()`, such as a TLS server, recovers when the server does): each failure is
 *   reported as above, with `nextAttemptAt`, and the next attempt comes after a backoff drawn as for a refresh but
 *   counted from the expiry and not bounded by validity left (within `retry.baseDelayMs`, then twice that, up to
 *   `retry.maxDelayMs`). A `get()` meanwhile fetches at once.
 * - Once the cached credential's validity falls under `refresh.expiringThresholdMs`, one `expiring` event and one
 *   warning are emitted for it.
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
 *   refresh: { spread: 0.5 },                  // refresh somewhere in the second half of the refresh interval
 *   retry: { baseDelayMs: 5 * 60_000 },        // a failed refresh is tried again within 5 minutes, then 10, 20...
 *   onEvent: (e) => console.log(e.type, e.code ?? '', e.expiresAt?.toISOString() ?? ''),
 * });
 * const token = await tokens.get();
 * tokens.subscribe((t) => console.log('new token until', t.expiresAt));
 * await tokens.close();
 * ```
 * @public
 */
export function refreshingProvider<C extends Credential>(options: RefreshingProviderOptions<C>): RefreshingProvider<C> {
  if (options === null || typeof options !== 'object') throw invalidOption('options', 'an object', options);
  const { name, dispose, onError, onEvent } = options;
  // Every log line goes through safeLogger, which scrubs registered secrets even from error messages.
  const logger = safeLogger(options.logger);
  if (typeof name !== 'string' || name.trim() === '') throw invalidOption('name', 'a non-empty string', name);
  const fetchCredential = options.fetch;
  if (typeof fetchCredential !== 'function') throw invalidOption('fetch', 'a function', fetchCredential);
  if (dispose !== undefined && typeof dispose !== 'function') throw invalidOption('dispose', 'a function', dispose);
  if (onEvent !== undefined && typeof onEvent !== 'function') throw invalidOption('onEvent', 'a function', onEvent);
  const policy = resolveRefresh(options.refresh);
  const backoff = resolveRetry(options.retry);
  const fetchTimeoutMs = options.fetchTimeoutMs;
  if (fetchTimeoutMs !== undefined && !(typeof fetchTimeoutMs === 'number' && fetchTimeoutMs > 0)) {
    throw invalidOption('fetchTimeoutMs', 'a number > 0', fetchTimeoutMs);
  }
  const { background, expiryMarginMs } = policy;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;

  // The cached credential, a resolved promise of it (the hot path returns this very object), and its schedule.
  let current: C | undefined;
  let currentPromise: Promise<C> | undefined;
  /** Until when `get()` serves the cached credential without starting a fetch; never after `usableUntilMs`. */
  let refreshAtMs = Number.NEGATIVE_INFINITY;
  /**
   * When the background timer starts the next fetch: `refreshAtMs` while the cached credential is valid; after it
   * expired, the next retry (so the hot path's `refreshAtMs` never moves past expiry).
   */
  let fetchAtMs = Number.POSITIVE_INFINITY;
  let usableUntilMs = Number.NEGATIVE_INFINITY;
  let expiresAtMs = Number.POSITIVE_INFINITY;
  /** The refresh interval of the cached credential (issue → latest refresh point): one refresh cycle. */
  let cycleMs = Number.POSITIVE_INFINITY;
  /** When to emit `expiring` for the cached credential; Infinity once emitted (or never). */
  let expiringAtMs = Number.POSITIVE_INFINITY;
  // The current failure streak.
  let failures = 0;
  let streakStartMs = 0;
  let cycleAttempt = 0;
  /** Failed fetches since the cached credential expired (the background retry's backoff doubles with them). */
  let expiredFailures = 0;

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
    new CoreError('CLOSED', `${name}: the provider was closed; create a new one to get credentials`);

  function emit(event: Omit<RefreshEvent, 'provider'>): void {
    if (onEvent === undefined) return;
    try {
      onEvent({ provider: name, ...event });
    } catch (error) {
      const { code, message } = describe(error);
      logger.warn({ provider: name, code, message }, `${name}: an onEvent listener threw; ignored`);
    }
  }

  function clearTimer(): void {
    if (timerArmed) clock.clearTimeout(timer);
    timerArmed = false;
    timer = undefined;
  }

  /** Arms the one timer for the next thing due: the refresh (or retry), or the `expiring` notice. */
  function arm(): void {
    clearTimer();
    const atMs = Math.min(fetchAtMs, expiringAtMs);
    if (!background || closed || current === undefined || atMs === Number.POSITIVE_INFINITY) return;
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
    const now = clock.now();
    if (now < timerAtMs) {
      arm();
      return;
    }
    checkExpiring(now);
    // A fetch in flight (started by a get()) re-arms the timer when it settles.
    if (now < fetchAtMs) arm();
    else if (inflight === undefined) void startFetch();
  }

  function checkExpiring(now: number): void {
    if (now < expiringAtMs || current === undefined) return;
    expiringAtMs = Number.POSITIVE_INFINITY;
    const left = Math.max(0, expiresAtMs - now);
    const nextAttemptAt = Number.isFinite(refreshAtMs) && refreshAtMs > now ? refreshAtMs : undefined;
    logger.warn(
      {
        provider: name,
        expiresAt: iso(expiresAtMs),
        failures,
        ...(nextAttemptAt === undefined ? {} : { nextAttemptAt: iso(nextAttemptAt) }),
      },
      `${name}: the credential expires at ${iso(expiresAtMs)}, in ${span(left)}; ` +
        (failures > 0
          ? `refreshing it has failed ${failures} time${failures === 1 ? '' : 's'} since ${iso(streakStartMs)}`
          : 'no refresh has replaced it yet'),
    );
    emit({
      type: 'expiring',
      expiresAt: new Date(expiresAtMs),
      ...(nextAttemptAt === undefined ? {} : { nextAttemptAt: new Date(nextAttemptAt) }),
    });
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

  function accept(credential: C): void {
    if (credential === null || typeof credential !== 'object') {
      // Only the type: a fetch that wrongly returns the raw secret (a token string) must not put it in the message.
      const got = credential === null ? 'null' : typeof credential;
      throw new CoreError('INVALID_RESPONSE', `${name}: fetch returned ${got}, not a credential object`);
    }
    const expiresAt = credential.expiresAt;
    if (expiresAt !== undefined && !(expiresAt instanceof Date && Number.isFinite(expiresAt.getTime()))) {
      throw new CoreError('INVALID_RESPONSE', `${name}: the fetched credential's expiresAt is not a valid Date`);
    }
    const now = clock.now();
    const expires = expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt.getTime();
    const usableUntil = expires - expiryMarginMs;
    if (usableUntil <= now) {
      throw new CoreError(
        'EXPIRED',
        `${name}: the fetched credential expires at ${(expiresAt as Date).toISOString()}, ` +
          `which is not after now (${new Date(now).toISOString()})` +
          (expiryMarginMs > 0 ? ` plus the ${expiryMarginMs} ms expiry margin` : '') +
          '; check the server and local clocks',
      );
    }
    const isNew = credential !== current;
    const replaces = current !== undefined && isNew;
    const first = current === undefined;
    const schedule = refreshTime(now, expires, policy, first, random);
    current = credential;
    currentPromise = Promise.resolve(credential);
    usableUntilMs = usableUntil;
    expiresAtMs = expires;
    refreshAtMs = Math.min(usableUntil, schedule.atMs);
    fetchAtMs = refreshAtMs;
    cycleMs = schedule.latestMs - now;
    const threshold = policy.expiringThresholdMs ?? (expires - schedule.latestMs) / 2;
    expiringAtMs = Number.isFinite(expires) ? expires - threshold : Number.POSITIVE_INFINITY;
    failures = 0;
    cycleAttempt = 0;
    expiredFailures = 0;
    logger.debug(
      {
        provider: name,
        expiresAt: expiresAt?.toISOString(),
        refreshAt: Number.isFinite(refreshAtMs) ? iso(refreshAtMs) : undefined,
      },
      `${name}: new credential`,
    );
    if (replaces) {
      emit({
        type: 'refreshed',
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(Number.isFinite(refreshAtMs) ? { nextAttemptAt: new Date(refreshAtMs) } : {}),
      });
    }
    checkExpiring(now);
    arm();
    // A fetch may hand back the object it already had (an upstream cache); that is not a new credential.
    if (isNew) notify(credential);
  }

  /**
   * A failed fetch: count it, and while a valid credential is cached, push the next attempt out by a backoff. Once
   * the cached credential has expired, a background provider keeps trying: after a backoff that doubles from
   * `retry.baseDelayMs` with each failure since the expiry, up to `retry.maxDelayMs` (no validity left to bound it).
   * Returns what to report: the fetch's error, or EXPIRES_BEFORE_NEXT_ATTEMPT around it.
   */
  function recordFailure(error: unknown, now: number): { reported: unknown; servingCached: boolean } {
    if (failures === 0) streakStartMs = now;
    failures++;
    const servingCached = current !== undefined && now < usableUntilMs;
    if (!servingCached) {
      cycleAttempt++;
      if (current !== undefined) {
        expiredFailures++;
        fetchAtMs = now + refreshBackoff(expiredFailures, Number.POSITIVE_INFINITY, backoff, random);
      }
      return { reported: error, servingCached };
    }
    const cycle = Number.isFinite(cycleMs) && cycleMs > 0 ? 1 + Math.floor((now - streakStartMs) / cycleMs) : failures;
    cycleAttempt = Math.max(cycleAttempt, cycle);
    const next = now + refreshBackoff(failures, usableUntilMs - now, backoff, random);
    refreshAtMs = Math.min(next, usableUntilMs);
    fetchAtMs = refreshAtMs;
    if (next < usableUntilMs) return { reported: error, servingCached };
    const { code } = describe(error);
    const reported = new CoreError(
      'EXPIRES_BEFORE_NEXT_ATTEMPT',
      `${name}: refreshing failed (${code}) and the cached credential expires at ${iso(expiresAtMs)}, ` +
        'before another attempt can be made; check the server it is fetched from',
      { cause: error },
    );
    return { reported, servingCached };
  }

  function fail(error: unknown): void {
    const now = clock.now();
    const { reported, servingCached } = recordFailure(error, now);
    try {
      onError?.(reported);
    } catch {
      // A broken error hook must not break the provider.
    }
    const { code, message } = describe(reported);
    // Whenever a credential was ever cached, a background provider has its next attempt scheduled (expired or not).
    const retrying = background && current !== undefined;
    const nextAttemptAt = retrying ? fetchAtMs : undefined;
    logger.warn(
      {
        provider: name,
        code,
        message,
        attempt: cycleAttempt,
        failures,
        ...(nextAttemptAt === undefined ? {} : { nextAttemptAt: iso(nextAttemptAt) }),
      },
      servingCached
        ? `${name}: refresh failed; serving the cached credential while it is valid`
        : current !== undefined
          ? `${name}: the cached credential has expired and fetching a new one failed`
          : `${name}: fetching a credential failed`,
    );
    emit({
      type: 'refresh-failed',
      attempt: cycleAttempt,
      failures,
      code,
      ...(nextAttemptAt === undefined ? {} : { nextAttemptAt: new Date(nextAttemptAt) }),
      ...(current !== undefined && Number.isFinite(expiresAtMs) ? { expiresAt: new Date(expiresAtMs) } : {}),
    });
    if (servingCached) checkExpiring(now);
    if (retrying) arm();
  }

  /** One fetch; while nothing valid is cached, retried at once as `retry.initial` allows. */
  function runFetch(signal: AbortSignal, previous: C | undefined): Promise<C> {
    const { initial } = backoff;
    if (initial.maxAttempts <= 1 || (current !== undefined && clock.now() < usableUntilMs)) {
      // The async wrapper turns a synchronous throw from fetch into a rejection.
      return (async () => fetchCredential(signal, previous))();
    }
    return retryOperation((_attempt, s) => fetchCredential(s ?? signal, previous), {
      ...initial,
      signal,
      clock,
      random,
      onRetry: ({ attempt, delayMs, error }) =>
        logger.debug(
          { provider: name, attempt, delayMs, code: describe(error).code },
          `${name}: fetch attempt ${attempt} failed; retrying in ${Math.round(delayMs)} ms`,
        ),
    });
  }

  function startFetch(): Promise<C> {
    if (inflight !== undefined) return inflight.promise;
    clearTimer();
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
        d.reject(error);
        return;
      }
      d.resolve(credential);
    };
    const onFailure = (error: unknown): void => {
      if (!finish() || closed) return;
      fail(error);
      d.reject(error);
    };
    if (fetchTimeoutMs !== undefined) {
      timeout = clock.setTimeout(() => {
        timeout = undefined;
        fetchTimer = undefined;
        const error = new CoreError(
          'TIMEOUT',
          `${name}: fetching a credential took longer than fetchTimeoutMs (${fetchTimeoutMs} ms)`,
          { retryable: true },
        );
        ac.abort(error);
        onFailure(error);
      }, fetchTimeoutMs);
      fetchTimer = timeout;
    }
    fetchSettled = runFetch(ac.signal, previous).then(onValue, onFailure);
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
      checkExpiring(now);
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
    if (typeof listener !== 'function') throw invalidOption('subscribe(listener)', 'a function', listener);
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
    fetchAtMs = Number.POSITIVE_INFINITY;
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

  const provider = {
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
  return withAsyncDispose(provider);
}
