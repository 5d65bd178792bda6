import { ManualClock } from '@ecs-identity/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_DELAY_MS, sleep, systemClock } from './clock.js';
import { IdentityError } from './errors.js';

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads Date.now', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('makes unref’d timers unless keepAlive is asked for', () => {
    const bg = systemClock.setTimeout(() => {}, 60_000) as { hasRef(): boolean };
    const fg = systemClock.setTimeout(() => {}, 60_000, { keepAlive: true }) as { hasRef(): boolean };
    try {
      expect(bg.hasRef()).toBe(false);
      expect(fg.hasRef()).toBe(true);
    } finally {
      systemClock.clearTimeout(bg);
      systemClock.clearTimeout(fg);
    }
  });

  it('splits delays above 2^31-1 ms instead of letting setTimeout overflow', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    systemClock.setTimeout(fn, MAX_TIMER_DELAY_MS + 5000);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(4999);
    expect(fn).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('clears a long timer in any of its segments, and never fires an infinite one', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    const h = systemClock.setTimeout(fn, MAX_TIMER_DELAY_MS * 3);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 1);
    systemClock.clearTimeout(h);
    const inf = vi.fn();
    systemClock.setTimeout(inf, Number.POSITIVE_INFINITY);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS * 4);
    expect(fn).not.toHaveBeenCalled();
    expect(inf).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('treats negative and NaN delays as 0', () => {
    vi.useFakeTimers();
    const fn = vi.fn();
    systemClock.setTimeout(fn, -10);
    systemClock.setTimeout(fn, Number.NaN);
    vi.advanceTimersByTime(0);
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('sleep', () => {
  it('resolves when the clock reaches the delay, not before', async () => {
    const clock = new ManualClock(1000);
    let done = false;
    const p = sleep(500, undefined, clock).then(() => {
      done = true;
    });
    await clock.advance(499);
    expect(done).toBe(false);
    await clock.advance(1);
    await p;
    expect(done).toBe(true);
    expect(clock.now()).toBe(1500);
  });

  it('rejects with ABORTED (signal reason as cause) and clears its timer when the signal fires', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal, clock);
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('shutdown');
    ac.abort(reason);
    const e = await p.catch((x: unknown) => x);
    expect(IdentityError.is(e, 'ABORTED')).toBe(true);
    expect((e as IdentityError).cause).toBe(reason);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once for an already aborted signal, without a timer', async () => {
    const clock = new ManualClock();
    await expect(sleep(10, AbortSignal.abort(), clock)).rejects.toMatchObject({ code: 'ABORTED' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('uses a kept-alive timer on the system clock so a script awaiting it does not exit', async () => {
    const spy = vi.spyOn(systemClock, 'setTimeout');
    try {
      await sleep(1);
      expect(spy).toHaveBeenCalledWith(expect.any(Function), 1, { keepAlive: true });
    } finally {
      spy.mockRestore();
    }
  });
});

describe('ManualClock', () => {
  it('runs due timers in due order, ties in creation order, with now set to each due time', async () => {
    const clock = new ManualClock(100);
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => seen.push(`c@${clock.now()}`), 20);
    clock.setTimeout(() => seen.push(`late@${clock.now()}`), 31);
    await clock.advance(30);
    expect(seen).toEqual(['a@110', 'b@120', 'c@120']);
    expect(clock.now()).toBe(130);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(131);
  });

  it('runs timers scheduled by timers inside the window, and flushes promise chains between them', async () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => {
          seen.push(clock.now());
          clock.setTimeout(() => seen.push(clock.now()), 5);
        });
    }, 10);
    await clock.advance(15);
    expect(seen).toEqual([10, 15]);
  });

  it('clears timers and runs the next one on runNext()', async () => {
    const clock = new ManualClock();
    const fn = vi.fn();
    const h = clock.setTimeout(fn, 10);
    clock.setTimeout(fn, 50);
    clock.clearTimeout(h);
    expect(await clock.runNext()).toBe(true);
    expect(clock.now()).toBe(50);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(await clock.runNext()).toBe(false);
  });

  it('stops a timer that re-arms itself forever instead of hanging', async () => {
    const clock = new ManualClock();
    const rearm = (): void => {
      clock.setTimeout(rearm, 0);
    };
    clock.setTimeout(rearm, 0);
    await expect(clock.advance(1)).rejects.toThrow(/re-arming/);
  });

  it('refuses to go backwards', async () => {
    await expect(new ManualClock().advance(-1)).rejects.toThrow(RangeError);
  });

  it('keeps due order (ties in creation order) across 20,000 timers, half of them cleared', async () => {
    const clock = new ManualClock();
    const ran: [number, number][] = [];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const handles: unknown[] = [];
    const dues: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const due = Math.floor(next() * 1000); // many ties
      dues.push(due);
      handles.push(clock.setTimeout(() => ran.push([due, i]), due));
    }
    for (let i = 0; i < 20_000; i += 2) clock.clearTimeout(handles[i]);
    clock.clearTimeout(handles[1]);
    clock.clearTimeout(handles[1]); // twice: no effect
    expect(clock.pendingTimers).toBe(9_999);
    expect(clock.nextTimerAt()).toBe(Math.min(...dues.filter((_, i) => i % 2 === 1 && i !== 1)));
    await clock.advance(1000);
    expect(ran).toHaveLength(9_999);
    const sorted = [...ran].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(ran).toEqual(sorted);
    expect(ran.every(([, i]) => i % 2 === 1 && i !== 1)).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
  });
});
