/**
 * The seed's consul-client startup script, replaced by `ecs-identity agent` with this folder's configuration and
 * template, run as the built binary against the emulators: once as an init container (`-exit-after-render`), once as
 * a sidecar that logs out at SIGTERM, and once through a rotation (SIGHUP: a new login), which rewrites the agent
 * configuration, signals the process named by a PID file and logs the replaced token out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskEmulators } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines as events, run as runCli, start, waitFor } from '../../packages/cli/test/helpers.js';
import { startExample } from '../shared/child.js';
import {
  CLIENT_METHOD,
  configIn,
  type ExampleConfig,
  taskEnv as envOf,
  GOSSIP_KEY,
  startDeployment,
} from './deployment.js';

const here = fileURLToPath(new URL('.', import.meta.url));
let world: TaskEmulators;
let dir: string;
const issued: string[] = [];
const taskEnv = () => envOf(world);

beforeAll(async () => {
  world = await startDeployment((c) => issued.push(c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])));
  dir = await mkdtemp(join(tmpdir(), 'consul-client-agent-'));
}, 60_000);

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What the seed's heredoc wrote, for this task and token. */
function expectedAgentDefaults(ipv4: string, secretId: string, caFile = '/consul/consul-ca-cert.pem'): string {
  return `# The consul client agent's configuration, rendered by ecs-identity agent from agent-defaults.hcl.hbs.
addresses = {
  dns  = "127.0.0.1"
  grpc = "127.0.0.1"
  http = "127.0.0.1"
}
advertise_addr                = "${ipv4}"
advertise_reconnect_timeout   = "15m"
client_addr                   = "0.0.0.0"
datacenter                    = "dc1"
enable_central_service_config = true
encrypt                       = "${GOSSIP_KEY}"
leave_on_terminate            = true
ports {
  grpc = 8502
}
retry_join = ["provider=aws tag_key=consul-server"]
telemetry {
  disable_compat_1.9 = true
}

auto_encrypt = {
  tls    = true
  ip_san = ["${ipv4}"]
}
tls {
  defaults {
    ca_file         = "${caFile}"
    verify_outgoing = true
  }
}

acl {
  enabled        = true
  default_policy = "deny"
  down_policy    = "async-cache"
  tokens {
    agent = "${secretId}"
  }
}
`;
}

const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

function noSecrets(output: string, secrets: readonly string[]): void {
  expect(secrets.length).toBeGreaterThan(0);
  for (const secret of secrets) expect(output).not.toContain(secret);
}

describe('examples/consul-client-agent (the built ecs-identity agent)', () => {
  it('as an init container: logs in, writes the token (0644), the CA files and the agent configuration, exits 0', async () => {
    const root = join(dir, 'init');
    const config = await configIn(root);
    const run = await runCli(['agent', '-config', config, '-exit-after-render'], taskEnv());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);

    const tokens = world.consul.tokens().filter((t) => t.authMethod === CLIENT_METHOD);
    expect(tokens).toHaveLength(1); // logged in once, and left logged in for the consul agent
    const token = tokens[0]!;
    expect(token.roles.map((r) => r.Name)).toEqual(['consul-ecs-client-role']);
    expect(token.description).toContain(`"consul.hashicorp.com/task-id":"${world.agent.taskId}"`);
    expect(await readFile(join(root, 'consul/client-token'), 'utf8')).toBe(token.secretId);
    expect(await mode(join(root, 'consul/client-token'))).toBe('644');
    expect(await readFile(join(root, 'consul/consul-ca-cert.pem'), 'utf8')).toBe(world.zts.caPem);
    expect(await readFile(join(root, 'consul/consul-https-ca-cert.pem'), 'utf8')).toBe(world.zts.caPem);
    const ipv4 = '10.0.2.106'; // the testkit agent's container document: Networks[0].IPv4Addresses[0]
    expect(await readFile(join(root, 'consul/agent-defaults.hcl'), 'utf8')).toBe(
      expectedAgentDefaults(ipv4, token.secretId),
    );
    expect(await mode(join(root, 'consul/agent-defaults.hcl'))).toBe('640');

    const lines = events(run.stdout);
    expect(lines.map((e) => e.event)).toEqual(['credential', 'rendered', 'rendered', 'rendered', 'ready']);
    expect(lines[0]).toMatchObject({
      credential: 'consul.client',
      accessorId: token.accessorId,
      authMethod: CLIENT_METHOD,
      files: [join(root, 'consul/client-token')],
    });
    expect(lines.at(-1)).toEqual({ event: 'ready', mode: 'init' });
    noSecrets(run.stdout + run.stderr, [...issued, token.secretId, GOSSIP_KEY, world.agent.authToken as string]);
  });

  it('adds the partition when the task has one (Consul Enterprise, CONSUL_PARTITION)', async () => {
    const enterprise = await startDeployment(undefined, { enterprise: true });
    try {
      const root = join(dir, 'partition');
      const config = await configIn(root);
      const run = await runCli(['agent', '-config', config, '-exit-after-render'], {
        ...envOf(enterprise),
        CONSUL_PARTITION: 'team-a',
      });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      const [token] = enterprise.consul.tokens();
      expect(token?.partition).toBe('team-a');
      const hcl = await readFile(join(root, 'consul/agent-defaults.hcl'), 'utf8');
      expect(hcl).toBe(`${expectedAgentDefaults('10.0.2.106', token?.secretId ?? '?')}\npartition = "team-a"\n`);
    } finally {
      await enterprise.close();
    }
  });

  it('fails an init run at the named step and logs out what it logged in', async () => {
    const root = join(dir, 'init-fail');
    const config = await configIn(root);
    const before = world.consul.tokens().length;
    const env = taskEnv();
    delete (env as Record<string, string | undefined>).CONSUL_DATACENTER;
    const run = await runCli(['agent', '-config', config, '-exit-after-render'], env);
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^ecs-identity: agent run: INVALID_CONFIG: template "agent defaults": .*"CONSUL_DATACENTER" not defined/,
      ),
    ]);
    // Nothing half-done: the token was logged out again, and no file was written (the templates render in memory
    // before anything is written).
    expect(events(run.stdout).map((e) => e.event)).toContain('logged-out');
    expect(world.consul.tokens()).toHaveLength(before);
    for (const file of ['agent-defaults.hcl', 'client-token', 'consul-ca-cert.pem']) {
      await expect(stat(join(root, 'consul', file))).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('as a sidecar: reports ready through its status file and logs the token out at SIGTERM (exit 0)', async () => {
    const root = join(dir, 'daemon');
    const config = await configIn(root);
    const agent = start(['agent', '-config', config], taskEnv());
    await waitFor(() => agent.stdoutSoFar().includes('"event":"ready"'), 'ready', { running: agent });
    const secretId = await readFile(join(root, 'consul/client-token'), 'utf8');
    const accessorId = world.consul.tokens().find((t) => t.secretId === secretId)?.accessorId;
    expect(accessorId).toEqual(expect.any(String));

    const health = await runCli(['agent', 'health', '-config', config], {});
    expect(health.stdout).toBe('{"ready":true}\n');
    expect(health.code).toBe(0);
    const status = JSON.parse(await readFile(join(root, 'consul/ecs-identity-status.json'), 'utf8'));
    expect(status).toMatchObject({ phase: 'running', credentials: { 'consul.client': { state: 'valid' } } });
    expect(JSON.stringify(status)).not.toContain(secretId);

    agent.child.kill('SIGTERM');
    const run = await agent.done;
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(events(run.stdout).slice(-2)).toEqual([
      { event: 'logged-out', credential: 'consul.client', accessorId, reason: 'close' },
      { event: 'stopped', signal: 'SIGTERM' },
    ]);
    expect(world.consul.tokens().some((t) => t.secretId === secretId)).toBe(false);
    const after = await runCli(['agent', 'health', '-config', config], {});
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout)).toMatchObject({ ready: false, reasons: ['the agent is stopping'] });
    noSecrets(run.stdout + run.stderr, [...issued, secretId, GOSSIP_KEY]);
  });

  it('at a rotation (SIGHUP) rewrites the configuration, signals the consul process and logs the old token out', async () => {
    const root = join(dir, 'rotation');
    const pidFile = join(root, 'consul.pid');
    const config = await configIn(root, (c) => {
      (c.templates[2] as ExampleConfig['templates'][number]).signal = { pidFile, signal: 'SIGHUP' };
      // The replaced token stays valid this long for its readers (default 30 s), then the provider logs it out.
      (c.consul.logins.client as Record<string, unknown>).supersededGraceMs = 1000;
    });
    // The process the template signals: counts SIGHUPs, as `consul agent` reloads on one.
    const consulProcess: ChildProcess = spawn(
      process.execPath,
      ['-e', "let n=0;process.on('SIGHUP',()=>console.log('reload',++n));setInterval(()=>{},1e6)"],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let reloads = '';
    consulProcess.stdout?.setEncoding('utf8').on('data', (d: string) => {
      reloads += d;
    });
    await writeFile(pidFile, String(consulProcess.pid));
    // At debug level, so that every log line the SDK writes is scanned for secrets too.
    const agent = start(['agent', '-config', config, '-log-level', 'debug'], taskEnv());
    try {
      await waitFor(() => agent.stdoutSoFar().includes('"event":"ready"'), 'ready', { running: agent });
      const first = await readFile(join(root, 'consul/client-token'), 'utf8');
      await waitFor(() => reloads.includes('reload 1'), 'the first SIGHUP');
      agent.child.kill('SIGHUP');
      await waitFor(() => agent.stdoutSoFar().includes('"event":"refreshed"'), 're-login', { running: agent });
      await waitFor(() => reloads.includes('reload 2'), 'the SIGHUP after the re-login');
      const second = await readFile(join(root, 'consul/client-token'), 'utf8');
      expect(second).not.toBe(first);
      const hcl = await readFile(join(root, 'consul/agent-defaults.hcl'), 'utf8');
      expect(hcl).toContain(`agent = "${second}"`);
      expect(hcl).not.toContain(first);
      // The replaced token was logged out by its provider after the grace period (the files hold the new one).
      await waitFor(() => agent.stdoutSoFar().includes('"reason":"superseded"'), 'the old token logged out', {
        running: agent,
      });
      expect(world.consul.tokens().some((t) => t.secretId === first)).toBe(false);
      const lines = events(agent.stdoutSoFar());
      const firstAccessor = lines.find((e) => e.event === 'credential')?.accessorId;
      expect(lines).toContainEqual({
        event: 'logged-out',
        credential: 'consul.client',
        accessorId: firstAccessor,
        reason: 'superseded',
      });
      const refreshed = lines.findIndex((e) => e.event === 'refreshed');
      expect(lines.slice(refreshed + 1).find((e) => e.event === 'rendered')).toEqual({
        event: 'rendered',
        template: 'agent defaults',
        destination: join(root, 'consul/agent-defaults.hcl'),
        changed: true,
        signalled: true,
      });
      agent.child.kill('SIGTERM');
      const run = await agent.done;
      expect(run.code).toBe(0);
      noSecrets(run.stdout + run.stderr, [...issued, first, second, GOSSIP_KEY]);
    } finally {
      agent.child.kill('SIGKILL');
      consulProcess.kill('SIGKILL');
    }
  });

  it('main.ts, the second demo, runs the agent as an init container and shows its files with the secrets masked', async () => {
    const demo = startExample(join(here, 'main.ts'), [], 60_000);
    expect(await demo.exited).toBe(0);
    const out = demo.output();
    expect(out).toContain('$ ecs-identity agent -config agent.json -exit-after-render');
    expect(out).toContain('{"event":"ready","mode":"init"}');
    expect(out).toContain('agent = "<the client token>"');
    expect(out).toContain('encrypt                       = "<the gossip key>"');
    expect(out).not.toContain(GOSSIP_KEY);
    expect(out).toContain('Consul holds the client token (auth method iam-ecs-client-token): yes');
  });
});
