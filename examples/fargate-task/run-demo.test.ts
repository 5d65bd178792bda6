/**
 * runDemo called in-process: a broken emulator fails the step that depends on it, names it, prints its ✖ line with
 * the error code, and skips the steps after it.
 */
import { describe, expect, it } from 'vitest';
import { type DemoFault, runDemo } from './demo.js';

async function run(fault: DemoFault) {
  const chunks: string[] = [];
  const result = await runDemo({ out: { write: (c: string) => chunks.push(c) }, env: {}, fault });
  return { result, text: chunks.join('') };
}

describe('runDemo with a broken emulator', () => {
  it.each([
    ['agent', 1, 'task identity', 'CREDENTIALS_UNAVAILABLE'],
    ['consul', 2, 'consul login', 'CONSUL_PERMISSION_DENIED'],
  ] as const)('--fault %s fails step %i (%s) with %s', async (fault, step, title, code) => {
    const { result, text } = await run(fault);
    expect(result.ok).toBe(false);
    expect(result.failure).toMatchObject({ step, title });
    expect(result.failure?.reason).toMatch(new RegExp(`^${code}: `));
    expect(text).toMatch(new RegExp(`^✖ ${step}\\. ${title} +\\d`, 'm'));
    expect(text).not.toMatch(new RegExp(`^✔ ${step}\\.`, 'm'));
    expect(text).not.toMatch(new RegExp(`^. ${step + 1}\\.`, 'm'));
    expect(result.steps.map((s) => s.ok)).toEqual([...Array(step - 1).fill(true), false]);
  });
});
