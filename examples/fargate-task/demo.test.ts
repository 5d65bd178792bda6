/**
 * Runs the demo the way CI and a person do: as a child process (`node --import tsx examples/fargate-task/main.ts`),
 * on the embedded emulators. Checks the exit status, each step's ✔ line, and that no secret of the run (received
 * from the child over IPC) was printed. A second run with a broken ZTS checks the failure path.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { STEPS } from './demo.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const main = fileURLToPath(new URL('./main.ts', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  secrets: string[];
}

function runMain(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1', ECS_IDENTITY_DEMO_REPORT_SECRETS: '1' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stdout = '';
    let stderr = '';
    const secrets: string[] = [];
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
    });
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString('utf8');
    });
    child.on('message', (m) => secrets.push(...((m as { secrets?: string[] }).secrets ?? [])));
    // Bounded: a hung demo fails the test instead of hanging CI.
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, secrets });
    });
  });
}

/** The secret and, for a PEM key, each line of its body (a partial print would show a line). */
function pieces(secret: string): string[] {
  if (!secret.includes('-----BEGIN')) return [secret];
  return secret.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
}

let ok: Run;
let broken: Run;

beforeAll(async () => {
  // Both runs at once: the suite's time is one demo, not two.
  [ok, broken] = await Promise.all([runMain([]), runMain(['--fault', 'zts'])]);
}, 40_000);

describe('the demo (child process)', () => {
  it('exits 0 and prints a ✔ line with a time for each of the six steps, in order', () => {
    expect(ok.stderr).not.toMatch(/demo failed/);
    expect(ok.code).toBe(0);
    let last = -1;
    STEPS.forEach((title, i) => {
      const line = new RegExp(
        `^✔ ${i + 1}\\. ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\d+(\\.\\d)? m?s$`,
        'm',
      );
      const at = ok.stdout.search(line);
      expect(at, `step ${i + 1} (${title})`).toBeGreaterThan(last);
      last = at;
    });
    expect(ok.stdout).toMatch(/^✔ all 6 steps passed in /m);
    expect(ok.stdout).not.toContain('✖');
  });

  it('prints the key facts: task, consul meta and replication, SPIFFE id, both serials, shutdown checks', () => {
    expect(ok.stdout).toMatch(/cluster +arn:aws:ecs:us-west-2:123456789012:cluster\/demo/);
    expect(ok.stdout).toMatch(/meta +token created via login: .*consul\.hashicorp\.com\/task-id/);
    expect(ok.stdout).toMatch(/replication +readable with \?stale after [2-9]\d* self-reads/);
    expect(ok.stdout).toMatch(/spiffe id +spiffe:\/\//);
    expect(ok.stdout).toMatch(/access token +verified against the JWKS/);
    const before = /before +serial ([0-9A-F]+)/.exec(ok.stdout)?.[1];
    const after = /after +serial ([0-9A-F]+)/.exec(ok.stdout)?.[1];
    expect(before).toBeTruthy();
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    expect(ok.stdout).toMatch(/not restarted/);
    expect(ok.stdout).toMatch(/logged out \(self-read now CONSUL_TOKEN_NOT_FOUND\)/);
    expect(ok.stdout).toMatch(/deleted \(DELETE answered 204; no record left\)/);
  });

  it('shows progress as a plain "…" line when not on a terminal, and no colour with NO_COLOR', () => {
    expect(ok.stdout).toMatch(/^… 3\. athenz register: generating an RSA 2048 key/m);
    expect(ok.stdout).not.toContain('\x1b[');
  });

  it('never prints a secret of the run (AWS keys, auth token, Consul SecretID, private key, access token)', () => {
    // The agent token, the AWS secret key and session token, the SecretID, the private key and the access token.
    expect(ok.secrets.length).toBeGreaterThanOrEqual(6);
    expect(ok.secrets.some((s) => s.includes('PRIVATE KEY'))).toBe(true);
    const printed = ok.stdout + ok.stderr;
    for (const secret of ok.secrets) {
      for (const piece of pieces(secret)) expect(printed.includes(piece), 'a secret was printed').toBe(false);
    }
    const printedBroken = broken.stdout + broken.stderr;
    for (const secret of broken.secrets) {
      for (const piece of pieces(secret)) expect(printedBroken.includes(piece), 'a secret was printed').toBe(false);
    }
  });

  it('with a broken ZTS: exit 1, the ✖ line and the failing step named with the error code', () => {
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/^✔ 2\. consul login/m);
    expect(broken.stdout).toMatch(/^✖ 3\. athenz register/m);
    expect(broken.stdout).not.toMatch(/^✔ 3\./m);
    expect(broken.stderr).toMatch(/^demo failed at step 3 \(athenz register\): ZTS_\w+: .*answered 403/m);
  });
});
