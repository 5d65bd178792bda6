import { describe, expect, it } from 'vitest';
import { loadOnce } from './load-once.js';

describe('loadOnce', () => {
  it('loads on the first call only, and hands every caller the same promise', async () => {
    let calls = 0;
    const load = loadOnce(async () => ({ n: ++calls }));
    expect(calls).toBe(0);
    const [a, b] = [load(), load()];
    expect(a).toBe(b);
    expect(await a).toEqual({ n: 1 });
    expect(await load()).toEqual({ n: 1 });
    expect(calls).toBe(1);
  });

  it('tries again after a failed load', async () => {
    let calls = 0;
    const load = loadOnce(async () => {
      calls++;
      if (calls === 1) throw new Error('chunk not fetched');
      return 'module';
    });
    await expect(load()).rejects.toThrow('chunk not fetched');
    expect(await load()).toBe('module');
    expect(await load()).toBe('module');
    expect(calls).toBe(2);
  });
});
