/**
 * siad replaced by `ecs-identity agent` with this folder's configuration, run as the built binary against the
 * emulators: siad's files (key, certificate, CA chain, role certificate, access token), a key + certificate bundle
 * for a server that reloads on SIGHUP, the health endpoint as the ECS health check, a rotation (SIGHUP to the agent)
 * that re-renders the bundle and signals the server, and SIGTERM deleting the instance record.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTaskEmulators, type TaskEmulators, type ZtsOptions } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines as events, run as runCli, start, waitFor } from '../../packages/cli/test/helpers.js';

const here = fileURLToPath(new URL('.', import.meta.url));

let world: TaskEmulators<{ consul: false; zts: Partial<ZtsOptions> }>;
let dir: string;
const issued: string[] = [];

beforeAll(async () => {
  world = await startTaskEmulators({
    consul: false,
    athenzRoles: ['readers', 'writers'],
    onAgentCredentials: (c) => issued.push(c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])),
  });
  dir = await mkdtemp(join(tmpdir(), 'athenz-agent-'));
}, 60_000);

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface ExampleConfig {
  $schema?: string;
  athenz: Record<string, unknown>;
  templates: { source?: string }[];
  health: { port: number };
}

/** This folder's agent.json pointed at the emulated ZTS, with its files under `root`. */
async function configIn(root: string, port: number): Promise<string> {
  const text = (await readFile(join(here, 'agent.json'), 'utf8'))
    .replaceAll('"/var/lib/sia"', `"${root}/sia"`)
    .replaceAll('"/run/app/', `"${root}/app/`)
    .replaceAll('"/etc/athenz/', `"${root}/`);
  const config = JSON.parse(text) as ExampleConfig;
  delete config.$schema;
  config.athenz.zts = world.zts.baseUrl;
  config.athenz.dnsSuffixes = [world.names.dnsSuffix];
  for (const t of config.templates) if (t.source) t.source = join(here, t.source);
  config.health.port = port;
  await mkdir(join(root, 'app'), { recursive: true });
  await writeFile(join(root, 'zts-ca.pem'), world.zts.caPem);
  const file = join(root, 'agent.json');
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

const mode = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

describe('examples/athenz-agent (the built ecs-identity agent)', () => {
  it("writes siad's files and a TLS bundle, signals the server at each rotation, deletes the record at SIGTERM", async () => {
    const root = join(dir, 'daemon');
    const port = await freePort();
    const config = await configIn(root, port);
    // The server the bundle is for: reloads on SIGHUP (prints the bundle's serial each time).
    const pidFile = join(root, 'app', 'app.pid');
    const server: ChildProcess = spawn(
      process.execPath,
      [
        '-e',
        `const fs=require('node:fs'),{X509Certificate}=require('node:crypto');
         process.on('SIGHUP',()=>console.log('reload',new X509Certificate(fs.readFileSync(process.argv[1])).serialNumber));
         setInterval(()=>{},1e6)`,
        join(root, 'app', 'tls-bundle.pem'),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let reloads = '';
    server.stdout?.setEncoding('utf8').on('data', (d: string) => {
      reloads += d;
    });
    await writeFile(pidFile, String(server.pid));
    const agent = start(['agent', '-config', config], { ...world.env, AWS_ENDPOINT_URL_STS: world.aws.url });
    try {
      await waitFor(() => agent.stdoutSoFar().includes('"event":"ready"'), 'ready', { running: agent });
      const sia = join(root, 'sia');
      const key = await readFile(join(sia, 'keys', 'sports.api.key.pem'), 'utf8');
      const cert = await readFile(join(sia, 'certs', 'sports.api.cert.pem'), 'utf8');
      const chain = await readFile(join(sia, 'certs', 'ca.cert.pem'), 'utf8');
      expect(await mode(join(sia, 'keys', 'sports.api.key.pem'))).toBe('400');
      expect(await mode(join(sia, 'certs', 'sports.api.cert.pem'))).toBe('444');
      expect(await mode(join(sia, 'certs', 'sports:role.readers.cert.pem'))).toBe('444');
      expect(await mode(join(sia, 'tokens', 'sports', 'sports'))).toBe('400');
      const token = await readFile(join(sia, 'tokens', 'sports', 'sports'), 'utf8');
      expect(await readFile(join(root, 'app', 'tls-bundle.pem'), 'utf8')).toBe(`${cert}\n${chain}\n${key}\n`);
      expect(await mode(join(root, 'app', 'tls-bundle.pem'))).toBe('600');
      const serial1 = new X509Certificate(cert).serialNumber;
      await waitFor(() => reloads.includes(`reload ${serial1}`), 'the SIGHUP of the first render');
      const env = await readFile(join(root, 'app', 'identity.env'), 'utf8');
      expect(env).toContain('ATHENZ_PRINCIPAL=sports.api\n');
      expect(env).toContain(`ECS_TASK_ID=${world.agent.taskId}\n`);
      expect(env).toContain('ECS_AVAILABILITY_ZONE=us-west-2a\n');

      const health = await runCli(['agent', 'health', '-config', config], {});
      expect(health.stdout).toBe('{"ready":true}\n');
      expect(health.code).toBe(0);
      const status = await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.json());
      expect(status.credentials['athenz.identity']).toMatchObject({
        state: 'valid',
        facts: { principal: 'sports.api' },
      });
      expect(status.templates['tls bundle']).toMatchObject({ state: 'rendered', uses: ['athenz.identity'] });
      expect(status.templates['identity env'].uses).toEqual(['athenz.identity']);

      // Rotation: a new certificate (same key), new role certificate and token; the bundle follows, the server reloads.
      agent.child.kill('SIGHUP');
      await waitFor(
        async () => (await readFile(join(sia, 'certs', 'sports.api.cert.pem'), 'utf8')) !== cert,
        'a new cert',
      );
      const cert2 = await readFile(join(sia, 'certs', 'sports.api.cert.pem'), 'utf8');
      const serial2 = new X509Certificate(cert2).serialNumber;
      await waitFor(() => reloads.includes(`reload ${serial2}`), 'the SIGHUP after the rotation');
      expect(await readFile(join(root, 'app', 'tls-bundle.pem'), 'utf8')).toBe(`${cert2}\n${chain}\n${key}\n`);
      await waitFor(
        () =>
          events(agent.stdoutSoFar()).some(
            (e) => e.event === 'refreshed' && e.credential === 'athenz.accessTokens.sports',
          ),
        'the token that follows the new certificate',
        { running: agent },
      );

      agent.child.kill('SIGTERM');
      const run = await agent.done;
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(events(run.stdout).slice(-2)).toEqual([
        { event: 'deleted', credential: 'athenz.identity' },
        { event: 'stopped', signal: 'SIGTERM' },
      ]);
      expect(world.zts.records().some((r) => r.instanceId === world.agent.taskId)).toBe(false);
      const out = run.stdout + run.stderr;
      for (const secret of [...issued, key, token]) expect(out).not.toContain(secret.trim());
      expect(out).not.toContain('PRIVATE KEY');
    } finally {
      agent.child.kill('SIGKILL');
      server.kill('SIGKILL');
    }
  });
});
