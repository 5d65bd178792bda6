/**
 * The providers' fetches retried on transient errors (429, 5xx, network, timeouts, throttled STS), each attempt
 * rebuilt from scratch: attestation credentials and CSRs are made anew per attempt.
 * @packageDocumentation
 */
import { type Clock, retry } from '@ecs-identity/core';

/** Retry settings shared by the providers. @public */
export interface FetchRetryOptions {
  /** Attempts per fetch, the first included. Default 3. */
  maxAttempts?: number;
  /** First backoff cap (full jitter, doubling; `Retry-After` honoured). Default 500 ms. */
  retryBaseDelayMs?: number;
  /** No new attempt starts after this long (nor after `fetchTimeoutMs`). Default 60 s. */
  retryDeadlineMs?: number;
  /**
   * The overall bound on one fetch, every attempt and wait included (core's `fetchTimeoutMs`): when it passes, the
   * fetch is aborted and `get()` rejects with a retryable `TIMEOUT`. Default 90 s.
   */
  fetchTimeoutMs?: number;
}

/** The default of {@link FetchRetryOptions.fetchTimeoutMs}: the 60 s retry window plus one attempt's own timeouts. */
const DEFAULT_FETCH_TIMEOUT_MS = 90_000;

/** The overall bound on one fetch. @internal */
export function fetchTimeoutOf(options: FetchRetryOptions): number {
  return options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
}

/** @internal */
export function withRetry<T, P>(
  fetch: (signal: AbortSignal, previous: P | undefined) => Promise<T>,
  options: FetchRetryOptions & { clock?: Clock; random?: () => number },
): (signal: AbortSignal, previous: P | undefined) => Promise<T> {
  return (signal, previous) =>
    retry((_attempt, s) => fetch(s ?? signal, previous), {
      signal,
      maxAttempts: options.maxAttempts ?? 3,
      baseDelayMs: options.retryBaseDelayMs ?? 500,
      maxDelayMs: 10_000,
      deadlineMs: Math.min(options.retryDeadlineMs ?? 60_000, fetchTimeoutOf(options)),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
}
