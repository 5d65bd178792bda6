// `ecs-identity consul run | login | logout` as the consul-client container and health-sync run them: the built
// binary against the testkit's fake Consul. After each scenario the tokens alive on the server are counted: they must
// be exactly the tokens still in use (none once a run has stopped).
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ConsulWorld, SHORT_TTL_METHOD, startConsulWorld } from './emulators.js';
import { jsonLines, run, start, waitFor } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-cli-consul-run-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const SERVER_ID = ['-aws-server-id-header-value', 'consul.dc1'];
const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('consul login / logout as a startup script uses them', () => {
  let world: ConsulWorld;
  beforeAll(async () => {
    world = await startConsulWorld();
  });
  afterAll(() => world?.close());
  beforeEach(() => world.consul.setFault(undefined));
  const live = () => world.consul.liveTokens();

  it('login -token-sink-mode 0644 writes the token file readable by another container', async () => {
    const sink = join(dir, 'client-token');
    const r = await run(
      ['consul', 'login', '-token-sink-file', sink, '-token-sink-mode', '0644', ...SERVER_ID],
      world.env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await mode(sink)).toBe(0o644);
    const bad = await run(['consul', 'login', '-token-sink-file', sink, '-token-sink-mode', '0888'], world.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr.split('\n')[0]).toBe(
      'ecs-identity: consul login: INVALID_ARGUMENT: -token-sink-mode "0888" must be an octal file mode like 0600 or 0644',
    );
    expect((await run(['consul', 'logout', '-token-file', sink], world.env)).code).toBe(0);
  });

  it('a login answered after -timeout-ms: the retry is kept and the late token is logged out before the exit', async () => {
    const before = live().length;
    const sink = join(dir, 'slow-token');
    // The case: a 3 s login against a 1 s request timeout.
    world.consul.setFault({ match: '/v1/acl/login', answerDelayMs: 3_000, times: 1 });
    const r = await run(
      ['consul', 'login', '-token-sink-file', sink, '-timeout-ms', '1000', '-log-level', 'warn', ...SERVER_ID],
      world.env,
    );
    expect(r.code).toBe(0);
    expect(world.consul.requests.filter((q) => q.path === '/v1/acl/login' && q.status === 200).length).toBeGreaterThan(
      1,
    );
    // Two tokens were made; once the process has ended only the one in the sink file is alive.
    const secret = await readFile(sink, 'utf8');
    expect(live().length).toBe(before + 1);
    expect(live().some((t) => t.secretId === secret)).toBe(true);
    expect(r.stderr).toContain('answered after the client gave up');
    expect(r.stderr).not.toContain(secret);
    expect((await run(['consul', 'logout', '-token-file', sink], world.env)).code).toBe(0);
    expect(live().length).toBe(before);
  });

  it('logout takes several -token-file flags; a token already gone counts as logged out', async () => {
    const a = join(dir, 'token-a');
    const b = join(dir, 'token-b');
    for (const sink of [a, b]) {
      expect((await run(['consul', 'login', '-token-sink-file', sink, ...SERVER_ID], world.env)).code).toBe(0);
    }
    expect((await run(['consul', 'logout', '-token-file', b], world.env)).code).toBe(0); // b is gone now
    const r = await run(['consul', 'logout', '-token-file', a, '-token-file', b], world.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toEqual([
      { loggedOut: true, token: a },
      { loggedOut: true, token: b },
    ]);
    expect(live().filter((t) => t.authMethod !== '')).toEqual([]);
  });

  it('logout goes on past a failure, names it on one line, and exits 1', async () => {
    const a = join(dir, 'token-c');
    expect((await run(['consul', 'login', '-token-sink-file', a, ...SERVER_ID], world.env)).code).toBe(0);
    const missing = join(dir, 'no-such-token');
    const r = await run(['consul', 'logout', '-token-file', missing, '-token-file', a], world.env);
    expect(r.code).toBe(1);
    expect(jsonLines(r.stdout)).toEqual([{ loggedOut: true, token: a }]);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^ecs-identity: consul logout: FILE_IO: .*${missing}`));
    expect(live().filter((t) => t.authMethod !== '')).toEqual([]);
  });
});

describe('consul run', () => {
  let world: ConsulWorld;
  beforeAll(async () => {
    // Consul's clock runs 52 s behind: its one-minute tokens have about 8 s left, so a new login comes within seconds.
    world = await startConsulWorld({ consulBehindMs: 52_000 });
  });
  afterAll(() => world?.close());
  beforeEach(() => world.consul.setFault(undefined));
  const live = () => world.consul.liveTokens();

  it('logs in, rotates the token file before expiry and logs the old token out, logs out everything at SIGTERM', async () => {
    const sink = join(dir, 'run-client-token');
    // health-sync's part: a service token another container logged in for, to log out at the end too.
    const service = join(dir, 'run-service-token');
    expect((await run(['consul', 'login', '-token-sink-file', service, ...SERVER_ID], world.env)).code).toBe(0);
    const child = start(
      [
        'consul',
        'run',
        '-method',
        SHORT_TTL_METHOD,
        '-token-sink-file',
        sink,
        '-token-sink-mode',
        '0644',
        '-old-token-grace-ms',
        '200',
        '-token-file',
        service,
        ...SERVER_ID,
      ],
      world.env,
    );
    const events = () => jsonLines(child.stdoutSoFar());
    await waitFor(() => events().some((e) => e.event === 'logged-out' && e.reason === 'superseded'), 'a rotation');
    const [first, rotated] = events();
    expect(first).toMatchObject({ event: 'token', authMethod: SHORT_TTL_METHOD, tokenSinkFile: sink });
    expect(rotated).toMatchObject({ event: 'rotated', previousAccessorId: first?.accessorId, tokenSinkFile: sink });
    const superseded = events().find((e) => e.event === 'logged-out' && e.reason === 'superseded');
    expect(superseded?.accessorId).toBe(first?.accessorId);
    expect(live().some((t) => t.accessorId === first?.accessorId)).toBe(false);
    // The sink holds a token the run announced, with the mode asked for.
    const inSink = await readFile(sink, 'utf8');
    const announced = events()
      .filter((e) => e.event === 'token' || e.event === 'rotated')
      .map((e) => e.accessorId);
    expect(announced).toContain(live().find((t) => t.secretId === inSink)?.accessorId);
    expect(await mode(sink)).toBe(0o644);
    expect(child.stdoutSoFar()).not.toContain(inSink);

    child.child.kill('SIGTERM');
    const r = await child.done;
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    const all = jsonLines(r.stdout);
    expect(all.at(-1)).toEqual({ event: 'stopped', signal: 'SIGTERM' });
    expect(all.filter((e) => e.event === 'logged-out' && e.token === service)).toHaveLength(1);
    // Every token the run made was logged out, and so was the service token: nothing is left.
    const made = all.filter((e) => e.event === 'token' || e.event === 'rotated').map((e) => e.accessorId);
    const loggedOut = all.filter((e) => e.event === 'logged-out').map((e) => e.accessorId);
    expect(loggedOut).toEqual(expect.arrayContaining(made));
    expect(live().filter((t) => t.authMethod !== '')).toEqual([]);
  });

  it('SIGTERM while the first login is still unanswered: stops, and logs out the token when the answer comes', async () => {
    world.consul.setFault({ match: '/v1/acl/login', answerDelayMs: 3_000, times: 1 });
    const child = start(['consul', 'run', '-token-sink-file', join(dir, 'run-early'), ...SERVER_ID], world.env);
    await waitFor(() => live().some((t) => t.authMethod !== ''), 'the login to make its token');
    child.child.kill('SIGTERM');
    const r = await child.done;
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
    const all = jsonLines(r.stdout);
    expect(all.at(-1)).toEqual({ event: 'stopped', signal: 'SIGTERM' });
    expect(all.filter((e) => e.event === 'logged-out')).toEqual([
      { event: 'logged-out', accessorId: expect.any(String), reason: 'late-answer' },
    ]);
    expect(live().filter((t) => t.authMethod !== '')).toEqual([]);
  });

  it('exits 1 with one line when the first login is refused', async () => {
    const r = await run(['consul', 'run', '-method', 'no-such-method', '-token-sink-file', join(dir, 'x')], world.env);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
    // The warn-level log of the failure may come first; the run ends with the one error line.
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(
      /^ecs-identity: consul run: CONSUL_AUTH_METHOD_NOT_FOUND: .*no-such-method/,
    );
    expect(r.stdout).toBe('');
  });

  it('exits 1 after SIGTERM when a logout fails, naming it; the others are still logged out', async () => {
    const missing = join(dir, 'never-written');
    const child = start(
      ['consul', 'run', '-token-sink-file', join(dir, 'run-fail'), '-token-file', missing, ...SERVER_ID],
      world.env,
    );
    await waitFor(() => child.stdoutSoFar().includes('"event":"token"'), 'the first token');
    child.child.kill('SIGTERM');
    const r = await child.done;
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
    expect(jsonLines(r.stdout).at(-1)).toEqual({ event: 'stopped', signal: 'SIGTERM', failedLogouts: 1 });
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^ecs-identity: consul run: FILE_IO: .*${missing}`));
    expect(lines.at(-1)).toMatch(/^ecs-identity: consul run: LOGOUT_FAILED: 1 logout\(s\) failed at SIGTERM/);
    expect(live().filter((t) => t.authMethod !== '')).toEqual([]);
  });
});
