import { IdentityError, registerSecret } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { describeError, formatMs, Reporter, StepFailure } from './report.js';

function sink(isTTY = false) {
  const chunks: string[] = [];
  return { out: { isTTY, write: (c: string) => chunks.push(c) }, text: () => chunks.join('') };
}

function clock(...times: number[]) {
  let i = 0;
  return () => times[Math.min(i++, times.length - 1)]!;
}

describe('Reporter', () => {
  it('prints ✔, the step, its time and aligned facts; no colour when not a TTY', async () => {
    const s = sink();
    const r = new Reporter({ out: s.out, env: {}, now: clock(0, 42) });
    const v = await r.step(1, 'task identity', async () => ({
      value: 7,
      facts: [
        ['region', 'us-west-2'],
        ['task id', 'abc'],
      ],
    }));
    expect(v).toBe(7);
    expect(s.text()).toBe('✔ 1. task identity 42 ms\n    region   us-west-2\n    task id  abc\n');
    expect(r.times).toEqual([{ step: 1, title: 'task identity', ms: 42, ok: true }]);
  });

  it('on failure prints ✖ with the error code and throws a StepFailure naming the step', async () => {
    const s = sink();
    const r = new Reporter({ out: s.out, env: {}, now: clock(0, 1500) });
    const error = await r
      .step(3, 'athenz register', async () => {
        throw new IdentityError('ZTS_ATTESTATION_REJECTED', 'no launch permission');
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepFailure);
    expect(error).toMatchObject({
      step: 3,
      title: 'athenz register',
      reason: 'ZTS_ATTESTATION_REJECTED: no launch permission',
    });
    expect(s.text()).toBe('✖ 3. athenz register 1.5 s\n    ZTS_ATTESTATION_REJECTED: no launch permission\n');
    expect(r.times[0]?.ok).toBe(false);
  });

  it('progress: one plain "…" line off a terminal', async () => {
    const s = sink(false);
    const r = new Reporter({ out: s.out, env: {}, now: clock(0, 5) });
    await r.step(3, 'athenz register', async (p) => {
      p.start('generating a key');
      p.start('generating a key'); // idempotent
      return { value: undefined, facts: [] };
    });
    expect(s.text()).toBe('… 3. athenz register: generating a key\n✔ 3. athenz register 5 ms\n');
  });

  it('progress on a TTY: a spinner redrawn in place and erased, colours on', async () => {
    const s = sink(true);
    const r = new Reporter({ out: s.out, env: {}, now: clock(0, 5) });
    await r.step(3, 'athenz register', async (p) => {
      p.start('generating a key');
      await new Promise((resolve) => setTimeout(resolve, 200));
      return { value: undefined, facts: [] };
    });
    const text = s.text();
    const frames = text.split('\r\x1b[2K').filter((f) => f.includes('generating a key'));
    expect(frames.length).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain('…');
    expect(text).toContain('\r\x1b[2K\x1b[32m✔\x1b[0m'); // the spinner line is erased before the ✔ line
  });

  it('pads titles so the times line up, and cuts the spinner line to the terminal width', async () => {
    const chunks: string[] = [];
    const out = { isTTY: true, columns: 40, write: (c: string) => chunks.push(c) };
    const r = new Reporter({ out, env: { NO_COLOR: '1' }, now: clock(0, 5, 10, 15), titleWidth: 10 });
    await r.step(1, 'short', async () => ({ value: undefined, facts: [] }));
    await r.step(2, 'athenz', async (p) => {
      p.start('a very long message that would wrap on a narrow terminal and break the erase');
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { value: undefined, facts: [] };
    });
    const text = chunks.join('');
    expect(text).toContain('✔ 1. short      5 ms\n');
    const frames = text.split('\r\x1b[2K').filter((f) => f.includes('athenz:'));
    expect(frames.length).toBeGreaterThan(0);
    for (const f of frames) expect([...f].length).toBeLessThanOrEqual(40);
    expect(frames[0]).toContain('…');
  });

  it('NO_COLOR turns colours off on a TTY (the spinner stays)', async () => {
    const s = sink(true);
    const r = new Reporter({ out: s.out, env: { NO_COLOR: '1' }, now: clock(0, 5) });
    expect(r.color).toBe(false);
    expect(r.tty).toBe(true);
    await r.step(1, 'x', async () => ({ value: undefined, facts: [] }));
    expect(s.text()).toBe('✔ 1. x 5 ms\n');
  });
});

describe('describeError', () => {
  it('gives CODE: message and scrubs registered secrets', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY-demo-test';
    registerSecret(secret);
    expect(describeError(new IdentityError('INVALID_CREDENTIALS', `bad key ${secret}`))).toBe(
      'INVALID_CREDENTIALS: bad key [REDACTED]',
    );
    expect(describeError(new TypeError('boom'))).toBe('TypeError: boom');
  });
});

describe('formatMs', () => {
  it('uses ms below a second and one decimal of seconds above', () => {
    expect(formatMs(12.4)).toBe('12 ms');
    expect(formatMs(1449)).toBe('1.4 s');
  });
});
