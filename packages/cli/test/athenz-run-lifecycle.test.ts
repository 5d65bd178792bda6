// `ecs-identity athenz run` as the sidecar production runs: the built binary as a child process against the testkit
// emulators, to its very end. Each case asserts how the process ended (its status, or the signal that killed it): a
// process that neither works nor exits is never restarted by ECS, so "still running" is the failure looked for. The
// children are killed by the helper after 30 s, which shows up as `code: null, signal: 'SIGKILL'`.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AthenzWorld, startAthenzWorld } from './emulators.js';
import { jsonLines, start, waitFor } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-cli-run-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The one stderr line a failed run ends with. */
function lastErrorLine(stderr: string): string {
  return stderr.trimEnd().split('\n').at(-1) ?? '';
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Key and certificate in siad's layout belong together. */
async function pairMatches(sia: string): Promise<boolean> {
  const cert = new X509Certificate(await readFile(join(sia, 'certs', 'sports.api.cert.pem'), 'utf8'));
  return cert.checkPrivateKey(createPrivateKey(await readFile(join(sia, 'keys', 'sports.api.key.pem'), 'utf8')));
}

describe('athenz run ends when it must (default certificate lifetime)', () => {
  let world: AthenzWorld;
  beforeAll(async () => {
    world = await startAthenzWorld(dir);
  });
  afterAll(() => world?.close());

  it('exits 1 with one error line when ZTS refuses the registration at start', async () => {
    world.zts.setFault({ match: { method: 'POST', path: '/instance' }, status: 403, message: 'refused for a test' });
    try {
      const r = await start(['athenz', 'run', ...world.args(join(dir, 'sia-refused'))], world.env).done;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      expect(lastErrorLine(r.stderr)).toMatch(/^ecs-identity: athenz run: ZTS_[A-Z_]+: .*refused for a test/);
      expect(jsonLines(r.stdout).filter((e) => e.event === 'identity')).toEqual([]);
    } finally {
      world.zts.setFault();
    }
  });

  it('exits 1 with a NETWORK line when ZTS is unreachable at start', async () => {
    const args = world.args(join(dir, 'sia-unreachable'));
    args[args.indexOf('-ztsport') + 1] = String(await closedPort());
    const r = await start(['athenz', 'run', ...args], world.env).done;
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
    expect(lastErrorLine(r.stderr)).toMatch(/^ecs-identity: athenz run: NETWORK: /);
    expect(r.stdout).toBe('');
  });

  it('SIGTERM while the task metadata is still being read: status 0 and a stopped line, not death by signal', async () => {
    // Every metadata read fails for now, so start-up sits in its retry loop, logging each retry at debug level.
    world.agent.setFault({ match: 'v4/task', status: 503 });
    try {
      const child = start(
        ['athenz', 'run', ...world.args(join(dir, 'sia-early-stop')), '-log-level', 'debug'],
        world.env,
      );
      await waitFor(() => child.stderrSoFar().includes('retrying'), 'a metadata retry');
      child.child.kill('SIGTERM');
      const r = await child.done;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
      expect(jsonLines(r.stdout)).toEqual([{ event: 'stopped', signal: 'SIGTERM' }]);
    } finally {
      world.agent.setFault(undefined);
    }
  });

  it('SIGTERM while ZTS is answering the registration: status 0 at once, without waiting for the answer', async () => {
    // The answer would come after the helper's 30 s kill: only a run that gives up the request ends by itself.
    world.zts.setFault({ match: { method: 'POST', path: '/instance' }, delayMs: 60_000, times: 1 });
    try {
      const child = start(['athenz', 'run', ...world.args(join(dir, 'sia-stop-register'))], world.env);
      await waitFor(
        () => world.zts.requests().some((e) => e.path === '/zts/v1/instance' && e.status === 0),
        'the registration to reach ZTS',
      );
      child.child.kill('SIGTERM');
      const r = await child.done;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
      expect(jsonLines(r.stdout)).toEqual([{ event: 'stopped', signal: 'SIGTERM' }]);
      expect(r.stderr).toBe('');
    } finally {
      world.zts.setFault();
    }
  });
});

describe('athenz run ends when it must (certificates that are due for refresh at once)', () => {
  let world: AthenzWorld;
  beforeAll(async () => {
    // One-minute certificates and a one-minute refresh interval against the default 7-day expectation: each new
    // certificate is due for refresh as soon as it arrives, so refreshes follow each other without waiting.
    world = await startAthenzWorld(dir, { certLifetimeMinutes: 1 });
  });
  afterAll(() => world?.close());
  const run = (sia: string, ...extra: string[]) =>
    start(['athenz', 'run', ...world.args(join(dir, sia)), '-refreshinterval', '1', ...extra], world.env);

  it('exits 1 after -fail-count failed refresh attempts, one line per failed attempt with its count', async () => {
    const child = run('sia-fail-count', '-fail-count', '3');
    await waitFor(() => child.stdoutSoFar().includes('"event":"refreshed"'), 'a refresh');
    world.zts.setFault({ match: { method: 'POST', path: '/instance/' }, status: 503, message: 'down for a test' });
    try {
      const r = await child.done;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      const failed = jsonLines(r.stdout).filter((e) => e.event === 'refresh-failed');
      expect(failed.map((e) => e.attempt)).toEqual([1, 2, 3]);
      for (const e of failed) {
        expect(e).toMatchObject({ provider: 'athenz identity', failCount: 3, code: 'ZTS_ERROR' });
        expect(String(e.message)).toContain('down for a test');
      }
      expect(lastErrorLine(r.stderr)).toMatch(
        /^ecs-identity: athenz run: ZTS_ERROR: athenz identity: 3 refresh attempts in a row failed \(-fail-count 3\)/,
      );
      // What was saved before the outage is still a usable pair.
      expect(await pairMatches(join(dir, 'sia-fail-count'))).toBe(true);
    } finally {
      world.zts.setFault();
    }
  });

  it('SIGTERM during a refresh: status 0 at once, and the saved pair still matches', async () => {
    const child = run('sia-stop-refresh');
    await waitFor(() => child.stdoutSoFar().includes('"event":"refreshed"'), 'a refresh');
    const before = world.zts.requests().length;
    world.zts.setFault({ match: { method: 'POST', path: '/instance/' }, delayMs: 60_000, times: 1 });
    try {
      await waitFor(
        () =>
          world.zts
            .requests()
            .slice(before)
            .some((e) => e.path.startsWith('/zts/v1/instance/') && e.method === 'POST' && e.status === 0),
        'a refresh to reach ZTS',
      );
      child.child.kill('SIGTERM');
      const r = await child.done;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
      expect(jsonLines(r.stdout).at(-1)).toEqual({ event: 'stopped', signal: 'SIGTERM' });
      expect(await pairMatches(join(dir, 'sia-stop-refresh'))).toBe(true);
    } finally {
      world.zts.setFault();
    }
  });
});

describe('athenz run ends when its certificate runs out', () => {
  let world: AthenzWorld;
  beforeAll(async () => {
    // ZTS's clock runs 50 s behind: its one-minute certificates have about 10 s left when they arrive.
    world = await startAthenzWorld(dir, { certLifetimeMinutes: 1, clock: { now: () => Date.now() - 50_000 } });
  });
  afterAll(() => world?.close());

  it('exits 1 when the certificate expires during an outage, however high -fail-count is', async () => {
    const child = start(
      ['athenz', 'run', ...world.args(join(dir, 'sia-expiry')), '-expirytime', '1', '-fail-count', '1000'],
      world.env,
    );
    await waitFor(() => child.stdoutSoFar().includes('"event":"identity"'), 'the first identity');
    world.zts.setFault({ match: { method: 'POST', path: '/instance/' }, status: 503, message: 'long outage' });
    try {
      const r = await child.done;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      expect(lastErrorLine(r.stderr)).toMatch(/^ecs-identity: athenz run: (EXPIRED|EXPIRES_BEFORE_NEXT_ATTEMPT): /);
      const events = jsonLines(r.stdout);
      expect(events.filter((e) => e.event === 'refresh-failed').length).toBeGreaterThan(0);
      expect(events.some((e) => e.event === 'refreshed')).toBe(false);
    } finally {
      world.zts.setFault();
    }
  });
});
