// `ecs-identity consul login | wait | logout` as a child process against the testkit: the ECS agent hands out
// task-role credentials issued by the strict fake AWS, and the fake Consul checks the bearer token there.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AwsEmulator, ConsulEmulator } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsulWorld, CONSUL_METHOD as METHOD, startConsulWorld } from './emulators.js';
import { jsonLines, run } from './helpers.js';

let world: ConsulWorld;
let aws: AwsEmulator;
let consul: ConsulEmulator;
let dir: string;
let env: Record<string, string>;
let issued: string[];

beforeAll(async () => {
  world = await startConsulWorld();
  ({ aws, consul, env, issuedSecrets: issued } = world);
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-cli-consul-'));
});

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ecs-identity consul (child process)', () => {
  it('login writes the SecretID to the sink file (0600), wait sees it replicated, logout deletes it', async () => {
    const sink = join(dir, 'service-token');
    const login = await run(
      [
        'consul',
        'login',
        '-method',
        METHOD,
        '-token-sink-file',
        sink,
        '-meta',
        'team=payments',
        '-aws-server-id-header-value=consul.dc1',
      ],
      env,
    );
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const [summary] = jsonLines(login.stdout);
    const tokens = consul.tokens();
    expect(tokens).toHaveLength(1);
    const token = tokens[0]!;
    expect(summary).toEqual({
      accessorId: token.accessorId,
      authMethod: METHOD,
      serviceIdentities: ['web'],
      tokenSinkFile: sink,
    });
    expect(await readFile(sink, 'utf8')).toBe(token.secretId);
    expect((await stat(sink)).mode & 0o777).toBe(0o600);
    expect(login.stdout).not.toContain(token.secretId);
    const loginRecord = consul.requests.find((r) => r.path === '/v1/acl/login' && r.status === 200);
    expect(loginRecord?.principalArn).toBe(`arn:aws:iam::${aws.accountId}:role/ecs/web-task`);

    // wait, with the token from CONSUL_HTTP_TOKEN this time
    const wait = await run(['consul', 'wait', '-attempts', '5'], { ...env, CONSUL_HTTP_TOKEN: token.secretId });
    expect(wait.stderr).toBe('');
    expect(wait.code).toBe(0);
    expect(jsonLines(wait.stdout)[0]).toMatchObject({ replicated: true, accessorId: token.accessorId });
    const selfReads = consul.requests.filter((r) => r.path === '/v1/acl/token/self');
    expect(selfReads.at(-1)).toMatchObject({ status: 200, accessorId: token.accessorId });

    const logout = await run(['consul', 'logout', '-token-sink-file', sink], env);
    expect(logout.stderr).toBe('');
    expect(logout.code).toBe(0);
    expect(consul.tokens()).toHaveLength(0);
    expect(consul.requests.at(-1)).toMatchObject({ path: '/v1/acl/logout', status: 200 });

    // the token is gone: a second logout counts it as done (as health-sync and the SDK's logoutAll do)
    const again = await run(['consul', 'logout', '-token-file', sink], env);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(jsonLines(again.stdout)).toEqual([{ loggedOut: true, token: sink }]);
    expect(consul.requests.at(-1)).toMatchObject({ path: '/v1/acl/logout', status: 403, error: 'ACL not found' });
    expect(again.stdout).not.toContain(token.secretId);
  });

  it('a login the server refuses exits 1 with one line naming the cause, writes nothing and leaks no secret', async () => {
    const sink = join(dir, 'refused-token');
    const r = await run(['consul', 'login', '-method', 'no-such-method', '-token-sink-file', sink], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^ecs-identity: consul login: CONSUL_AUTH_METHOD_NOT_FOUND: .*no-such-method/);
    await expect(stat(sink)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(issued.length).toBeGreaterThan(0);
    for (const secret of issued) expect(r.stderr).not.toContain(secret);
  });

  it('wait gives up within -max-wait-ms, however many -attempts are left, and never names the SecretID', async () => {
    // A token no server knows: every stale self-read answers 403 ACL not found, which is waited out.
    const secret = '5e1f0000-0000-4000-8000-00000000dead';
    const reads = () => consul.requests.filter((r) => r.path === '/v1/acl/token/self').length;
    const before = reads();
    const r = await run(['consul', 'wait', '-attempts', '100000', '-interval-ms', '100', '-max-wait-ms', '1500'], {
      ...env,
      CONSUL_HTTP_TOKEN: secret,
    });
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 1, signal: null });
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(
        /^ecs-identity: consul wait: CONSUL_NOT_REPLICATED: the token from CONSUL_HTTP_TOKEN was not readable with \?stale within 1500 ms/,
      ),
    ]);
    expect(r.stderr).not.toContain(secret);
    // It did wait: several reads 100 ms apart, not a first failure.
    expect(reads() - before).toBeGreaterThanOrEqual(3);
  });

  it('login without -token-sink-file is a usage error (exit 2)', async () => {
    const r = await run(['consul', 'login', '-method', METHOD], env);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('ecs-identity: consul login: INVALID_ARGUMENT: -token-sink-file is required');
    expect(consul.tokens()).toHaveLength(0);
  });
});
