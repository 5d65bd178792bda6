/**
 * Smoke test: the example runs as a child process on its own emulators (`--emulators`) and the AWS SDK's STS client,
 * signing with the container credentials, gets the task role's identity back from the strict fake AWS.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startExample } from '../shared/child.js';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const example = startExample(main, args);
  const code = await example.exited;
  return { code, out: example.output() };
}

describe('aws-sdk-credentials (child process)', () => {
  it('GetCallerIdentity twice with the task role, one credential fetch, exit 0', async () => {
    const { code, out } = await run(['--emulators']);
    expect(out).toContain('running on the embedded emulators (--emulators)');
    expect(code).toBe(0);
    const arns = [...out.matchAll(/GetCallerIdentity #\d: (\S+) \(account (\d+)\)/g)];
    expect(arns).toHaveLength(2);
    for (const m of arns) {
      expect(m[1]).toMatch(/^arn:aws:sts::123456789012:assumed-role\/sports\.api-service\/[0-9a-f]+$/);
      expect(m[2]).toBe('123456789012');
    }
    expect(out).toContain('the ECS agent issued 1 credential set(s) for both calls');
    expect(out).toMatch(/access key ASIA[A-Z0-9]{16}/);
  });
});
