// End to end: the testkit ECS agent (task metadata + task-role credentials), AWS (STS AssumeRole /
// GetCallerIdentity with strict SigV4) and ZTS (HTTPS with its own CA, CSR rules, attestation checked against the
// fake AWS, serial tracking, role certs, JWT access tokens). Nothing is stubbed on the client side.
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accessTokenProvider,
  createZtsClient,
  describeCertificate,
  type InstanceRefreshInformation,
  type InstanceRegisterInformation,
  roleCertificateProvider,
  verifyAccessToken,
  type ZtsClient,
  type ZtsTransport,
} from '@ecs-identity/athenz-zts';
import { type AthenzIdentityOptions, athenzIdentityProvider, siadFileSink } from '@ecs-identity/athenz-zts/node';
import { IdentityError } from '@ecs-identity/core';
import {
  type AwsEmulator,
  type EcsAgent,
  startAws,
  startEcsAgent,
  startZts,
  type ZtsEmulator,
} from '@ecs-identity/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { siadPaths } from '../src/node/siad-file-sink.js';
import { nodeZtsPlatform } from '../src/node/zts-transport.js';

let aws: AwsEmulator;
let agent: EcsAgent;
let zts: ZtsEmulator;
let client: ZtsClient;
let root: string;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  aws = await startAws({ region: 'us-west-2' });
  const taskRole = aws.addRole({ name: 'sports.api-service', path: '/ecs/', trust: ['*'] });
  aws.addRole({ name: 'sports.api', path: '/ecs/', trust: [taskRole.arn] });
  aws.addRole({ name: 'weather.api', trust: [taskRole.arn] });
  // siad's omit_domain: an IAM role named after the service alone (and no sports.web role at all)
  aws.addRole({ name: 'web', path: '/ecs/', trust: [taskRole.arn] });
  agent = await startEcsAgent({
    region: 'us-west-2',
    taskRoleArn: taskRole.arn,
    credentials: async (arn) => aws.issueRoleCredentials(arn),
  });
  zts = await startZts({
    aws: { url: aws.url, region: 'us-west-2' },
    providers: ['athenz.aws-ecs.us-west-2'],
    dnsSuffix: 'aws.athenz.cloud',
    domains: [
      {
        name: 'sports',
        awsAccount: '123456789012',
        services: ['api', 'web'],
        roles: { readers: ['sports.api'] },
        instanceDeleters: ['sports.api'],
      },
      // registered with another AWS account: attestation from ours must be refused
      {
        name: 'weather',
        awsAccount: '999999999999',
        services: ['api'],
        roles: { writers: ['sports.api'], admins: ['other.svc'] },
      },
    ],
  });
  client = createZtsClient({ url: zts.baseUrl, caBundle: zts.caPem });
  root = mkdtempSync(join(tmpdir(), 'athenz-zts-e2e-'));
});

afterAll(async () => {
  for (const p of open.splice(0)) await p.close().catch(() => {});
  await client?.close();
  await Promise.all([zts?.close(), agent?.close(), aws?.close()]);
  rmSync(root, { recursive: true, force: true });
});

afterEach(async () => {
  for (const p of open.splice(0)) await p.close().catch(() => {});
});

function identity(over: Partial<AthenzIdentityOptions> = {}) {
  const p = athenzIdentityProvider({
    zts: client,
    env: agent.env,
    dnsSuffixes: ['aws.athenz.cloud'],
    sink: siadFileSink({ root }),
    refresh: { background: false },
    ...over,
    sts: { endpoint: aws.url, ...over.sts },
    key: { type: 'ec', ...over.key },
  });
  open.push(p);
  return p;
}

function opensslVerify(certPem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'athenz-zts-verify-'));
  try {
    writeFileSync(join(dir, 'ca.pem'), zts.caPem);
    writeFileSync(join(dir, 'cert.pem'), certPem);
    const r = spawnSync('openssl', ['verify', '-CAfile', 'ca.pem', 'cert.pem'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 20_000,
    });
    return r.stdout + r.stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const instancePosts = () => zts.requests().filter((r) => r.method === 'POST' && r.path.startsWith('/zts/v1/instance'));

describe('identity against the testkit ZTS', () => {
  it('registers from the ECS agent alone (task metadata, task-role credentials, attestation) with an RSA 2048 key', async () => {
    const p = identity({ key: { type: 'rsa' }, sink: siadFileSink({ root: join(root, 'rsa') }) });
    const id = await p.get();
    expect(id.domain).toBe('sports');
    expect(id.service).toBe('api');
    expect(id.instanceId).toBe(agent.taskId);
    expect(id.provider).toBe('athenz.aws-ecs.us-west-2');
    const names = await describeCertificate(id.certificatePem);
    expect(names.commonNames).toEqual(['sports.api']);
    expect(names.dnsNames).toContain('api.sports.aws.athenz.cloud');
    expect(names.uris).toContain(`athenz://instanceid/athenz.aws-ecs.us-west-2/${agent.taskId}`);
    expect(opensslVerify(id.certificatePem)).toMatch(/cert\.pem: OK/);
    expect(id.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    const expectedLifetime = 7 * 24 * 3600_000;
    expect(Math.abs(id.expiresAt.getTime() - id.notBefore.getTime() - expectedLifetime)).toBeLessThan(5 * 60_000);
    // the attestation reached AWS as AssumeRole into the /ecs/ path role, and ZTS checked it with GetCallerIdentity
    expect(aws.requests.some((r) => r.action === 'AssumeRole' && r.status === 200)).toBe(true);
    expect(
      aws.requests.some((r) => r.action === 'GetCallerIdentity' && r.callerArn?.includes(':assumed-role/sports.api/')),
    ).toBe(true);
    await p.close();
  });

  it('refreshes over mTLS with the current cert, rotates keys when asked, and a stale cert is revoked', async () => {
    const p = identity({ key: { rotate: true } });
    const first = await p.get();
    const second = await p.get({ forceRefresh: true });
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.privateKeyPem).not.toBe(first.privateKeyPem);
    const refresh = instancePosts().at(-1);
    expect(refresh?.path).toBe(`/zts/v1/instance/athenz.aws-ecs.us-west-2/sports/api/${agent.taskId}`);
    expect(refresh?.principal).toBe('sports.api');
    expect(refresh?.status).toBe(200);
    const third = await p.get({ forceRefresh: true });
    expect(third.serialNumber).not.toBe(second.serialNumber);
    await p.close();
    // `first` is now two generations old. Put it back on disk, as a restored backup would, and start again:
    // the refresh with it revokes the record.
    const staleSink = siadFileSink({ root: join(root, 'stale') });
    await staleSink.saveIdentity('sports', 'api', { keyPem: first.privateKeyPem, certPem: first.certificatePem });
    const e = await identity({ sink: staleSink, instance: { reRegister: false } })
      .get()
      .catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ZTS_REVOKED')).toBe(true);
    expect((e as Error).message).toMatch(/revoked/i);
    expect(instancePosts().at(-1)?.status).toBe(403);
    // by default the provider registers anew, with a new key
    const fresh = await identity({ sink: staleSink }).get();
    expect(fresh.privateKeyPem).not.toBe(first.privateKeyPem);
    expect(instancePosts().at(-1)?.path).toBe('/zts/v1/instance');
  });

  it('restarts from files with a refresh, not a register, reusing the saved key', async () => {
    const sink = siadFileSink({ root: join(root, 'restart') });
    const first = await identity({ sink }).get();
    const before = instancePosts().length;
    const again = await identity({ sink }).get();
    const posts = instancePosts().slice(before);
    expect(posts.map((r) => r.path)).toEqual([`/zts/v1/instance/athenz.aws-ecs.us-west-2/sports/api/${agent.taskId}`]);
    expect(again.privateKeyPem).toBe(first.privateKeyPem);
    expect(readFileSync(siadPaths('sports', 'api', { root: join(root, 'restart') }).certPath, 'utf8')).toBe(
      again.certificatePem,
    );
  });

  it('deletes the instance record on close when asked', async () => {
    const p = identity({ instance: { deleteOnClose: true }, sink: siadFileSink({ root: join(root, 'delete') }) });
    await p.get();
    await p.close();
    const del = zts.requests().find((r) => r.method === 'DELETE');
    expect(del?.status).toBe(204);
  });

  it('`await using` closes the identity provider, its role certificates and the ZTS client (Symbol.asyncDispose)', async () => {
    const before = zts.requests().filter((r) => r.method === 'DELETE').length;
    let instanceId = '';
    let roles: ReturnType<typeof roleCertificateProvider> | undefined;
    {
      await using own = createZtsClient({ url: zts.baseUrl, caBundle: zts.caPem });
      await using id = athenzIdentityProvider({
        zts: own,
        env: agent.env,
        dnsSuffixes: ['aws.athenz.cloud'],
        sink: siadFileSink({ root: join(root, 'using') }),
        refresh: { background: false },
        sts: { endpoint: aws.url },
        key: { type: 'ec' },
        instance: { deleteOnClose: true },
      });
      await using rc = roleCertificateProvider({ zts: own, identity: id, roles: ['sports:role.readers'] });
      roles = rc;
      instanceId = (await id.get()).instanceId;
      expect(Object.keys((await rc.get()).certificates)).toEqual(['sports:role.readers']);
    }
    // Left the block: the identity deleted its instance record (deleteOnClose), the role provider is closed.
    const deletes = zts.requests().filter((r) => r.method === 'DELETE');
    expect(deletes.length).toBe(before + 1);
    expect(deletes.at(-1)?.path).toContain(instanceId);
    expect(deletes.at(-1)?.status).toBe(204);
    await expect(roles?.get()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

/** A ZTS client whose transport notes every JSON body it sends (what went over the wire to the fake ZTS). */
function recordingClient(): {
  client: ZtsClient;
  bodies: (InstanceRegisterInformation | InstanceRefreshInformation)[];
} {
  const bodies: (InstanceRegisterInformation | InstanceRefreshInformation)[] = [];
  const { transport, close } = nodeZtsPlatform.transport({ caBundle: zts.caPem, timeoutMs: 10_000, keepAlive: true });
  open.push({ close: async () => close() });
  const recording: ZtsTransport = (tls) => {
    const http = transport(tls);
    return {
      request: (req) => {
        if (typeof req.body === 'string' && String(req.url).includes('/instance')) bodies.push(JSON.parse(req.body));
        return http.request(req);
      },
    };
  };
  return { client: createZtsClient({ url: zts.baseUrl, transport: recording }), bodies };
}

describe("siad's naming against the testkit ZTS", () => {
  it('a SPIFFE namespace: register and refresh send it, and the ZTS (which checks the URI against it) accepts both', async () => {
    const { client: spied, bodies } = recordingClient();
    const p = identity({
      zts: spied,
      csr: { spiffe: { trustDomain: 'athenz.io', namespace: 'prod' } },
      sink: siadFileSink({ root: join(root, 'namespace') }),
    });
    const first = await p.get();
    expect(first.spiffeId).toBe('spiffe://athenz.io/ns/prod/sa/sports.api');
    const second = await p.get({ forceRefresh: true });
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(bodies.map((b) => b.namespace)).toEqual(['prod', 'prod']);
    expect(
      instancePosts()
        .slice(-2)
        .map((r) => r.status),
    ).toEqual([201, 200]);
    // the trust-domain form without a namespace means `default`, which is sent too (as siad does)
    const { client: spied2, bodies: bodies2 } = recordingClient();
    const q = identity({
      zts: spied2,
      csr: { spiffe: { trustDomain: 'athenz.io' } },
      sink: siadFileSink({ root: join(root, 'namespace-default') }),
    });
    expect((await q.get()).spiffeId).toBe('spiffe://athenz.io/ns/default/sa/sports.api');
    expect(bodies2[0]?.namespace).toBe('default');
    // the basic form names no namespace: none is sent
    const { client: spied3, bodies: bodies3 } = recordingClient();
    await identity({ zts: spied3, sink: siadFileSink({ root: join(root, 'namespace-none') }) }).get();
    expect(bodies3[0] && 'namespace' in bodies3[0]).toBe(false);
  });

  it('rolePath /ecs (siad role_path, here from ATHENZ_SIA_ROLE_PATH) assumes role/ecs/sports.api', async () => {
    const p = identity({
      names: { domain: 'sports', service: 'api' },
      env: { ...agent.env, ATHENZ_SIA_ROLE_PATH: '/ecs' },
      sink: siadFileSink({ root: join(root, 'role-path') }),
    });
    const id = await p.get();
    expect(id.service).toBe('api');
    const assume = aws.requests.filter((r) => r.action === 'AssumeRole').at(-1);
    expect(assume?.status).toBe(200);
    expect(aws.requests.filter((r) => r.action === 'GetCallerIdentity').at(-1)?.callerArn).toMatch(
      /:assumed-role\/sports\.api\/sports\.api$/,
    );
  });

  it('omitDomain: assumes the role <service>, attests role and session <service>; ZTS accepts register and refresh', async () => {
    const p = identity({
      names: { domain: 'sports', service: 'web', rolePath: 'ecs' },
      env: { ...agent.env, ATHENZ_SIA_OMIT_DOMAIN: 'true' },
      sink: siadFileSink({ root: join(root, 'omit-domain') }),
    });
    const first = await p.get();
    expect((await describeCertificate(first.certificatePem)).commonNames).toEqual(['sports.web']);
    const second = await p.get({ forceRefresh: true });
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(
      instancePosts()
        .slice(-2)
        .map((r) => r.status),
    ).toEqual([201, 200]);
    // ZTS's GetCallerIdentity saw the role `web`, session `web`
    const checks = aws.requests.filter((r) => r.action === 'GetCallerIdentity').slice(-2);
    expect(checks.map((r) => r.callerArn)).toEqual([
      'arn:aws:sts::123456789012:assumed-role/web/web',
      'arn:aws:sts::123456789012:assumed-role/web/web',
    ]);
  });

  it('a dotted service never reaches ZTS: INVALID_NAME before any request', async () => {
    const before = zts.requests().length;
    const e = await identity({
      names: { domain: 'sports', service: 'api.v1' },
      sink: siadFileSink({ root: join(root, 'dot') }),
    })
      .get()
      .catch((err: unknown) => err);
    expect(IdentityError.is(e, 'INVALID_NAME')).toBe(true);
    expect((e as Error).message).toMatch(/service "api\.v1"/);
    expect(zts.requests()).toHaveLength(before);
  });
});

describe('role certificates and access tokens against the testkit ZTS', () => {
  it('issues role certs for member roles, chained to the ZTS CA; refuses a role we are not in', async () => {
    const id = identity({ sink: siadFileSink({ root: join(root, 'roles') }) });
    const roles = roleCertificateProvider({
      zts: client,
      identity: id,
      roles: ['sports:role.readers', 'weather:role.writers'],
    });
    open.push(roles);
    const set = await roles.get();
    const readers = set.certificates['sports:role.readers']!;
    expect((await describeCertificate(readers.certificatePem)).commonNames).toEqual(['sports:role.readers']);
    expect(opensslVerify(readers.certificatePem)).toMatch(/cert\.pem: OK/);
    const rotated = await id.get({ forceRefresh: true });
    expect((await roles.get()).identitySerial).toBe(rotated.serialNumber);

    const notMember = roleCertificateProvider({ zts: client, identity: id, roles: ['weather:role.admins'] });
    open.push(notMember);
    const e = await notMember.get().catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ZTS_NOT_ROLE_MEMBER')).toBe(true);
    expect((e as IdentityError).status).toBe(403);
    expect((e as IdentityError).retryable).toBe(false);
    expect((e as Error).message).toContain('is not included in the requested role(s) in domain weather');
  });

  it('an access token for roles we are not in: ZTS_NOT_ROLE_MEMBER; a delete we may not make: ZTS_NOT_AUTHORIZED', async () => {
    const id = identity({ sink: siadFileSink({ root: join(root, 'not-member') }) });
    const tokens = accessTokenProvider({ zts: client, identity: id, scope: 'weather:role.admins' });
    open.push(tokens);
    const e = await tokens.get().catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ZTS_NOT_ROLE_MEMBER')).toBe(true);
    expect((e as Error).message).toContain('postaccesstokenrequest: principal sports.api is not included');
    const current = await id.get();
    const denied = await client
      .deleteInstance(
        { provider: 'athenz.aws-ecs.us-west-2', domain: 'weather', service: 'api', instanceId: agent.taskId },
        { keyPem: current.privateKeyPem, certPem: current.certificatePem },
      )
      .catch((err: unknown) => err);
    expect(IdentityError.is(denied, 'ZTS_NOT_AUTHORIZED')).toBe(true);
    expect((denied as IdentityError).status).toBe(403);
  });

  it('access tokens verify against the JWKS, are bound to the cert, and are replaced when the cert rotates', async () => {
    const id = identity({ sink: siadFileSink({ root: join(root, 'tokens') }) });
    const tokens = accessTokenProvider({
      zts: client,
      identity: id,
      scope: 'sports:domain',
      verify: { issuer: zts.issuer },
    });
    open.push(tokens);
    const t1 = await tokens.get();
    const cert1 = await id.get();
    expect(t1.identitySerial).toBe(cert1.serialNumber);
    const jwks = await client.jwks();
    const claims = await verifyAccessToken(t1.token, {
      jwks,
      issuer: zts.issuer,
      audience: 'sports',
      certificateDer: cert1.certificate.der,
    });
    expect(claims.aud).toBe('sports');
    const cert2 = await id.get({ forceRefresh: true });
    const t2 = await tokens.get();
    expect(t2.token).not.toBe(t1.token);
    expect(t2.identitySerial).toBe(cert2.serialNumber);
    // the old token is bound to the old certificate
    await expect(
      verifyAccessToken(t1.token, {
        jwks,
        issuer: zts.issuer,
        audience: 'sports',
        certificateDer: cert2.certificate.der,
      }),
    ).rejects.toMatchObject({ code: 'TOKEN_VERIFICATION_FAILED' });
  });
});

describe('ZTS errors reach callers as typed codes with the server message', () => {
  it('a DNS suffix the provider does not own: ZTS_CSR_REJECTED', async () => {
    const p = identity({ dnsSuffixes: ['evil.example.com'], sink: siadFileSink({ root: join(root, 'csr') }) });
    const e = await p.get().catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ZTS_CSR_REJECTED')).toBe(true);
    expect((e as Error).message).toMatch(/400/);
  });

  it('an unknown provider: ZTS_PROVIDER_NOT_AUTHORIZED, never a secret in the message', async () => {
    const p = identity({
      names: { provider: 'athenz.aws-ecs.eu-west-1' },
      sink: siadFileSink({ root: join(root, 'prov') }),
    });
    const e = await p.get().catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ZTS_PROVIDER_NOT_AUTHORIZED')).toBe(true);
    expect((e as IdentityError).status).toBe(403);
    expect((e as Error).message).toContain('not authorized to launch');
    expect((e as Error).message).not.toMatch(/ASIA[A-Z0-9]{12,}/);
  });

  it('attestation from an account the domain is not registered with: ZTS_ATTESTATION_REJECTED', async () => {
    const p = identity({
      names: { domain: 'weather', service: 'api' },
      sink: siadFileSink({ root: join(root, 'att') }),
    });
    const e = await p.get().catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ZTS_ATTESTATION_REJECTED')).toBe(true);
    expect((e as Error).message).toContain('unable to verify attestation data');
    expect((e as Error).message).not.toMatch(/"secret"|"token"/);
  });

  it('a transient 503 is retried with a fresh attestation and CSR, and the identity still arrives', async () => {
    zts.setFault({ match: { path: '/instance' }, status: 503, times: 1 });
    try {
      const assumes = aws.requests.filter((r) => r.action === 'AssumeRole').length;
      const before = instancePosts().length;
      const id = await identity({
        sink: siadFileSink({ root: join(root, 'retry') }),
        retry: { initial: { baseDelayMs: 10 } },
      }).get();
      expect(id.serialNumber).toBeTruthy();
      expect(
        instancePosts()
          .slice(before)
          .map((r) => r.status),
      ).toEqual([503, 201]);
      expect(aws.requests.filter((r) => r.action === 'AssumeRole').length - assumes).toBe(2);
    } finally {
      zts.setFault();
    }
  });

  it('429 with Retry-After: ZTS_RATE_LIMITED, retryable', async () => {
    zts.setFault({ match: { path: '/instance' }, status: 429, retryAfterSeconds: 3, times: 1 });
    try {
      const p = identity({ sink: siadFileSink({ root: join(root, 'rate') }), retry: { initial: { maxAttempts: 1 } } });
      const e = await p.get().catch((err: unknown) => err);
      expect(IdentityError.is(e, 'ZTS_RATE_LIMITED')).toBe(true);
      expect((e as IdentityError).retryable).toBe(true);
      expect((e as IdentityError).retryAfterMs).toBe(3000);
    } finally {
      zts.setFault();
    }
  });
});
