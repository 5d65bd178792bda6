// CONTRACT STUB (owned by the core-refresh helper): replace bodies, keep the exported names and shapes.
/** Injected time, so refresh and retry schedules are testable. @public */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Like setTimeout; the handle must be accepted by clearTimeout. Timers made here never keep Node alive. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
/** The real clock (Date.now, unref'd timers). @public */
export declare const systemClock: Clock;
/** Resolves after `ms` on `clock`; rejects with an ABORTED IdentityError when `signal` fires. @public */
export declare function sleep(ms: number, signal?: AbortSignal, clock?: Clock): Promise<void>;
