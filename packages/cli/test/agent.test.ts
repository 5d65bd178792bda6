// `ecs-identity agent` as the built binary: the published schema (checked against the definition, and used by a
// standard validator on the examples and on bad files), bad configuration files refused before any network call, a
// start-up failure in daemon mode that ends the process, template commands, and `agent health` on its own.
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CREDENTIAL_METRICS as M } from '@ecs-identity/core';
import { startTaskEmulators } from '@ecs-identity/testkit';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue, toPoints } from '../../../test-support/otel.js';
import { agentConfigSchema } from '../src/agent/config-schema.js';
import { REPO_ROOT } from './binary.js';
import { type ConsulWorld, CONSUL_METHOD as METHOD, SHORT_TTL_METHOD, startConsulWorld } from './emulators.js';
import { jsonLines as events, run as runCli, start, waitFor } from './helpers.js';

let world: ConsulWorld;
let dir: string;

beforeAll(async () => {
  world = await startConsulWorld();
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-agent-'));
});

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

let files = 0;
async function configFile(config: unknown): Promise<string> {
  const file = join(dir, `agent-${++files}.json`);
  await writeFile(file, typeof config === 'string' ? config : JSON.stringify(config));
  return file;
}

const readJson = async (path: string) => JSON.parse(await readFile(join(REPO_ROOT, path), 'utf8'));

describe('agent.schema.json', () => {
  const ajv = new Ajv2020.default({ allErrors: true, strict: true });

  it('is the schema the agent validates with (regenerate: ecs-identity agent schema > packages/cli/agent.schema.json; npm run format)', async () => {
    expect(await readJson('packages/cli/agent.schema.json')).toEqual(
      JSON.parse(JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...agentConfigSchema })),
    );
    const printed = await runCli(['agent', 'schema'], {});
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(await readJson('packages/cli/agent.schema.json'));
  });

  it('accepts the examples and refuses bad files, with a standard JSON Schema validator', async () => {
    const validate = ajv.compile(await readJson('packages/cli/agent.schema.json'));
    for (const example of ['examples/consul-client-agent/agent.json', 'examples/athenz-agent/agent.json']) {
      expect(validate(await readJson(example)), `${example}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    const bad: [unknown, string][] = [
      [{ consul: { logins: { client: { methd: 'x' } } } }, '/consul/logins/client'],
      [{ consul: { logins: { 'not-a-name': { method: 'x' } } } }, '/consul/logins'],
      [{ consul: { logins: {} } }, '/consul/logins'],
      [
        { consul: { logins: { c: { method: 'x', sinks: [{ path: 'f', mode: '0999' }] } } } },
        '/consul/logins/c/sinks/0/mode',
      ],
      [{ athenz: { zts: 'z', dnsSuffixes: [] } }, '/athenz/dnsSuffixes'],
      [
        { athenz: { zts: 'z', dnsSuffixes: ['d'], roleCertificates: { r: { role: 'readers' } } } },
        '/athenz/roleCertificates/r/role',
      ],
      [
        { templates: [{ destination: 'out', contents: 'x', signal: { pidFile: 'p', signal: 'SIGKILL' } }] },
        '/templates/0/signal/signal',
      ],
      [{ health: { port: 70000 } }, '/health/port'],
      [
        { consul: { logins: { c: { method: 'x', refresh: { latestFraction: 2 } } } } },
        '/consul/logins/c/refresh/latestFraction',
      ],
      [
        { athenz: { zts: 'z', dnsSuffixes: ['d'], retry: { initial: { maxAttempts: 0 } } } },
        '/athenz/retry/initial/maxAttempts',
      ],
      [{ athenz: { zts: 'z', dnsSuffixes: ['d'], refreshIntervalMinutes: 60 } }, '/athenz'],
      [{ vault: {} }, ''],
    ];
    for (const [config, where] of bad) {
      expect(validate(config), JSON.stringify(config)).toBe(false);
      expect(validate.errors?.map((e) => e.instancePath)).toContain(where);
    }
  });
});

describe('ecs-identity agent (child process)', () => {
  it('refuses a file the schema refuses, naming the place, before any network call (exit 1)', async () => {
    const requests = world.consul.requests.length;
    const file = await configFile({ consul: { logins: { client: { methd: METHOD } } } });
    const run = await runCli(['agent', '-config', file, '-exit-after-render'], world.env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      `ecs-identity: agent run: INVALID_CONFIG: ${file}: /consul/logins/client/method: expected required property; /consul/logins/client/methd: unexpected property\n`,
    );
    expect(world.consul.requests).toHaveLength(requests);
  });

  it('refuses what the schema cannot say: a template syntax error, two writers of one file, not JSON', async () => {
    const requests = world.consul.requests.length;
    const broken = await configFile({
      consul: { logins: { c: { method: METHOD } } },
      templates: [{ name: 'broken', contents: '{{#if consul.c}}no end', destination: join(dir, 'x') }],
    });
    const twice = await configFile({
      consul: { logins: { c: { method: METHOD, sinks: [{ path: join(dir, 'same') }] } } },
      templates: [{ contents: 'x', destination: join(dir, 'same') }],
    });
    const notJson = await configFile('{ "consul": ');
    const lines = await Promise.all(
      [broken, twice, notJson].map(async (f) => (await runCli(['agent', '-config', f], world.env)).stderr),
    );
    expect(lines[0]).toMatch(
      /^ecs-identity: agent run: INVALID_CONFIG: templates\[0\] \(broken\): Parse error on line 1:/,
    );
    expect(lines[1]).toBe(
      `ecs-identity: agent run: INVALID_CONFIG: ${twice}: templates[0].destination and consul.logins.c.sinks both write ${join(dir, 'same')}\n`,
    );
    expect(lines[2]).toMatch(/^ecs-identity: agent run: INVALID_CONFIG: .*: not JSON \(/);
    expect(world.consul.requests).toHaveLength(requests);
  });

  it('in daemon mode, a failed start-up ends the process with exit 1 and the step named', async () => {
    const file = await configFile({
      consul: { logins: { client: { method: 'no-such-method', sinks: [{ path: join(dir, 'never') }] } } },
      health: { statusFile: join(dir, 'failed-status.json') },
    });
    const run = await runCli(['agent', '-config', file], world.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^ecs-identity: agent run: CONSUL_AUTH_METHOD_NOT_FOUND: consul login "client": .*no-such-method.*\n$/,
    );
    await expect(stat(join(dir, 'never'))).rejects.toMatchObject({ code: 'ENOENT' });
    const status = JSON.parse(await readFile(join(dir, 'failed-status.json'), 'utf8'));
    expect(status).toMatchObject({ phase: 'stopping', credentials: { 'consul.client': { state: 'pending' } } });
    for (const secret of world.issuedSecrets) expect(run.stderr).not.toContain(secret);
  });

  it("passes a login's retry to its provider: with one attempt, a refused first login fails the start", async () => {
    const file = await configFile({
      consul: {
        serverIdHeaderValue: 'consul.dc1',
        logins: { once: { method: METHOD, retry: { initial: { maxAttempts: 1 } } } },
      },
    });
    // The provider's default (8 attempts) would ride out one refusal; one attempt does not.
    world.consul.setFault({ match: '/v1/acl/login', status: 500, times: 1 });
    try {
      const run = await runCli(['agent', '-config', file, '-exit-after-render'], world.env);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^ecs-identity: agent run: CONSUL_LOGIN_FAILED: consul login "once": /);
    } finally {
      world.consul.setFault(undefined);
    }
    const retried = await configFile({
      consul: { serverIdHeaderValue: 'consul.dc1', logins: { again: { method: METHOD } } },
    });
    world.consul.setFault({ match: '/v1/acl/login', status: 500, times: 1 });
    try {
      const run = await runCli(['agent', '-config', retried, '-exit-after-render'], world.env);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    } finally {
      world.consul.setFault(undefined);
    }
  });

  it('runs a template command after a write, logs its output scrubbed, and fails the init run when it fails', async () => {
    const out = join(dir, 'token.env');
    const ok = await configFile({
      consul: { serverIdHeaderValue: 'consul.dc1', logins: { svc: { method: METHOD } } },
      templates: [
        {
          contents: 'CONSUL_HTTP_TOKEN={{consul.svc.secretId}}\n',
          destination: out,
          command: ['/bin/sh', '-c', `echo wrote; cat ${out}`],
        },
        {
          name: 'plain',
          contents: 'TASK={{task.taskId}}\n',
          destination: join(dir, 'plain.env'),
          mode: '0644',
          // Owned as asked (the tests run as root, as an init container does).
          ...(process.getuid?.() === 0 ? { uid: 1234, gid: 5678 } : {}),
        },
      ],
    });
    const run = await runCli(['agent', '-config', ok, '-exit-after-render', '-log-level', 'info'], world.env);
    expect(run.code).toBe(0);
    const secretId = (await readFile(out, 'utf8')).slice('CONSUL_HTTP_TOKEN='.length).trim();
    expect(world.consul.tokens().some((t) => t.secretId === secretId)).toBe(true);
    expect(events(run.stdout).find((e) => e.template === out)).toMatchObject({ event: 'rendered', commandRan: true });
    // The command printed the secret: the log line has it scrubbed.
    expect(run.stderr).toContain(`template ${out} command: wrote`);
    expect(run.stderr).toContain(`template ${out} command: CONSUL_HTTP_TOKEN=[REDACTED]`);
    expect(run.stderr + run.stdout).not.toContain(secretId);
    // A template that does not name the token does not get it.
    expect(await readFile(join(dir, 'plain.env'), 'utf8')).toBe(`TASK=${world.agent.taskId}\n`);
    if (process.getuid?.() === 0) expect(await stat(join(dir, 'plain.env'))).toMatchObject({ uid: 1234, gid: 5678 });
    expect(((await stat(out)).mode & 0o777).toString(8)).toBe('600');

    const failing = await configFile({
      consul: { serverIdHeaderValue: 'consul.dc1', logins: { svc: { method: METHOD } } },
      templates: [
        { name: 'reload', contents: '{{consul.svc.accessorId}}', destination: join(dir, 'a'), command: ['/bin/false'] },
      ],
    });
    const before = world.consul.tokens().length;
    const failed = await runCli(['agent', '-config', failing, '-exit-after-render'], world.env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(
      'ecs-identity: agent run: HOOK_FAILED: template "reload": template reload command: "/bin/false" exited with status 1\n',
    );
    expect(world.consul.tokens()).toHaveLength(before); // the failed init run logged its token out
  });
  it('in init mode, a stop before everything was rendered is a failure (exit 1), and the cut-short login is undone', async () => {
    // Consul makes the token at once but answers 3 s later: the stop comes while the agent waits for the answer.
    world.consul.setFault({ match: '/v1/acl/login', answerDelayMs: 3000, times: 1 });
    const live = () => world.consul.liveTokens().filter((t) => t.authMethod === METHOD);
    const before = live().length;
    try {
      const out = join(dir, 'interrupted.env');
      const file = await configFile({
        consul: { serverIdHeaderValue: 'consul.dc1', logins: { svc: { method: METHOD } } },
        templates: [{ contents: '{{consul.svc.accessorId}}', destination: out }],
      });
      const agent = start(['agent', '-config', file, '-exit-after-render'], world.env);
      await waitFor(() => live().length > before, 'the login to make its token', { running: agent });
      agent.child.kill('SIGTERM');
      const run = await agent.done;
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'ecs-identity: agent run: ABORTED: stopped by SIGTERM before everything was obtained and rendered\n',
      );
      // The consul token provider listened for the answer it gave up on, and logged its token out before the exit.
      expect(events(run.stdout)).toEqual([
        { event: 'logged-out', credential: 'consul.svc', accessorId: expect.any(String), reason: 'late-answer' },
        { event: 'stopped', signal: 'SIGTERM' },
      ]);
      expect(live()).toHaveLength(before);
      await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      world.consul.setFault(undefined);
    }
  });
});

describe('ecs-identity agent, a credential that expires without renewal', () => {
  /**
   * A world whose Consul clock runs `lagMs` behind: its tokens of the shortest TTL Consul allows (1 minute) reach the
   * agent with 60 s - `lagMs` left.
   */
  const lagging = (lagMs: number) =>
    startTaskEmulators({
      zts: false,
      consul: {
        clock: { now: () => Date.now() - lagMs },
        authMethods: [
          {
            name: 'short',
            config: { BoundIAMPrincipalARNs: ['arn:aws:iam::123456789012:role/ecs/*'], EnableIAMEntityDetails: true },
            maxTokenTtlMs: 60_000,
          },
        ],
        roles: ['client'],
        bindingRules: [{ authMethod: 'short', bindType: 'role', bindName: 'client' }],
      },
    });
  /** Runs the agent until it has its first token, then sets `fault` on every login: the token cannot be renewed. */
  const runWith = async (
    world: Awaited<ReturnType<typeof lagging>>,
    fault: Parameters<Awaited<ReturnType<typeof lagging>>['consul']['setFault']>[0],
  ) => {
    const file = await configFile({ consul: { logins: { expiring: { method: 'short' } } } });
    const agent = start(['agent', '-config', file], world.env);
    await waitFor(() => agent.stdoutSoFar().includes('"event":"ready"'), 'ready', { running: agent });
    world.consul.setFault(fault);
    const { accessorId } = events(agent.stdoutSoFar()).find((e) => e.event === 'credential') as {
      accessorId: string;
    };
    const run = await agent.done;
    world.consul.setFault(undefined);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    // Every token the run made is logged out: the one in use at the end, and any it replaced.
    expect(events(run.stdout).at(-1)).toMatchObject({ event: 'logged-out', credential: 'consul.expiring' });
    expect(world.consul.tokens().some((t) => t.accessorId === accessorId)).toBe(false);
    return run;
  };

  it('ends the run with exit 1 while the token is still valid when Consul refuses every login, and logs it out', async () => {
    // 5 s left: enough for the failed attempts to be made and judged before the expiry however loaded the machine
    // (with 2 s, a slow CI run saw the token expire first, and the other exit below).
    const world = await lagging(55_000);
    try {
      const refused = await runWith(world, { match: '/v1/acl/login', status: 500 });
      expect(refused.stderr).toMatch(
        /^ecs-identity: agent run: EXPIRES_BEFORE_NEXT_ATTEMPT: consul\.expiring: consul token: refreshing failed \(CONSUL_LOGIN_FAILED\) and the cached credential expires at \S+, before another attempt can be made/,
      );
      expect(events(refused.stdout)).toContainEqual(
        expect.objectContaining({
          event: 'refresh-failed',
          provider: 'consul.expiring',
          code: 'EXPIRES_BEFORE_NEXT_ATTEMPT',
        }),
      );
    } finally {
      await world.close();
    }
  });

  it('ends the run with exit 1 when the token expires while Consul does not answer, and logs it out', async () => {
    // 2 s left, and no login answers within 4 s: no attempt fails before the token expires, so the expiry ends the run.
    const world = await lagging(58_000);
    try {
      const hanging = await runWith(world, { match: '/v1/acl/login', delayMs: 4000 });
      expect(hanging.stderr).toMatch(
        /^ecs-identity: agent run: EXPIRED: consul\.expiring expired at \S+ and no refresh succeeded before/,
      );
      expect(world.consul.tokens()).toEqual([]);
    } finally {
      await world.close();
    }
  });
});

describe('ecs-identity agent metrics', () => {
  it("records each credential's expiry, attempts and login durations on the process's OpenTelemetry SDK", async () => {
    const file = await configFile({
      consul: { serverIdHeaderValue: 'consul.dc1', logins: { short: { method: SHORT_TTL_METHOD } } },
      metrics: {},
    });
    const exported = join(dir, 'metrics.json');
    // The process's SDK, as an application's instrumentation registers it: loaded before the agent with --import.
    const register = join(REPO_ROOT, 'test-support/otel-export-to-file.mjs');
    const agent = start(['agent', '-config', file], {
      ...world.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${register}`,
      ECS_IDENTITY_TEST_METRICS_FILE: exported,
    });
    const points = async () => toPoints(JSON.parse(await readFile(exported, 'utf8').catch(() => '[]')));
    const cred = { [M.credentialAttribute]: 'consul.short' };
    const login = { ...cred, [M.operationAttribute]: 'login' };
    try {
      await waitFor(() => agent.stdoutSoFar().includes('"event":"ready"'), 'ready', { running: agent });
      await waitFor(async () => metricValue(await points(), M.refreshAttempts, cred) === 1, 'the first attempt', {
        running: agent,
      });
      const first = await points();
      // A one-minute token: its time to expiry, seen from the agent's clock, is at most a minute.
      const ttl = metricValue(first, M.timeToExpiry, cred) as number;
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
      expect(metricValue(first, M.operationDuration, login)).toMatchObject({ count: 1 });

      // A rotation: the new login is one more attempt, and one more timed login.
      agent.child.kill('SIGHUP');
      await waitFor(async () => metricValue(await points(), M.refreshAttempts, cred) === 2, 'the second attempt', {
        running: agent,
      });
      expect(metricValue(await points(), M.operationDuration, login)).toMatchObject({ count: 2 });
      expect(metricValue(await points(), M.refreshFailures, cred)).toBeUndefined();
      agent.child.kill('SIGTERM');
      const run = await agent.done;
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
    } finally {
      agent.child.kill('SIGKILL');
    }
  });
});

describe('ecs-identity agent health', () => {
  const status = (updatedAt: string, credentials: Record<string, unknown>) => ({
    phase: 'running',
    pid: 1,
    updatedAt,
    heartbeatSeconds: 30,
    credentials,
    templates: {},
  });

  it('judges a status file at the time of the check: expiry, age, start-up', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const cases: [unknown, number, unknown][] = [
      [status(iso(now), { 'consul.c': { state: 'valid' } }), 0, { ready: true }],
      [
        status(iso(now), { 'athenz.identity': { state: 'refresh-failed', expiresAt: iso(now - 1000) } }),
        1,
        { ready: false, reasons: [`athenz.identity expired at ${iso(now - 1000)}`] },
      ],
      [
        status(iso(now - 10 * 60_000), { 'consul.c': { state: 'valid' } }),
        1,
        { ready: false, reasons: [expect.stringMatching(/was last written at .*: the agent is not running$/)] },
      ],
      [{ ...status(iso(now), {}), phase: 'starting' }, 1, { ready: false, reasons: ['the agent is starting'] }],
    ];
    for (const [doc, code, verdict] of cases) {
      const file = join(dir, `status-${++files}.json`);
      await writeFile(file, JSON.stringify(doc));
      const run = await runCli(['agent', 'health', '-status-file', file], {});
      expect(JSON.parse(run.stdout)).toEqual(verdict);
      expect(run.code).toBe(code);
    }
  });

  it('fails when nothing answers, and needs exactly one source', async () => {
    const down = await runCli(['agent', 'health', '-url', 'http://127.0.0.1:9', '-timeout-ms', '500'], {});
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout)).toMatchObject({
      ready: false,
      reasons: [expect.stringContaining('/health/ready')],
    });
    const none = await runCli(['agent', 'health'], {});
    expect(none.code).toBe(2);
    expect(none.stderr.split('\n')[0]).toBe(
      'ecs-identity: agent health: INVALID_ARGUMENT: give one of -config, -url or -status-file (where the agent reports its health)',
    );
  });
});
