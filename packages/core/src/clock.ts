/**
 * Time as a dependency: refresh schedules, retry backoff and sleeps all go through a {@link Clock}, so tests drive
 * them with a manual clock instead of waiting.
 * @packageDocumentation
 */
import { type CoreErrorCode, errorClass, type IdentityError } from './errors.js';

const CoreError = errorClass<CoreErrorCode>();

/** Injected time, so refresh and retry schedules are testable. @public */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /**
   * Like setTimeout; the handle must be accepted by clearTimeout. Timers made here never keep Node alive, unless
   * `options.keepAlive` is set (as {@link sleep} does: a script awaiting a retry backoff must not exit mid-wait).
   */
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): unknown;
  clearTimeout(handle: unknown): void;
}

/** @public */
export interface TimerOptions {
  /** Keep the Node process alive until the timer fires (default false: background timers never hold a process). */
  keepAlive?: boolean | undefined;
}

/** The largest delay `setTimeout` accepts; larger values overflow and fire immediately. @internal */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A timer longer than the host allows, run as a chain of maximal timers. */
class LongTimer {
  inner: ReturnType<typeof globalThis.setTimeout> | undefined;
}

function unrefTimer(t: unknown): void {
  // Node timers have unref(); browser timers are numbers and never keep anything alive.
  const maybe = t as { unref?: () => void } | null;
  if (maybe !== null && typeof maybe === 'object' && typeof maybe.unref === 'function') maybe.unref();
}

function startTimer(fn: () => void, ms: number, keepAlive: boolean): ReturnType<typeof globalThis.setTimeout> {
  const t = globalThis.setTimeout(fn, ms);
  if (!keepAlive) unrefTimer(t);
  return t;
}

function normalizeDelay(ms: number): number {
  if (ms === Number.POSITIVE_INFINITY) return ms;
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/**
 * The real clock: `Date.now()` and unref'd host timers (unless `keepAlive`). Delays above 2^31-1 ms (about 24.8 days) are split into
 * several timers instead of overflowing; an infinite delay never fires.
 * @public
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn: () => void, ms: number, options?: TimerOptions): unknown {
    const delay = normalizeDelay(ms);
    const keepAlive = options?.keepAlive === true;
    if (delay <= MAX_TIMER_DELAY_MS) return startTimer(fn, delay, keepAlive);
    const long = new LongTimer();
    if (delay === Number.POSITIVE_INFINITY) return long;
    const arm = (remaining: number): void => {
      const step = Math.min(remaining, MAX_TIMER_DELAY_MS);
      long.inner = startTimer(() => (remaining > step ? arm(remaining - step) : fn()), step, keepAlive);
    };
    arm(delay);
    return long;
  },
  clearTimeout(handle: unknown): void {
    if (handle instanceof LongTimer) {
      if (handle.inner !== undefined) globalThis.clearTimeout(handle.inner);
      handle.inner = undefined;
      return;
    }
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
};

/** The ABORTED error for a fired signal; the signal's reason becomes the cause. @internal */
export function abortedError(signal: AbortSignal, what = 'the operation'): IdentityError {
  return new CoreError('ABORTED', `${what} was aborted by the caller's AbortSignal`, { cause: signal.reason });
}

/**
 * Resolves after `ms` on `clock`; rejects with an ABORTED IdentityError when `signal` fires.
 *
 * @example
 * ```ts
 * await sleep(250, AbortSignal.timeout(1000));
 * ```
 * @public
 */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortedError(signal, 'sleep'));
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(abortedError(signal as AbortSignal, 'sleep'));
    };
    const handle = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      { keepAlive: true },
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
