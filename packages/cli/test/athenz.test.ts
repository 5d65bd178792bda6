// `ecs-identity athenz post → rotate → rolecert → token → run` as child processes against the testkit: the ECS
// agent hands out task-role credentials issued by the strict fake AWS, attestation assumes <domain>.<service> there,
// and the fake ZTS (its own CA, CSR rules, serial tracking) verifies the attestation against the same fake AWS.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { cp, lstat, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAccessToken } from '@ecs-identity/athenz-zts';
import type { EcsAgent, ZtsEmulator } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AthenzWorld, ZTS_PROVIDER as PROVIDER, startAthenzWorld } from './emulators.js';
import { jsonLines, run, start } from './helpers.js';

let world: AthenzWorld;
let agent: EcsAgent;
let zts: ZtsEmulator;
let dir: string;
let env: Record<string, string>;
let args: string[];
let ca: X509Certificate;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-cli-athenz-'));
  world = await startAthenzWorld(dir);
  ({ agent, zts, env } = world);
  args = world.args(join(dir, 'sia'));
  ca = new X509Certificate(zts.caPem);
});

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const keyFile = () => join(dir, 'sia', 'keys', 'sports.api.key.pem');
const certFile = () => join(dir, 'sia', 'certs', 'sports.api.cert.pem');
const mode = async (path: string) => (await stat(path)).mode & 0o777;
const hex = (serial: string) => serial.toLowerCase().replace(/^0+/, '');

/**
 * siad's layout as plain files: the key and the certificate are regular files (no symlink into keys/), every entry
 * of certs/ is one, keys/ has nothing else but the writer's private, empty working directory, and a copy of certs/
 * alone (what a volume mounted into another container holds) still has the certificate.
 */
async function expectPlainFiles(): Promise<void> {
  const others = async (sub: string) =>
    (await readdir(join(dir, 'sia', sub), { withFileTypes: true })).filter((e) => !e.isFile()).map((e) => e.name);
  expect(await others('certs')).toEqual([]);
  expect(await others('keys')).toEqual(['.sports.api.key.pem.pair']);
  expect(await readdir(join(dir, 'sia', 'keys', '.sports.api.key.pem.pair'))).toEqual([]);
  expect((await lstat(certFile())).isFile()).toBe(true);
  expect((await lstat(keyFile())).isFile()).toBe(true);
  const copy = join(dir, `certs-copy-${Date.now()}`);
  await cp(join(dir, 'sia', 'certs'), copy, { recursive: true, verbatimSymlinks: true });
  const copied = new X509Certificate(await readFile(join(copy, 'sports.api.cert.pem'), 'utf8'));
  expect(copied.checkPrivateKey(createPrivateKey(await readFile(keyFile(), 'utf8')))).toBe(true);
  await rm(copy, { recursive: true, force: true });
}

function oneErrorLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

describe('ecs-identity athenz (child process)', () => {
  let serial = '';

  it('post registers and writes the key (0400), the cert (0444) and the CA in the siad layout', async () => {
    const r = await run(['athenz', 'post', ...args], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [out] = jsonLines(r.stdout);
    expect(out).toMatchObject({
      registered: true,
      principal: 'sports.api',
      provider: PROVIDER,
      instanceId: agent.taskId,
      spiffeId: 'spiffe://sports/sa/api',
      keyFile: keyFile(),
      certFile: certFile(),
      caCertFile: join(dir, 'sia', 'certs', 'ca.cert.pem'),
    });
    expect(await mode(keyFile())).toBe(0o400);
    expect(await mode(certFile())).toBe(0o444);
    await expectPlainFiles();
    const cert = new X509Certificate(await readFile(certFile(), 'utf8'));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(keyFile(), 'utf8')))).toBe(true);
    expect(cert.subject).toContain('CN=sports.api');
    expect(cert.subjectAltName).toContain('DNS:api.sports.athenz.cloud');
    expect(cert.subjectAltName).toContain(`athenz://instanceid/${PROVIDER}/${agent.taskId}`);
    expect(hex(cert.serialNumber)).toBe(hex(String(out?.serial)));
    expect(await readFile(join(dir, 'sia', 'certs', 'ca.cert.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
    const record = zts.records().find((x) => x.instanceId === agent.taskId);
    expect(record && hex(record.currentSerial)).toBe(hex(cert.serialNumber));
    serial = cert.serialNumber;
  });

  it('rotate refreshes over mTLS with the saved pair, keeping the key', async () => {
    const keyBefore = await readFile(keyFile(), 'utf8');
    const r = await run(['athenz', 'rotate', ...args], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [out] = jsonLines(r.stdout);
    expect(out).toMatchObject({ refreshed: true, principal: 'sports.api' });
    expect(hex(String(out?.previousSerial))).toBe(hex(serial));
    const cert = new X509Certificate(await readFile(certFile(), 'utf8'));
    expect(hex(cert.serialNumber)).not.toBe(hex(serial));
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(await readFile(keyFile(), 'utf8')).toBe(keyBefore);
    const record = zts.records().find((x) => x.instanceId === agent.taskId);
    expect(record && hex(record.prevSerial)).toBe(hex(serial));
    expect(record && hex(record.currentSerial)).toBe(hex(cert.serialNumber));
    // the refresh was authenticated with the previous certificate
    const refresh = zts.requests().filter((q) => q.method === 'POST' && q.path.includes(`/${agent.taskId}`));
    expect(refresh.at(-1)).toMatchObject({ status: 200, principal: 'sports.api' });
    serial = cert.serialNumber;
  });

  it('post again, with valid saved files, registers anew with a new key instead of refreshing', async () => {
    const keyBefore = await readFile(keyFile(), 'utf8');
    const registers = () => zts.requests().filter((q) => q.method === 'POST' && q.path.endsWith('/instance')).length;
    const refreshes = () => zts.requests().filter((q) => q.method === 'POST' && q.path.includes(`/${agent.taskId}`));
    const [registersBefore, refreshesBefore] = [registers(), refreshes().length];
    const r = await run(['athenz', 'post', ...args], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)[0]).toMatchObject({ registered: true });
    expect(registers()).toBe(registersBefore + 1);
    expect(refreshes()).toHaveLength(refreshesBefore);
    const keyAfter = await readFile(keyFile(), 'utf8');
    expect(keyAfter).not.toBe(keyBefore);
    const cert = new X509Certificate(await readFile(certFile(), 'utf8'));
    expect(hex(cert.serialNumber)).not.toBe(hex(serial));
    expect(cert.checkPrivateKey(createPrivateKey(keyAfter))).toBe(true);
    const record = zts.records().find((x) => x.instanceId === agent.taskId);
    expect(record && hex(record.currentSerial)).toBe(hex(cert.serialNumber));
    serial = cert.serialNumber;
  });

  it('rolecert writes <domain>:role.<role>.cert.pem for the service key', async () => {
    const r = await run(['athenz', 'rolecert', ...args, '-roles', 'sports:role.readers'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const path = join(dir, 'sia', 'certs', 'sports:role.readers.cert.pem');
    expect(jsonLines(r.stdout)[0]).toMatchObject({
      roleCertificates: [{ role: 'sports:role.readers', certFile: path }],
    });
    expect(await mode(path)).toBe(0o444);
    const cert = new X509Certificate(await readFile(path, 'utf8'));
    expect(cert.subject).toContain('CN=sports:role.readers');
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(keyFile(), 'utf8')))).toBe(true);
  });

  it('token writes a verified access token (0400) bound to the service certificate, and never prints it', async () => {
    const r = await run(
      ['athenz', 'token', ...args, '-scope', 'sports:role.readers', '-verify-issuer', zts.issuer],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const path = join(dir, 'sia', 'tokens', 'sports', 'sports:role.readers');
    expect(jsonLines(r.stdout)[0]).toMatchObject({ scope: 'sports:role.readers', verified: true, tokenFile: path });
    expect(await mode(path)).toBe(0o400);
    const token = await readFile(path, 'utf8');
    expect(r.stdout).not.toContain(token);
    const certDer = new Uint8Array(new X509Certificate(await readFile(certFile(), 'utf8')).raw);
    await expect(
      verifyAccessToken(token, { jwks: zts.jwks(), issuer: zts.issuer, audience: 'sports', certificateDer: certDer }),
    ).resolves.toBeDefined();
  });

  it('run refreshes the saved identity, gets role certs and a token, then stops on SIGTERM with status 0', async () => {
    const child = start(['athenz', 'run', ...args, '-roles', 'sports:role.readers', '-scope', 'sports:domain'], env);
    const started = () => ['"event":"rolecerts"', '"event":"token"'].every((e) => child.stdoutSoFar().includes(e));
    // Bounded wait for the start-up lines (the child is killed by its own timeout otherwise).
    for (let i = 0; i < 300 && !started(); i++) {
      if (child.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const events = jsonLines(child.stdoutSoFar());
    expect(events[0]?.event).toBe('identity');
    expect(events.map((e) => e.event).sort()).toEqual(['identity', 'rolecerts', 'token']);
    const identity = events[0];
    expect(hex(String(identity?.serial))).not.toBe(hex(serial)); // it refreshed, with the saved pair
    const cert = new X509Certificate(await readFile(certFile(), 'utf8'));
    expect(hex(cert.serialNumber)).toBe(hex(String(identity?.serial)));
    await expectPlainFiles(); // after a refresh too
    const tokenFile = join(dir, 'sia', 'tokens', 'sports', 'sports:domain');
    expect(events.find((e) => e.event === 'token')).toMatchObject({
      scope: 'sports:domain',
      grantedScope: 'sports:role.readers sports:role.writers',
      tokenFile,
    });
    expect(await mode(tokenFile)).toBe(0o400);
    child.child.kill('SIGTERM');
    const done = await child.done;
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(jsonLines(done.stdout).at(-1)).toEqual({ event: 'stopped', signal: 'SIGTERM' });
  });

  it('rotate with a revoked record exits 1 with one line naming ZTS_REVOKED', async () => {
    expect(zts.revoke(agent.taskId)).toBeGreaterThan(0);
    const r = await run(['athenz', 'rotate', ...args], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r.stderr)).toMatch(/^ecs-identity: athenz rotate: ZTS_REVOKED: /);
  });

  it('rotate without saved files exits 1 with one INVALID_CONFIG line, never registering and never asking ZTS', async () => {
    const before = zts.requests().length;
    const r = await run(['athenz', 'rotate', ...args.slice(0, -1), join(dir, 'nothing-saved')], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(oneErrorLine(r.stderr)).toMatch(
      /^ecs-identity: athenz rotate: INVALID_CONFIG: no saved key and certificate for sports\.api /,
    );
    expect(zts.requests()).toHaveLength(before);
  });

  it('rolecert without saved files fails with one line, and without -zts it is a usage error', async () => {
    const empty = await run(
      ['athenz', 'rolecert', ...args.slice(0, -1), join(dir, 'empty'), '-roles', 'sports:role.readers'],
      env,
    );
    expect(empty.code).toBe(1);
    expect(oneErrorLine(empty.stderr)).toMatch(
      /^ecs-identity: athenz rolecert: INVALID_CONFIG: no saved key and certificate for sports\.api .*: register first/,
    );
    const usage = await run(['athenz', 'post', '-dnsdomains', 'athenz.cloud'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr.split('\n')[0]).toBe(
      'ecs-identity: athenz post: INVALID_ARGUMENT: -zts is required (the ZTS host name, or its URL)',
    );
  });
});
