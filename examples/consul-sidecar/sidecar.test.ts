/**
 * Smoke test of the sidecar as a child process against emulators this test owns (so it can look at Consul's state):
 * the child sees the ECS variables, logs in, writes the sink file; SIGTERM logs the token out and exits 0.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTaskEmulators, type TaskEmulators } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

let world: TaskEmulators;
let dir: string;

beforeAll(async () => {
  world = await startTaskEmulators({ consulReplicationLagMs: 100 });
  dir = await mkdtemp(join(tmpdir(), 'consul-sidecar-'));
});
afterAll(async () => {
  await world?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Polls `check` every 50 ms, at most `tries` times. */
async function waitFor(check: () => Promise<boolean> | boolean, tries: number, what: string): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('consul-sidecar (child process)', () => {
  it('logs in, writes the SecretID to the sink file (0600), and logs out on SIGTERM with exit 0', async () => {
    const sink = join(dir, 'service-token');
    const env = { ...process.env, ...world.env };
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', main, '--sink', sink, '--server-id', world.names.consulServerId, '--meta', 'team=blue'],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    child.stderr?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    try {
      await waitFor(() => out.includes('ready (pid') || child.exitCode !== null, 400, 'the sidecar to be ready');
      expect(out).toContain('running in an ECS task');
      const secretId = await readFile(sink, 'utf8');
      expect(secretId).toMatch(/^[0-9a-f-]{36}$/);
      expect(((await stat(sink)).mode & 0o777).toString(8)).toBe('600');
      const token = world.consul.tokens().find((t) => t.secretId === secretId);
      expect(token?.authMethod).toBe(world.names.consulAuthMethod);
      expect(token?.description).toContain('"team":"blue"');
      expect(token?.description).toContain(`"consul.hashicorp.com/task-id":"${world.agent.taskId}"`);
      expect(token?.serviceIdentities).toEqual([{ ServiceName: world.names.consulService }]);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(world.consul.tokens().some((t) => t.secretId === secretId)).toBe(false);
      const logout = world.consul.requests.find((q) => q.path === '/v1/acl/logout');
      expect(logout?.status).toBe(200);
      expect(out).toContain('logged out of Consul; exiting');
      expect(out).not.toContain(secretId);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
