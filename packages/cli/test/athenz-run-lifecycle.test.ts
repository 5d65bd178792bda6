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

  it('exits 1 when AWS refuses the AssumeRole, not held by the ZTS connection opened meanwhile for the register', async () => {
    const before = world.zts.connections().length;
    const calls = world.zts.requests().length;
    // Answered late, so that the connection the register would have used is open (its handshake done) by then.
    world.aws.setFault({ match: 'AssumeRole', status: 403, delayMs: 300 });
    try {
      // Killed after 8 s: a connection left open would hold the process until it is closed as unused (10 s).
      const r = await start(['athenz', 'run', ...world.args(join(dir, 'sia-no-role'))], world.env, 8_000).done;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      expect(lastErrorLine(r.stderr)).toMatch(/^ecs-identity: athenz run: [A-Z_]+: .*AssumeRole/);
    } finally {
      world.aws.setFault(undefined);
    }
    expect(world.zts.connections().length).toBe(before + 1); // opened during the attestation
    expect(world.zts.requests().length).toBe(calls); // and no call came on it
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

/** The refresh-failed lines of a run. */
const failedLines = (stdout: string) => jsonLines(stdout).filter((e) => e.event === 'refresh-failed');

describe('athenz run through ZTS outages (one-minute certificates, a 6 s refresh interval)', () => {
  let world: AthenzWorld;
  beforeAll(async () => {
    world = await startAthenzWorld(dir, { certLifetimeMinutes: 1 });
  }, 60_000);
  afterAll(() => world?.close());
  // Each certificate is refreshed 3 to 6 s after it came (the first one within 6 s of start-up); a failed refresh is
  // tried again within 1.5 s, then 3 s, then 6 s (a quarter of the interval, doubling up to all of it); a refresh
  // cycle is one interval, 6 s. The certificates last a minute, so expiry plays no part here.
  const run = (sia: string, ...extra: string[]) =>
    start(['athenz', 'run', ...world.args(join(dir, sia)), '-refreshinterval', '0.1', ...extra], world.env, 60_000);
  const outage = () =>
    world.zts.setFault({ match: { method: 'POST', path: '/instance/' }, status: 503, message: 'down for a test' });

  it('exits 1 once refreshes have failed in -fail-count (2) refresh cycles, not after 2 backoff retries', async () => {
    const child = run('sia-fail-count');
    await waitFor(() => child.stdoutSoFar().includes('"event":"refreshed"'), 'a refresh');
    outage();
    try {
      const r = await child.done;
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      const failed = failedLines(r.stdout);
      // The second failure comes within 1.5 s of the first, inside the first 6 s cycle: still attempt 1. The run
      // ends at the first failure of the second cycle.
      const attempts = failed.map((e) => e.attempt);
      expect(attempts.slice(0, 2)).toEqual([1, 1]);
      expect(attempts.at(-1)).toBe(2);
      expect(attempts.filter((a) => a === 2)).toHaveLength(1);
      expect(attempts.every((a) => a === 1 || a === 2)).toBe(true);
      for (const e of failed) {
        expect(e).toMatchObject({ provider: 'athenz identity', failCount: 2, code: 'ZTS_ERROR' });
        expect(String(e.message)).toContain('down for a test');
        expect(Date.parse(String(e.nextAttemptAt))).toBeLessThan(Date.parse(String(e.expiresAt)));
      }
      expect(lastErrorLine(r.stderr)).toMatch(
        /^ecs-identity: athenz run: ZTS_ERROR: athenz identity: 2 refresh attempts in a row failed \(-fail-count 2\): last ZTS_ERROR: .*down for a test/,
      );
      // What was saved before the outage is still a usable pair.
      expect(await pairMatches(join(dir, 'sia-fail-count'))).toBe(true);
    } finally {
      world.zts.setFault();
    }
  }, 60_000);

  it('rides out an outage shorter than a refresh cycle: refresh-failed lines, then refreshed, and it runs on', async () => {
    const child = run('sia-brief-outage');
    await waitFor(() => child.stdoutSoFar().includes('"event":"refreshed"'), 'a refresh');
    const printed = () => jsonLines(child.stdoutSoFar());
    const before = printed().length;
    outage();
    try {
      // Two failures: the second is a backoff retry within 1.5 s of the first, in the same cycle.
      await waitFor(() => failedLines(child.stdoutSoFar()).length >= 2, 'two failed refreshes');
    } finally {
      world.zts.setFault();
    }
    await waitFor(
      () =>
        printed()
          .slice(before)
          .some((e) => e.event === 'refreshed'),
      'a refresh after the outage',
    );
    expect(child.child.exitCode).toBeNull();
    child.child.kill('SIGTERM');
    const r = await child.done;
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    const events = jsonLines(r.stdout).slice(before);
    const failed = events.filter((e) => e.event === 'refresh-failed');
    expect(failed.length).toBeGreaterThanOrEqual(2);
    expect(failed.every((e) => e.attempt === 1 && e.code === 'ZTS_ERROR')).toBe(true);
    const firstRefreshed = events.findIndex((e) => e.event === 'refreshed');
    expect(events.slice(0, firstRefreshed).every((e) => e.event === 'refresh-failed')).toBe(true);
    // A brief outage is no alarm: no expiring line, and on stderr only the warnings of the failed refreshes.
    expect(events.some((e) => e.event === 'expiring')).toBe(false);
    expect(events.at(-1)).toEqual({ event: 'stopped', signal: 'SIGTERM' });
    const warnings = r.stderr.trimEnd().split('\n');
    expect(warnings).toHaveLength(failed.length);
    for (const line of warnings) {
      expect(line).toMatch(/^ecs-identity: athenz run: warn: athenz identity: refresh failed; serving the cached/);
    }
    expect(await pairMatches(join(dir, 'sia-brief-outage'))).toBe(true);
  }, 60_000);

  it('SIGTERM during a refresh: status 0 at once, and the saved pair still matches', async () => {
    const child = run('sia-stop-refresh');
    await waitFor(() => child.stdoutSoFar().includes('"event":"refreshed"'), 'a refresh');
    const before = world.zts.requests().length;
    // The answer would come after the child's 60 s kill: only a run that gives up the request ends by itself.
    world.zts.setFault({ match: { method: 'POST', path: '/instance/' }, delayMs: 120_000, times: 1 });
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
      expect(r.stderr).toBe('');
      expect(await pairMatches(join(dir, 'sia-stop-refresh'))).toBe(true);
    } finally {
      world.zts.setFault();
    }
  }, 60_000);
});

describe('athenz run ends while its certificate is still valid', () => {
  let world: AthenzWorld;
  beforeAll(async () => {
    // ZTS's clock runs 40 s behind: its one-minute certificates have about 20 s left when they arrive.
    world = await startAthenzWorld(dir, { certLifetimeMinutes: 1, clock: { now: () => Date.now() - 40_000 } });
  }, 60_000);
  afterAll(() => world?.close());

  it('warns with an expiring line, then exits 1 when the next attempt would come within -exit-before-expiry, however high -fail-count is', async () => {
    // -warn-before-expiry 0.25: the expiring line at 15 s left; -exit-before-expiry 0.15: no attempt within the last
    // 9 s is waited for. -refreshinterval 0.1: the refresh is due within 6 s, retried within 1.5 s, 3 s, then 6 s or
    // a quarter of the validity left.
    const sia = join(dir, 'sia-exit-early');
    const child = start(
      [
        'athenz',
        'run',
        ...world.args(sia),
        '-refreshinterval',
        '0.1',
        '-fail-count',
        '1000',
        '-warn-before-expiry',
        '0.25',
        '-exit-before-expiry',
        '0.15',
      ],
      world.env,
      60_000,
    );
    await waitFor(() => child.stdoutSoFar().includes('"event":"identity"'), 'the first identity');
    world.zts.setFault({ match: { method: 'POST', path: '/instance/' }, status: 503, message: 'long outage' });
    try {
      const r = await child.done;
      const endedAt = Date.now();
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
      const events = jsonLines(r.stdout);
      const identity = events.find((e) => e.event === 'identity') as Record<string, unknown>;
      const expiresAt = Date.parse(String(identity.expiresAt));
      expect(events.some((e) => e.event === 'refreshed')).toBe(false);
      // one expiring line, before the end, for the certificate in use
      const expiring = events.filter((e) => e.event === 'expiring');
      expect(expiring).toEqual([{ event: 'expiring', provider: 'athenz identity', expiresAt: identity.expiresAt }]);
      const lastFailed = events.findLastIndex((e) => e.event === 'refresh-failed');
      const last = events[lastFailed] as Record<string, unknown>;
      expect(events.findIndex((e) => e.event === 'expiring')).toBeLessThan(lastFailed);
      expect(last).toMatchObject({ code: 'ZTS_ERROR', attempt: expect.any(Number) });
      expect(expiresAt - Date.parse(String(last.nextAttemptAt))).toBeLessThan(9000);
      expect(lastErrorLine(r.stderr)).toMatch(
        /^ecs-identity: athenz run: EXPIRES_BEFORE_NEXT_ATTEMPT: athenz identity: the credential expires at .* and the next refresh attempt would come less than 9 s before that; exiting while it is still valid, so a replacement can start in time: last ZTS_ERROR: .*long outage/,
      );
      // It exited while the certificate it leaves behind still works.
      expect(endedAt).toBeLessThan(expiresAt);
      expect(await pairMatches(sia)).toBe(true);
    } finally {
      world.zts.setFault();
    }
  }, 60_000);

  it('with -exit-before-expiry 0, exits 1 at the latest when the certificate expires during an outage', async () => {
    const child = start(
      ['athenz', 'run', ...world.args(join(dir, 'sia-expiry')), '-fail-count', '1000', '-exit-before-expiry', '0'],
      world.env,
      60_000,
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
  }, 60_000);
});
