/**
 * Retrying an operation: exponential backoff with full jitter, bounded by attempts and an overall deadline.
 * @packageDocumentation
 */
import { abortedError, type Clock, sleep, systemClock } from './clock.js';
import { type CoreErrorCode, errorClass, IdentityError } from './errors.js';

const CoreError = errorClass<CoreErrorCode>();

/** @public */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number | undefined;
  /** First backoff cap in ms (full jitter: the delay is random in [0, min(maxDelayMs, baseDelayMs * 2^n)]). Default 100. */
  baseDelayMs?: number | undefined;
  /** Default 20_000. */
  maxDelayMs?: number | undefined;
  /** Overall deadline in ms from the first attempt; no attempt starts (and no sleep runs) past it. */
  deadlineMs?: number | undefined;
  /**
   * The longest wait a server's `Retry-After` (an error's `retryAfterMs`) can impose; a longer one is cut to this.
   * Default 60_000. With `deadlineMs`, a wait that would end past the deadline is not started at all.
   */
  maxRetryAfterMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Which errors to retry; default: `IdentityError` with `retryable === true`. */
  isRetryable?: ((error: unknown) => boolean) | undefined;
  /** Called before each sleep. */
  onRetry?: ((info: { error: unknown; attempt: number; delayMs: number }) => void) | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
}

/** The default retry predicate: an IdentityError marked retryable (429, 5xx, network, timeout). @public */
export function isRetryableError(error: unknown): boolean {
  return error instanceof IdentityError && error.retryable;
}

function checkCount(name: string, value: number | undefined, fallback: number, min: number, integer: boolean): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new CoreError(
      'INVALID_ARGUMENT',
      `retry: ${name} must be ${integer ? 'an integer' : 'a number'} >= ${min}, got ${String(value)}`,
    );
  }
  return value;
}

function retryAfterOf(error: unknown): number {
  const v = (error as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

/** The default cap on a server's `Retry-After` (one minute). @public */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * The backoff before attempt `attempt + 1`: full jitter over `min(maxDelayMs, baseDelayMs * 2^(attempt-1))`, raised
 * to the server's `retryAfterMs` when that is longer (the caller caps `retryAfterMs` first).
 * @internal
 */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  retryAfterMs: number,
  random: () => number,
): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.max(retryAfterMs, random() * cap);
}

/**
 * Calls `fn` until it succeeds, a non-retryable error is thrown, attempts run out or the deadline passes.
 * `fn` gets the attempt number (1-based) and a signal, so each attempt can rebuild its request.
 * An error's `retryAfterMs` (from Retry-After) is honoured as the minimum delay, up to `maxRetryAfterMs`; a delay that
 * would end past `deadlineMs` is not slept: the error is thrown at once.
 * When attempts or the deadline run out, the last error is thrown as-is. When `signal` fires, the wait stops at once
 * with an ABORTED IdentityError.
 *
 * @example
 * ```ts
 * const body = await retry((attempt, signal) => http.request({ url, signal }), {
 *   maxAttempts: 5,
 *   deadlineMs: 30_000,
 * });
 * ```
 * @public
 */
export async function retry<T>(
  fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const maxAttempts = checkCount('maxAttempts', options.maxAttempts, 3, 1, true);
  const baseDelayMs = checkCount('baseDelayMs', options.baseDelayMs, 100, 0, false);
  const maxDelayMs = checkCount('maxDelayMs', options.maxDelayMs, 20_000, 0, false);
  const deadlineMs = checkCount('deadlineMs', options.deadlineMs, Number.POSITIVE_INFINITY, 0, false);
  const maxRetryAfterMs = checkCount('maxRetryAfterMs', options.maxRetryAfterMs, DEFAULT_MAX_RETRY_AFTER_MS, 0, false);
  const { signal, onRetry } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const isRetryable = options.isRetryable ?? isRetryableError;
  const deadline = clock.now() + deadlineMs;

  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(signal, 'retry');
    try {
      return await fn(attempt, signal);
    } catch (error) {
      if (signal?.aborted) {
        throw IdentityError.is(error, 'ABORTED') ? error : abortedError(signal, 'retry');
      }
      if (attempt >= maxAttempts || !isRetryable(error)) throw error;
      // A server cannot make us wait longer than maxRetryAfterMs (a `Retry-After: 3600` must not hold a get() an hour).
      const retryAfterMs = Math.min(retryAfterOf(error), maxRetryAfterMs);
      const delayMs = backoffDelay(attempt, baseDelayMs, maxDelayMs, retryAfterMs, random);
      // Sleeping would be wasted if the next attempt could only start after the deadline.
      if (clock.now() + delayMs >= deadline) throw error;
      onRetry?.({ error, attempt, delayMs });
      await sleep(delayMs, signal, clock);
    }
  }
}

/**
 * Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from `nowMs`; undefined if absent/invalid.
 * A date in the past gives 0.
 *
 * @example
 * ```ts
 * parseRetryAfter('120', Date.now()); // 120000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.now()); // 0 (in the past)
 * ```
 * @public
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^-?\d+$/.test(v)) {
    const seconds = Number(v);
    return Number.isSafeInteger(seconds) ? Math.max(0, seconds) * 1000 : undefined;
  }
  // HTTP dates (IMF-fixdate and the obsolete RFC 850 / asctime forms) all name a weekday or month in letters;
  // requiring one keeps Date.parse from accepting strings like "1.5" or "2026".
  if (!/[A-Za-z]{3}/.test(v)) return undefined;
  // HTTP dates are always GMT; the asctime form does not say so, and Date.parse would read it as local time.
  const at = Date.parse(/\b(GMT|UTC)\b|[+-]\d{4}$/i.test(v) ? v : `${v} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
