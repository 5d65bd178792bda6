// `ecs-identity doctor` as a child process against the testkit's task deployment: a healthy task passes, and each
// check is tripped by the fault it is there to find (in the emulators, or in the flags a user would get wrong).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTaskEmulators, type TaskEmulators } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './helpers.js';

const TAG = 'consul.hashicorp.com.service-name';
/** An auth method that names the local AWS emulator as its STS and IAM endpoints, so a token may carry them. */
const LOCAL_METHOD = 'local-endpoints';

type World = TaskEmulators;

let world: World;
let dir: string;
let ztsCa: string;
const issued: string[] = [];

interface Row {
  check: string;
  status: 'ok' | 'warn' | 'fail' | 'skip';
  detail: string;
  hint?: string;
}

async function addLocalMethod(w: World): Promise<void> {
  w.consul.addAuthMethod({
    name: LOCAL_METHOD,
    config: {
      BoundIAMPrincipalARNs: [`arn:aws:iam::${w.names.accountId}:role${w.names.rolePath}*`],
      EnableIAMEntityDetails: true,
      IAMEntityTags: [TAG],
      ServerIDHeaderValue: w.names.consulServerId,
      STSEndpoint: w.aws.url,
      IAMEndpoint: w.aws.url,
    },
  });
  w.consul.addBindingRule({ authMethod: LOCAL_METHOD, bindType: 'service', bindName: `\${entity_tags.${TAG}}` });
}

/** The flags of a correct command line for `w`: ZTS with its CA, Consul's local method and endpoints. */
function goodArgs(w: World, caFile = ztsCa): string[] {
  return [
    '-zts',
    '127.0.0.1',
    '-ztsport',
    new URL(w.zts.url).port,
    '-ztscacert',
    caFile,
    '-sts-endpoint',
    w.aws.url,
    '-method',
    LOCAL_METHOD,
    '-aws-server-id-header-value',
    w.names.consulServerId,
    '-aws-sts-endpoint',
    w.aws.url,
    '-aws-iam-endpoint',
    w.aws.url,
  ];
}

async function doctor(args: string[], env: Readonly<Record<string, string>> = world.env, timeoutMs?: number) {
  const r = await run(['doctor', '-json', ...args], { ...env }, timeoutMs);
  let report: { status: string; checks: Row[] } | undefined;
  try {
    report = JSON.parse(r.stdout) as { status: string; checks: Row[] };
  } catch {
    throw new Error(`doctor printed no JSON report (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  const row = (check: string): Row => {
    const found = report?.checks.find((c) => c.check === check);
    if (!found) throw new Error(`no row ${check} in ${r.stdout}`);
    return found;
  };
  return { ...r, report, row };
}

/** A port on 127.0.0.1 where nothing listens (bound, then closed). */
async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-identity-doctor-'));
  world = await startTaskEmulators({
    consulReplicationLagMs: 0,
    onAgentCredentials: (c) => issued.push(c.secretAccessKey, ...(c.sessionToken ? [c.sessionToken] : [])),
  });
  await addLocalMethod(world);
  ztsCa = join(dir, 'zts-ca.pem');
  await writeFile(ztsCa, world.zts.caPem);
});

afterAll(async () => {
  await world?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('ecs-identity doctor (child process)', () => {
  it('a healthy task: every check passes, a table on stdout, exit 0, and no secret anywhere', async () => {
    const r = await doctor([...goodArgs(world), '-consul-login']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const statuses = Object.fromEntries(r.report?.checks.map((c) => [c.check, c.status]) ?? []);
    expect(statuses).toEqual({
      'ecs env': 'ok',
      'task metadata': 'ok',
      clock: 'ok',
      'task role': 'ok',
      'athenz service': 'ok',
      'athenz partition': 'ok',
      'athenz attestation': 'ok',
      zts: 'ok',
      consul: 'ok',
      // the token carries the emulator's URLs, which only an auth method naming them accepts (this one does)
      'consul sts endpoint': 'warn',
      'consul iam:GetRole': 'ok',
      'consul role tags': 'ok',
      'consul login': 'ok',
    });
    expect(r.row('athenz service').detail).toContain('sports.api (from task role)');
    expect(r.row('athenz service').detail).toContain(`role/ecs/sports.api`);
    expect(r.row('consul role tags').detail).toBe(`${TAG}=api`);
    expect(r.row('consul login').detail).toMatch(/for service api; logged out again$/);
    // The login's token is gone again.
    expect(world.consul.tokens()).toEqual([]);

    const table = await run(['doctor', ...goodArgs(world)], { ...world.env });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^CHECK\s+STATUS\s+DETAIL\n/);
    expect(table.stdout).toMatch(/\nzts\s+OK\s+https:\/\/127\.0\.0\.1:\d+\/zts\/v1 answered over TLS/);
    expect(table.stdout).toMatch(/\nconsul login\s+SKIP\s+not asked for/);
    expect(table.stdout).toMatch(/\n\s+hint: the auth method's config must set STSEndpoint/);
    expect(table.stdout).toMatch(/\n11 ok, 1 warn, 0 fail, 1 skip\n$/);

    expect(issued.length).toBeGreaterThan(0);
    for (const out of [r.stdout, r.stderr, table.stdout, table.stderr]) {
      for (const secret of [...issued, world.env.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? 'unset']) {
        expect(out).not.toContain(secret);
      }
    }
  });

  it('ecs env, task metadata, task role: a container outside ECS fails them, each with a hint', async () => {
    const r = await doctor(['-timeout-ms', '1000', '-ecs-agent-url', `http://127.0.0.1:${await closedPort()}`], {
      PATH: process.env.PATH ?? '',
    });
    expect(r.code).toBe(1);
    expect(r.report?.status).toBe('fail');
    expect(r.row('ecs env')).toMatchObject({ status: 'fail' });
    expect(r.row('ecs env').hint).toContain('taskRoleArn');
    expect(r.row('task metadata')).toMatchObject({ status: 'fail' });
    expect(r.row('task metadata').detail).toMatch(/^METADATA_UNAVAILABLE: /);
    expect(r.row('task role')).toMatchObject({ status: 'fail' });
    expect(r.row('clock')).toMatchObject({ status: 'skip' });
    expect(r.row('athenz')).toMatchObject({ status: 'skip' });
    expect(r.row('consul')).toMatchObject({ status: 'skip' });
  });

  it('ecs env: without ECS_CONTAINER_METADATA_URI_V4 (an old platform) it warns, and the v3 document has no clock', async () => {
    const r = await doctor([], { ...world.env, ECS_CONTAINER_METADATA_URI_V4: '' });
    expect(r.row('ecs env')).toMatchObject({ status: 'warn' });
    expect(r.row('ecs env').detail).toContain('only the v3 metadata endpoint');
    expect(r.row('ecs env').hint).toContain('Fargate platform 1.4.0');
    expect(r.row('task metadata')).toMatchObject({ status: 'ok' });
    expect(r.row('clock')).toMatchObject({ status: 'skip' });
    expect(r.row('clock').detail).toContain('no ClockDrift');
  });

  it('clock: a host clock off by more than SigV4 allows fails; an unsynchronised one warns', async () => {
    const document = world.agent.taskMetadata('v4');
    const withDrift = (drift: object) =>
      world.agent.setFault({ match: 'v4/task', status: 200, body: JSON.stringify({ ...document, ClockDrift: drift }) });
    try {
      withDrift({ ClockErrorBound: 20 * 60_000, ClockSynchronizationStatus: 'NOT_SYNCHRONIZED' });
      const far = await doctor([]);
      expect(far.row('clock')).toMatchObject({ status: 'fail' });
      expect(far.row('clock').detail).toContain('ClockErrorBound 1200000 ms');
      expect(far.row('clock').hint).toContain('15 minutes');
      expect(far.code).toBe(1);
      // Default endpoints (no -aws-*-endpoint flags): hosts any auth method accepts; the real IAM is out of reach
      // here (the tests' network guard), which only degrades the GetRole check to a warning.
      expect(far.row('consul sts endpoint')).toMatchObject({ status: 'ok' });
      expect(far.row('consul sts endpoint').detail).toContain(
        'STS https://sts.us-west-2.amazonaws.com/ and IAM https://iam.amazonaws.com/',
      );
      expect(far.row('consul iam:GetRole')).toMatchObject({ status: 'warn' });
      expect(far.row('consul iam:GetRole').hint).toContain('the Consul servers call IAM, not the task');

      withDrift({ ClockErrorBound: 3, ClockSynchronizationStatus: 'NOT_SYNCHRONIZED' });
      const unsynced = await doctor([]);
      expect(unsynced.row('clock')).toMatchObject({ status: 'warn' });
      expect(unsynced.row('clock').hint).toContain('Amazon Time Sync Service');

      withDrift({ ClockErrorBound: 1500, ClockSynchronizationStatus: 'SYNCHRONIZED' });
      const loose = await doctor(['-max-clock-error-ms', '1000']);
      expect(loose.row('clock')).toMatchObject({ status: 'warn' });
      expect(loose.row('clock').hint).toContain('-max-clock-error-ms (1000 ms)');
      expect(loose.code).toBe(0);
    } finally {
      world.agent.setFault(undefined);
    }
  });

  it('zts: an untrusted certificate, a closed port and a silent server each fail with their own hint', async () => {
    const noCa = await doctor([
      '-zts',
      '127.0.0.1',
      '-ztsport',
      new URL(world.zts.url).port,
      '-sts-endpoint',
      world.aws.url,
    ]);
    expect(noCa.row('zts')).toMatchObject({ status: 'fail' });
    expect(noCa.row('zts').hint).toContain('-ztscacert');
    expect(noCa.code).toBe(1);

    const closed = await doctor(['-zts', '127.0.0.1', '-ztsport', String(await closedPort()), '-ztscacert', ztsCa]);
    expect(closed.row('zts')).toMatchObject({ status: 'fail' });
    expect(closed.row('zts').hint).toContain('nothing accepted the connection');

    world.zts.setFault({ delayMs: 3000 });
    try {
      const silent = await doctor([...goodArgs(world), '-timeout-ms', '500']);
      expect(silent.row('zts')).toMatchObject({ status: 'fail' });
      expect(silent.row('zts').detail).toMatch(/^TIMEOUT: /);
      expect(silent.row('zts').hint).toContain('no answer within 500 ms');
    } finally {
      world.zts.setFault(undefined);
    }
  });

  it('athenz attestation: no role at the role path (or one that does not trust the task role) fails', async () => {
    const r = await doctor([...goodArgs(world), '-role-path', '/other/']);
    expect(r.row('athenz service').detail).toContain('role/other/sports.api');
    expect(r.row('athenz attestation')).toMatchObject({ status: 'fail' });
    expect(r.row('athenz attestation').detail).toContain('AccessDenied');
    expect(r.row('athenz attestation').hint).toContain('trust policy');
    expect(r.code).toBe(1);
  });

  it('consul: unreachable, not TLS-trusted, ACLs off', async () => {
    const closed = await doctor([], { ...world.env, CONSUL_HTTP_ADDR: `127.0.0.1:${await closedPort()}` });
    expect(closed.row('consul')).toMatchObject({ status: 'fail' });
    expect(closed.row('consul').hint).toContain('nothing accepted the connection');

    // ZTS's port speaks TLS with a CA the task was not given for Consul.
    const tls = await doctor([], {
      ...world.env,
      CONSUL_HTTP_ADDR: `https://127.0.0.1:${new URL(world.zts.url).port}`,
    });
    expect(tls.row('consul')).toMatchObject({ status: 'fail' });
    expect(tls.row('consul').hint).toContain('-ca-file / CONSUL_CACERT');

    world.consul.setAclsEnabled(false);
    try {
      const off = await doctor([]);
      expect(off.row('consul')).toMatchObject({ status: 'fail' });
      expect(off.row('consul').detail).toContain('CONSUL_ACL_DISABLED');
      expect(off.code).toBe(1);
    } finally {
      world.consul.setAclsEnabled(true);
    }
  });

  it('consul iam:GetRole: a task role without iam:GetRole on itself degrades to a warning with a hint', async () => {
    world.aws.setFault({
      match: 'GetRole',
      status: 403,
      contentType: 'text/xml',
      body: `<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: ${world.taskRole.arn} is not authorized to perform: iam:GetRole on resource: role ${world.names.taskRoleName}</Message></Error><RequestId>4f5c1e0e-doctor</RequestId></ErrorResponse>`,
    });
    try {
      const r = await doctor(goodArgs(world));
      expect(r.row('consul iam:GetRole')).toMatchObject({ status: 'warn' });
      expect(r.row('consul iam:GetRole').detail).toMatch(
        /^IAM refused it: HTTP_STATUS: iam:GetRole at .* AccessDenied/,
      );
      expect(r.row('consul iam:GetRole').hint).toContain('allow iam:GetRole');
      expect(r.row('consul role tags')).toMatchObject({ status: 'skip' });
      expect(r.code).toBe(0);
    } finally {
      world.aws.setFault(undefined);
    }
  });

  it('consul login: a wrong server ID is refused by the auth method, and the hint names the flag', async () => {
    const args = goodArgs(world).map((a) => (a === world.names.consulServerId ? 'not.the.server' : a));
    const r = await doctor([...args, '-consul-login']);
    expect(r.row('consul login')).toMatchObject({ status: 'fail' });
    expect(r.row('consul login').detail).toContain('CONSUL_LOGIN_FAILED');
    expect(r.row('consul login').hint).toContain('-aws-server-id-header-value');
    expect(r.code).toBe(1);
  });

  it('usage errors exit 2 before any network call', async () => {
    const r = await run(['doctor', '-consul-login'], { PATH: process.env.PATH ?? '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-consul-login needs a Consul address');
    const badZts = await run(['doctor', '-zts', 'not a host'], { PATH: process.env.PATH ?? '' });
    expect(badZts.code).toBe(2);
  });
});

describe('ecs-identity doctor: names and partitions', () => {
  it('athenz service: a task role not named <domain>.<service>-service fails; consul role tags: a missing tag warns', async () => {
    const w = await startTaskEmulators({ taskRoleName: 'web-task', zts: false, consulReplicationLagMs: 0 });
    try {
      const r = await doctor(
        [
          '-zts',
          '127.0.0.1',
          '-ztsport',
          String(await closedPort()),
          '-aws-iam-endpoint',
          w.aws.url,
          '-consul-tags',
          `${TAG},team`,
        ],
        w.env,
      );
      expect(r.row('athenz service')).toMatchObject({ status: 'fail' });
      expect(r.row('athenz service').detail).toContain('web-task is not named <domain>.<service>-service');
      expect(r.row('athenz service').hint).toContain('-domain and -service');
      expect(r.row('athenz attestation')).toMatchObject({ status: 'skip' });
      expect(r.row('consul role tags')).toMatchObject({ status: 'warn' });
      expect(r.row('consul role tags').detail).toBe(`the task role has no tag team (has ${TAG}=api)`);
      // Only the IAM URL given is one Consul refuses by default.
      expect(r.row('consul sts endpoint').hint).toContain(`IAMEndpoint ${w.aws.url}`);
      expect(r.row('consul sts endpoint').hint).not.toContain('STSEndpoint');
    } finally {
      await w.close();
    }
  });

  it('aws-cn: the default STS host is one Consul refuses without STSEndpoint, and ZTS attestation is aws-only', async () => {
    const w = await startTaskEmulators({
      region: 'cn-north-1',
      agent: { partition: 'aws-cn' },
      zts: false,
      consulReplicationLagMs: 0,
    });
    try {
      const r = await doctor(
        ['-zts', '127.0.0.1', '-ztsport', String(await closedPort()), '-aws-include-entity=false'],
        w.env,
      );
      expect(r.row('task metadata').detail).toContain('partition aws-cn');
      const sts = r.row('consul sts endpoint');
      expect(sts.status).toBe('warn');
      expect(sts.detail).toContain('https://sts.cn-north-1.amazonaws.com.cn/');
      expect(sts.hint).toContain('STSEndpoint https://sts.cn-north-1.amazonaws.com.cn/');
      expect(r.row('athenz partition')).toMatchObject({ status: 'warn' });
      expect(r.row('consul iam:GetRole')).toMatchObject({ status: 'skip' });
    } finally {
      await w.close();
    }
  });
});
