// The commands run in-process (through `main(args, io)`, the function the binary calls) for the cases that need no
// second process: more token sources, replication timeouts, usage checks inside commands, siad's roles variable,
// and the stop signal arriving during `athenz run`'s start-up. The child-process tests cover the binary itself.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolesOf } from '../src/athenz-actions.js';
import { stsEndpointOf, ztsBaseUrl } from '../src/athenz-setup.js';
import type { CliIo, CommandContext } from '../src/command.js';
import { main } from '../src/index.js';
import { type AthenzWorld, type ConsulWorld, startAthenzWorld, startConsulWorld } from './emulators.js';

function fakeIo(env: Record<string, string>, stop: Promise<string> = new Promise(() => {})) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { env, stdout: (t) => out.push(t), stderr: (t) => err.push(t), waitForStop: () => stop };
  return { io, out: () => out.join(''), err: () => err.join('') };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-cli-inproc-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('consul commands in-process', () => {
  let world: ConsulWorld;
  beforeAll(async () => {
    world = await startConsulWorld();
  });
  afterAll(() => world?.close());

  it('logout reads CONSUL_HTTP_TOKEN_FILE when neither -token-file nor CONSUL_HTTP_TOKEN is set', async () => {
    const sink = join(dir, 'token-a');
    const login = fakeIo(world.env);
    const loginArgs = ['consul', 'login', '-token-sink-file', sink, '-aws-server-id-header-value', 'consul.dc1'];
    expect(await main(loginArgs, login.io), login.err()).toBe(0);
    expect(world.consul.tokens()).toHaveLength(1);
    const logout = fakeIo({ ...world.env, CONSUL_HTTP_TOKEN_FILE: sink });
    expect(await main(['consul', 'logout'], logout.io)).toBe(0);
    expect(logout.err()).toBe('');
    expect(world.consul.tokens()).toHaveLength(0);
  });

  it('wait gives up with CONSUL_NOT_REPLICATED after its attempts, naming where the token came from', async () => {
    const file = join(dir, 'unknown-token');
    await writeFile(file, '8f6e3d2c-0000-4000-8000-00000000abcd\n');
    const t = fakeIo(world.env);
    expect(await main(['consul', 'wait', '-token-file', file, '-attempts', '3', '-interval-ms', '10'], t.io)).toBe(1);
    expect(t.err()).toMatch(
      new RegExp(
        `^ecs-identity: consul wait: CONSUL_NOT_REPLICATED: the token from ${file} was not readable with \\?stale after 3 tries`,
      ),
    );
    expect(t.err()).not.toContain('8f6e3d2c-0000-4000-8000-00000000abcd');
    const reads = world.consul.requests.filter((r) => r.path === '/v1/acl/token/self');
    expect(reads.slice(-3).every((r) => r.status === 403)).toBe(true);
  });

  it('checks its own arguments: no token, a bad -meta, another -type', async () => {
    const cases: [string[], string][] = [
      [['consul', 'logout'], 'no token: pass -token-file, or set CONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN_FILE'],
      [
        ['consul', 'login', '-token-sink-file', join(dir, 'x'), '-meta', 'novalue'],
        '-meta "novalue" must be key=value',
      ],
      [['consul', 'login', '-token-sink-file', join(dir, 'x'), '-type', 'jwt'], '-type: only aws-iam is supported'],
    ];
    for (const [args, message] of cases) {
      const t = fakeIo({ CONSUL_HTTP_ADDR: world.consul.url });
      expect(await main(args, t.io), args.join(' ')).toBe(2);
      expect(t.err().split('\n')[0]).toBe(`ecs-identity: ${args.slice(0, 2).join(' ')}: INVALID_ARGUMENT: ${message}`);
    }
    expect(world.consul.tokens()).toHaveLength(0);
  });
});

describe('athenz helpers', () => {
  it('builds the ZTS URL from siad-style host and port, or takes a URL as is', () => {
    expect(ztsBaseUrl('zts.example.com', 4443)).toBe('https://zts.example.com:4443/zts/v1');
    expect(ztsBaseUrl('https://zts.example.com/zts/v1', 4443)).toBe('https://zts.example.com/zts/v1');
    expect(() => ztsBaseUrl(undefined, 4443)).toThrow(/-zts is required/);
    expect(() => ztsBaseUrl('zts example', 4443)).toThrow(/neither a host name nor an http\(s\) URL/);
  });

  it('uses the global STS like siad unless told otherwise, and regional outside the aws partition', () => {
    expect(stsEndpointOf({}, 'aws')).toBe('global');
    expect(stsEndpointOf({ regionalsts: true }, 'aws')).toBe('regional');
    expect(stsEndpointOf({}, 'aws-cn')).toBe('regional');
    expect(stsEndpointOf({ 'sts-endpoint': 'http://127.0.0.1:1' }, 'aws')).toBe('http://127.0.0.1:1');
  });

  it("reads the roles from -roles, or from the keys of siad's ATHENZ_SIA_ACCOUNT_ROLES object", () => {
    const ctx = (values: CommandContext['values'], sources: Record<string, string>, env: Record<string, string>) =>
      ({ values, sources, io: fakeIo(env).io }) as unknown as CommandContext;
    expect(rolesOf(ctx({ roles: ['a:role.x,b:role.y', 'c:role.z'] }, { roles: 'flag' }, {}))).toEqual([
      'a:role.x',
      'b:role.y',
      'c:role.z',
    ]);
    const json = JSON.stringify({ 'sports:role.readers': { expiry_time: 60 }, 'sports:role.writers': {} });
    expect(
      rolesOf(ctx({ roles: [json] }, { roles: 'env:ATHENZ_SIA_ACCOUNT_ROLES' }, { ATHENZ_SIA_ACCOUNT_ROLES: json })),
    ).toEqual(['sports:role.readers', 'sports:role.writers']);
    expect(() =>
      rolesOf(ctx({}, { roles: 'env:ATHENZ_SIA_ACCOUNT_ROLES' }, { ATHENZ_SIA_ACCOUNT_ROLES: '["a"]' })),
    ).toThrow(/must be a JSON object keyed by role name/);
  });
});

describe('athenz commands in-process', () => {
  let world: AthenzWorld;
  beforeAll(async () => {
    world = await startAthenzWorld(dir);
  });
  afterAll(() => world?.close());

  it("post, then rolecert with the roles from siad's ATHENZ_SIA_ACCOUNT_ROLES", async () => {
    const sia = join(dir, 'sia-roles');
    const post = fakeIo(world.env);
    expect(await main(['athenz', 'post', ...world.args(sia)], post.io)).toBe(0);
    const roles = JSON.stringify({ 'sports:role.readers': {}, 'sports:role.writers': {} });
    const rc = fakeIo({ ...world.env, ATHENZ_SIA_ACCOUNT_ROLES: roles });
    expect(await main(['athenz', 'rolecert', ...world.args(sia)], rc.io)).toBe(0);
    expect(rc.err()).toBe('');
    for (const role of ['sports:role.readers', 'sports:role.writers']) {
      const cert = new X509Certificate(await readFile(join(sia, 'certs', `${role}.cert.pem`), 'utf8'));
      expect(cert.subject).toContain(`CN=${role}`);
    }
  });

  it('run stops cleanly with status 0 when the stop signal comes during start-up', async () => {
    const sia = join(dir, 'sia-stop');
    const t = fakeIo(world.env, Promise.resolve('SIGINT'));
    expect(await main(['athenz', 'run', ...world.args(sia)], t.io)).toBe(0);
    expect(t.out().trim().split('\n').at(-1)).toBe('{"event":"stopped","signal":"SIGINT"}');
  });
});
