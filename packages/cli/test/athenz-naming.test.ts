// siad's naming settings in `ecs-identity athenz` (child processes against the testkit): -key-type, -role-path /
// ATHENZ_SIA_ROLE_PATH, -omit-domain / ATHENZ_SIA_OMIT_DOMAIN, SimpleName services, and ZTS's role-membership refusal
// reaching the error line with its own code.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AthenzWorld, startAthenzWorld } from './emulators.js';
import { jsonLines, run } from './helpers.js';

let world: AthenzWorld;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-cli-naming-'));
  world = await startAthenzWorld(dir);
  // siad's omit_domain: the attestation role is named after the service alone, beside the task role (path /ecs/)
  world.aws.addRole({ name: 'api', path: world.names.rolePath, trust: [world.taskRole.arn] });
});

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sia = (name: string) => join(dir, name);
const callerArns = () =>
  world.aws.requests.filter((r) => r.action === 'GetCallerIdentity' && r.status === 200).map((r) => r.callerArn);

function errorLine(stderr: string): string {
  return stderr.trimEnd().split('\n')[0] ?? '';
}

describe('ecs-identity athenz: naming and keys (child process)', () => {
  it('-key-type ec makes an ECDSA P-256 key (RSA 2048 by default, as siad)', async () => {
    const r = await run(['athenz', 'post', ...world.args(sia('ec')), '-key-type', 'ec'], world.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const keyPem = await readFile(join(sia('ec'), 'keys', 'sports.api.key.pem'), 'utf8');
    const key = createPrivateKey(keyPem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const cert = new X509Certificate(await readFile(join(sia('ec'), 'certs', 'sports.api.cert.pem'), 'utf8'));
    expect(cert.checkPrivateKey(key)).toBe(true);
    // rotate -rotatekey makes its new key of the same type (from the variable this time)
    const rotated = await run(['athenz', 'rotate', ...world.args(sia('ec')), '-rotatekey'], {
      ...world.env,
      ECS_IDENTITY_KEY_TYPE: 'ec',
    });
    expect(rotated.code).toBe(0);
    const newKey = await readFile(join(sia('ec'), 'keys', 'sports.api.key.pem'), 'utf8');
    expect(newKey).not.toBe(keyPem);
    expect(createPrivateKey(newKey).asymmetricKeyType).toBe('ec');
    const bad = await run(['athenz', 'post', ...world.args(sia('ec')), '-key-type', 'dsa'], world.env);
    expect(bad.code).toBe(2);
    expect(errorLine(bad.stderr)).toBe(
      'ecs-identity: athenz post: INVALID_ARGUMENT: -key-type "dsa" is not one of rsa, ec',
    );
  });

  it('-role-path ecs (siad role_path) assumes role/ecs/<domain>.<service> with -domain / -service', async () => {
    const r = await run(
      ['athenz', 'post', ...world.args(sia('path')), '-domain', 'sports', '-service', 'api', '-role-path', 'ecs'],
      world.env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(callerArns().at(-1)).toBe(`arn:aws:sts::${world.names.accountId}:assumed-role/sports.api/sports.api`);
    // the same from ATHENZ_SIA_ROLE_PATH, written /ecs
    const env = await run(['athenz', 'post', ...world.args(sia('path')), '-domain', 'sports', '-service', 'api'], {
      ...world.env,
      ATHENZ_SIA_ROLE_PATH: '/ecs',
    });
    expect(env.code).toBe(0);
  });

  it('a role path that cannot be an IAM path is a usage error naming where it came from, before any request', async () => {
    const before = world.zts.requests().length;
    const flag = await run(['athenz', 'post', ...world.args(sia('bad')), '-role-path', 'a b'], world.env);
    expect(flag.code).toBe(2);
    expect(errorLine(flag.stderr)).toMatch(
      /^ecs-identity: athenz post: INVALID_ARGUMENT: -role-path "a b" is not an IAM path/,
    );
    const env = await run(['athenz', 'post', ...world.args(sia('bad'))], {
      ...world.env,
      ATHENZ_SIA_ROLE_PATH: 'a//b',
    });
    expect(env.code).toBe(2);
    expect(errorLine(env.stderr)).toMatch(/environment variable ATHENZ_SIA_ROLE_PATH "a\/\/b" is not an IAM path/);
    expect(world.zts.requests()).toHaveLength(before);
  });

  it('-omit-domain (ATHENZ_SIA_OMIT_DOMAIN): the role and session are <service>; ZTS registers and refreshes', async () => {
    const args = [...world.args(sia('omit'))];
    const post = await run(['athenz', 'post', ...args, '-omit-domain'], world.env);
    expect(post.stderr).toBe('');
    expect(post.code).toBe(0);
    expect(jsonLines(post.stdout)[0]).toMatchObject({ registered: true, principal: 'sports.api' });
    expect(callerArns().at(-1)).toBe(`arn:aws:sts::${world.names.accountId}:assumed-role/api/api`);
    const rotate = await run(['athenz', 'rotate', ...args], { ...world.env, ATHENZ_SIA_OMIT_DOMAIN: 'true' });
    expect(rotate.stderr).toBe('');
    expect(rotate.code).toBe(0);
    expect(callerArns().at(-1)).toBe(`arn:aws:sts::${world.names.accountId}:assumed-role/api/api`);
  });

  it('a dotted service is refused locally (INVALID_NAME), never sent to ZTS', async () => {
    const before = world.zts.requests().length;
    const r = await run(
      ['athenz', 'post', ...world.args(sia('dot')), '-domain', 'sports', '-service', 'api.v1'],
      world.env,
    );
    expect(r.code).toBe(1);
    expect(errorLine(r.stderr)).toMatch(/^ecs-identity: athenz post: INVALID_NAME: service "api\.v1" /);
    expect(world.zts.requests()).toHaveLength(before);
  });

  it('a role the service is not a member of: one ZTS_NOT_ROLE_MEMBER line', async () => {
    const root = sia('member');
    expect((await run(['athenz', 'post', ...world.args(root)], world.env)).code).toBe(0);
    const r = await run(['athenz', 'rolecert', ...world.args(root), '-roles', 'sports:role.admins'], world.env);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(errorLine(r.stderr)).toMatch(
      /^ecs-identity: athenz rolecert: ZTS_NOT_ROLE_MEMBER: .*principal sports\.api is not included in the requested role\(s\) in domain sports$/,
    );
  });
});
