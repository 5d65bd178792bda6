// CONTRACT STUB (owned by the core-refresh helper): replace bodies, keep the exported names and shapes.
import type { Clock } from './clock.js';
/** @public */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts?: number;
  /** First backoff cap in ms (full jitter: the delay is random in [0, min(maxDelayMs, baseDelayMs * 2^n)]). Default 100. */
  baseDelayMs?: number;
  /** Default 20_000. */
  maxDelayMs?: number;
  /** Overall deadline in ms from the first attempt; no attempt starts (and no sleep runs) past it. */
  deadlineMs?: number;
  signal?: AbortSignal;
  /** Which errors to retry; default: `IdentityError` with `retryable === true`. */
  isRetryable?: (error: unknown) => boolean;
  /** Called before each sleep. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number }) => void;
  clock?: Clock;
  random?: () => number;
}
/**
 * Calls `fn` until it succeeds, a non-retryable error is thrown, attempts run out or the deadline passes.
 * `fn` gets the attempt number (1-based) and a signal, so each attempt can rebuild its request.
 * An error's `retryAfterMs` (from Retry-After) is honoured as the minimum delay.
 * When attempts or the deadline run out, the last error is thrown as-is.
 * @public
 */
export declare function retry<T>(
  fn: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  options?: RetryOptions,
): Promise<T>;
/** Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from `nowMs`; undefined if absent/invalid. @public */
export declare function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined;
