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
  /** No new attempt starts after this long. Default 60 s. */
  retryDeadlineMs?: number;
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
      deadlineMs: options.retryDeadlineMs ?? 60_000,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.random ? { random: options.random } : {}),
    });
}
