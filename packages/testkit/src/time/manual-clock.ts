/**
 * A deterministic {@link Clock} for tests: time only moves when the test says so.
 * @packageDocumentation
 */
import type { Clock } from '@ecs-identity/core';

interface ManualTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/** Whether `a` runs before `b`: earlier due time, ties in creation order. */
const before = (a: ManualTimer, b: ManualTimer): boolean => a.due < b.due || (a.due === b.due && a.id < b.id);

/**
 * A binary min-heap of timers by (due, id), so scheduling and running are O(log n) with 10,000s of timers pending
 * (a fleet simulation). Cleared timers are dropped lazily, when they reach the top or when they outnumber the live ones.
 */
class TimerHeap {
  readonly #items: ManualTimer[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(timer: ManualTimer): void {
    const items = this.#items;
    let i = items.push(timer) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as ManualTimer;
      if (!before(timer, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = timer;
  }

  peek(): ManualTimer | undefined {
    return this.#items[0];
  }

  pop(): ManualTimer | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= items.length) break;
      const r = l + 1;
      const child = r < items.length && before(items[r] as ManualTimer, items[l] as ManualTimer) ? r : l;
      const c = items[child] as ManualTimer;
      if (!before(c, last)) break;
      items[i] = c;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Keeps only the timers `keep` accepts. */
  filter(keep: (t: ManualTimer) => boolean): void {
    const kept = this.#items.filter(keep);
    this.#items.length = 0;
    for (const t of kept) this.push(t);
  }
}

const MAX_TIMERS_PER_ADVANCE = 100_000;

type Immediate = (fn: () => void) => unknown;

/** Lets queued promise callbacks (and the microtasks they queue) run, by yielding one macrotask. */
function yieldMacrotask(): Promise<void> {
  // setImmediate runs right after pending I/O callbacks in Node; browsers only have setTimeout.
  const immediate = (globalThis as { setImmediate?: Immediate }).setImmediate;
  return new Promise<void>((resolve) => {
    if (typeof immediate === 'function') immediate(resolve);
    else globalThis.setTimeout(resolve, 0);
  });
}

/**
 * A test helper: a {@link Clock} whose time only moves on {@link ManualClock.advance}. Timers run in due order
 * (ties in creation order), with time set to each timer's due time while it runs, and pending promise callbacks
 * are flushed between timers so async code scheduled by one timer has settled before the next runs.
 *
 * Not for production use: a test helper, shared by every package's tests through testkit.
 *
 * @example
 * ```ts
 * const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
 * const fetch = async () => ({ expiresAt: new Date(clock.now() + 120_000) }); // a 2-minute credential
 * const provider = refreshingProvider({ name: 'test', fetch, clock });
 * await provider.get(); // the first fetch arms the refresh timer (due within the first minute here)
 * await clock.advance(60_000); // runs that timer: a second fetch
 * ```
 * @public
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #heap = new TimerHeap();
  /** The timers not yet run or cleared, by id. */
  readonly #live = new Map<number, ManualTimer>();

  /** @param startMs - the initial time, in ms since the epoch. Default 0. */
  constructor(startMs = 0) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : ms === Number.POSITIVE_INFINITY ? ms : 0;
    const timer: ManualTimer = { id: ++this.#seq, due: this.#now + delay, fn };
    this.#live.set(timer.id, timer);
    this.#heap.push(timer);
    return timer.id;
  }

  clearTimeout(handle: unknown): void {
    if (!this.#live.delete(handle as number)) return;
    // Cleared timers stay in the heap until they surface; compact when they are most of it.
    if (this.#heap.size > 64 && this.#heap.size > 2 * this.#live.size) this.#heap.filter((t) => this.#live.has(t.id));
  }

  /** How many timers are scheduled and not yet run or cleared. */
  get pendingTimers(): number {
    return this.#live.size;
  }

  /** The due time of the earliest pending timer, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    return this.#next()?.due;
  }

  /** The earliest live timer, dropping cleared ones from the top. */
  #next(): ManualTimer | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined || this.#live.has(top.id)) return top;
      this.#heap.pop();
    }
  }

  /** Runs pending promise callbacks without moving time. */
  async flush(): Promise<void> {
    await yieldMacrotask();
  }

  /**
   * Moves time forward by `ms`, running every timer that falls due on the way (including timers that those timers
   * schedule within the window), then flushes pending promise callbacks.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.#now + ms;
    await this.flush();
    for (let ran = 0; ; ran++) {
      // A timer that keeps re-arming itself at zero delay would otherwise hang the test silently.
      if (ran >= MAX_TIMERS_PER_ADVANCE) {
        throw new Error(
          `ManualClock.advance: more than ${MAX_TIMERS_PER_ADVANCE} timers ran; is one re-arming itself?`,
        );
      }
      const next = this.#next();
      if (next === undefined || next.due > target) break;
      this.#heap.pop();
      this.#live.delete(next.id);
      this.#now = Math.max(this.#now, next.due);
      next.fn();
      await this.flush();
    }
    this.#now = target;
    await this.flush();
  }

  /** Moves time to the earliest pending timer and runs it (and anything else due then). False when none is pending. */
  async runNext(): Promise<boolean> {
    await this.flush();
    const due = this.nextTimerAt();
    if (due === undefined || due === Number.POSITIVE_INFINITY) return false;
    await this.advance(Math.max(0, due - this.#now));
    return true;
  }

  /** Sets the time without running timers (simulates the host clock jumping, e.g. after a suspend). */
  set(nowMs: number): void {
    this.#now = nowMs;
  }
}
