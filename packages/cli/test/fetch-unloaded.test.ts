// What a start costs in a new process: the CLI's requests go through node:http, and a response's headers are read
// without a fetch `Headers` object (core's transport-node.ts). In Node the first `Headers` loads Node's whole fetch
// implementation (undici: 15-20 ms of a new process's start), so a command that never makes one must never load it.
// Likewise a command that talks plain http only (consul login: the ECS agent and a local Consul agent) never loads
// node:https and node:tls, nor node:zlib unless an answer comes compressed (about 2 ms; transport-node.ts loads each
// on first use). Checked in the real binary, with a preloaded probe that lists the Node-internal modules it loaded.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AthenzWorld, CONSUL_METHOD, type ConsulWorld, startAthenzWorld, startConsulWorld } from './emulators.js';
import { run } from './helpers.js';

const PROBE = pathToFileURL(fileURLToPath(new URL('./module-load-probe.mjs', import.meta.url))).href;

let dir: string;
let athenz: AthenzWorld;
let consul: ConsulWorld;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-cli-fetch-'));
  athenz = await startAthenzWorld(dir);
  consul = await startConsulWorld();
});

afterAll(async () => {
  await athenz?.close();
  await consul?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * The env that preloads the probe (after the tests' own NODE_OPTIONS: the network guard), writing the Node-internal
 * modules matching `match` to `out`.
 */
const probed = (out: string, match = 'undici') => ({
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${PROBE}`.trim(),
  MODULE_PROBE_OUT: out,
  MODULE_PROBE_MATCH: match,
});

/** `athenz post` run to its end with the probe on `match`: its result, and what the probe saw (one per line). */
async function probedAthenzPost(name: string, match?: string) {
  const out = join(dir, `${name}.txt`);
  const r = await run(['athenz', 'post', ...athenz.args(join(dir, `sia-${name}`))], {
    ...athenz.env,
    ...probed(out, match),
  });
  return { r, loaded: await readFile(out, 'utf8') };
}

/** `consul login` run to its end with the probe on `match`: its result, and what the probe saw (one per line). */
async function probedConsulLogin(name: string, match?: string) {
  const out = join(dir, `${name}.txt`);
  const login = ['consul', 'login', '-method', CONSUL_METHOD, '-token-sink-file', join(dir, `token-${name}`)];
  const r = await run([...login, `-aws-server-id-header-value=${consul.names.consulServerId}`], {
    ...consul.env,
    ...probed(out, match),
  });
  return { r, loaded: await readFile(out, 'utf8') };
}

/** Node's TLS and https modules and zlib, as `process.moduleLoadList` names them. */
const TLS_AND_ZLIB = '^NativeModule (https|tls|_tls_wrap|zlib)$';

describe("Node's fetch implementation stays unloaded", () => {
  it('the probe sees it when a process makes a Headers object (this Node loads it on first use)', async () => {
    const out = join(dir, 'control.txt');
    // `ecs-identity --help` makes no Headers; `--import` of a second module that makes one does
    const maker = `data:text/javascript,${encodeURIComponent('new Headers();')}`;
    const r = await run(['--help'], { ...probed(out), NODE_OPTIONS: `${probed(out).NODE_OPTIONS} --import ${maker}` });
    expect(r.code).toBe(0);
    expect(await readFile(out, 'utf8')).toContain('undici');
    const without = join(dir, 'control-without.txt');
    expect((await run(['--help'], probed(without))).code).toBe(0);
    expect(await readFile(without, 'utf8')).toBe('');
  });

  it('athenz post (metadata, credentials, AssumeRole, a ZTS register) does not load it', async () => {
    const { r, loaded } = await probedAthenzPost('athenz');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(loaded).toBe('');
  });

  it('consul login (metadata, credentials, login, the replication wait) does not load it', async () => {
    const { r, loaded } = await probedConsulLogin('consul');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(loaded).toBe('');
  });
});

describe('a command that talks plain http only loads neither https and TLS nor zlib', () => {
  it('athenz post (ZTS over https) loads https and TLS: the probe sees them', async () => {
    const { r, loaded } = await probedAthenzPost('athenz-tls', TLS_AND_ZLIB);
    expect(r.code).toBe(0);
    expect(loaded.split('\n')).toEqual(expect.arrayContaining(['NativeModule https', 'NativeModule tls']));
  });

  it('consul login (the ECS agent and Consul over plain http) loads none of them', async () => {
    const { r, loaded } = await probedConsulLogin('consul-tls', TLS_AND_ZLIB);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(loaded).toBe('');
  });
});
