/**
 * An overall bound on an operation made of several requests, retries and waits: when it passes, the operation's
 * signal is aborted and the caller gets a retryable `TIMEOUT` at once, whatever the operation is still waiting on.
 * @packageDocumentation
 */
import { abortedError, type Clock, systemClock } from './clock.js';
import { type CoreErrorCode, errorClass } from './errors.js';

const CoreError = errorClass<CoreErrorCode>();

/** @public */
export interface DeadlineOptions {
  /** The bound in ms (> 0). */
  timeoutMs: number;
  /** What is bounded, for the error message (e.g. `Consul login`). */
  what: string;
  /** The caller's signal: when it fires first, the result is an `ABORTED` error, not a `TIMEOUT`. */
  signal?: AbortSignal | undefined;
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'> | undefined;
}

/**
 * Runs `fn(signal)` and settles within `timeoutMs`: when the bound passes first, `signal` is aborted (its reason is
 * the `TIMEOUT` error) and the returned promise rejects with that retryable `TIMEOUT`; a later settlement of `fn` is
 * ignored. When the caller's `signal` fires first, it rejects with `ABORTED`.
 *
 * @example
 * ```ts
 * const token = await withDeadline((signal) => loginWithRetries(signal), { timeoutMs: 60_000, what: 'Consul login' });
 * ```
 * @public
 */
export function withDeadline<T>(fn: (signal: AbortSignal) => Promise<T>, options: DeadlineOptions): Promise<T> {
  const { timeoutMs, what, signal } = options;
  if (typeof timeoutMs !== 'number' || !(timeoutMs > 0)) {
    return Promise.reject(new CoreError('INVALID_ARGUMENT', `${what}: the overall timeout must be a number of ms > 0`));
  }
  if (signal?.aborted) return Promise.reject(abortedError(signal, what));
  const clock = options.clock ?? systemClock;
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const settle = (action: () => void): void => {
      if (done) return;
      done = true;
      clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      action();
    };
    const onAbort = (): void => {
      const error = abortedError(signal as AbortSignal, what);
      controller.abort(error);
      settle(() => reject(error));
    };
    const timer = clock.setTimeout(() => {
      const error = new CoreError('TIMEOUT', `${what} did not finish within ${timeoutMs} ms`, { retryable: true });
      controller.abort(error);
      settle(() => reject(error));
    }, timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    // The async wrapper turns a synchronous throw into a rejection.
    (async () => fn(controller.signal))().then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
