// The providers' logic against an in-memory ZTS that keeps the serial / revocation rules (helpers/stub-zts.ts), with
// real attestation against the testkit's fake STS and real files in siad's layout. Time is a ManualClock.
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  accessTokenProvider,
  exportPrivateKeyPem,
  generateKeyPair,
  type IdentitySink,
  roleCertificateProvider,
  type X509Identity,
} from '@ecs-identity/athenz-zts';
import { type AthenzIdentityOptions, athenzIdentityProvider, siadFileSink } from '@ecs-identity/athenz-zts/node';
import { type CredentialProvider, IdentityError, type RefreshEvent } from '@ecs-identity/core';
import type { AwsCredentials } from '@ecs-identity/ecs-metadata';
import { type AwsEmulator, ManualClock, startAws } from '@ecs-identity/testkit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { siadPaths } from '../src/node/siad-file-sink.js';
import { StubZts } from './helpers/stub-zts.js';

const TASK = {
  partition: 'aws',
  clusterArn: 'arn:aws:ecs:us-west-2:123456789012:cluster/default',
  region: 'us-west-2',
  accountId: '123456789012',
  taskId: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
};
const DAY = 24 * 3600_000;

let aws: AwsEmulator;
let credentials: CredentialProvider<AwsCredentials>;
let root: string;
let clock: ManualClock;
let zts: StubZts;
const open: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  aws = await startAws({ region: 'us-west-2' });
  const taskRole = aws.addRole({ name: 'sports.api-service', trust: ['*'] });
  aws.addRole({ name: 'sports.api', trust: [taskRole.arn] });
  credentials = {
    get: async () => aws.issueRoleCredentials(taskRole.arn),
    subscribe: () => () => {},
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
});
afterAll(() => aws.close());

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'athenz-zts-providers-'));
  clock = new ManualClock(Date.now());
  zts = await StubZts.create(() => clock.now());
});
afterEach(async () => {
  for (const p of open.splice(0)) await p.close().catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

function identityProvider(over: Partial<AthenzIdentityOptions> = {}) {
  const p = athenzIdentityProvider({
    zts,
    task: TASK,
    credentials,
    dnsSuffixes: ['aws.athenz.cloud'],
    sink: siadFileSink({ root }),
    clock,
    random: () => 0,
    env: {},
    ...over,
    sts: { endpoint: aws.url, ...over.sts },
    key: { type: 'ec', ...over.key }, // fast keygen: these tests are not about RSA
  });
  open.push(p);
  return p;
}

const paths = () => siadPaths('sports', 'api', { root });
const nextIdentity = (p: CredentialProvider<X509Identity>) =>
  new Promise<X509Identity>((resolve) => {
    const off = p.subscribe((id) => {
      off();
      resolve(id);
    });
  });

describe('athenzIdentityProvider', () => {
  it('registers on the first get, names from the task role, and persists in siad layout before handing out', async () => {
    const order: string[] = [];
    const files = siadFileSink({ root });
    const sink: IdentitySink = {
      loadIdentity: (d, s) => files.loadIdentity(d, s),
      saveIdentity: async (...args) => {
        order.push('saved');
        await files.saveIdentity(...args);
      },
    };
    const p = identityProvider({ sink });
    const id = await p.get().then((x) => {
      order.push('handed out');
      return x;
    });
    expect(order).toEqual(['saved', 'handed out']);
    expect(zts.ops()).toEqual(['register']);
    expect(id.domain).toBe('sports');
    expect(id.service).toBe('api');
    expect(id.provider).toBe('athenz.aws-ecs.us-west-2');
    expect(id.instanceId).toBe(TASK.taskId);
    expect(id.spiffeId).toBe('spiffe://sports/sa/api');
    expect(Math.abs(id.expiresAt.getTime() - clock.now() - 7 * DAY)).toBeLessThan(1000); // X.509 times are whole seconds
    const { keyPath, certPath, caCertPath } = paths();
    expect(readFileSync(certPath, 'utf8')).toBe(id.certificatePem);
    expect(readFileSync(keyPath, 'utf8')).toBe(id.privateKeyPem);
    expect(id.privateKeyPem).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(statSync(keyPath).mode & 0o777).toBe(0o400);
    expect(statSync(certPath).mode & 0o777).toBe(0o444);
    expect(readFileSync(caCertPath!, 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it('never shows the private key PEM when printed', async () => {
    const id = await identityProvider().get();
    const body = id.privateKeyPem.split('\n')[1] ?? '';
    expect(body.length).toBeGreaterThan(20);
    expect(JSON.stringify(id)).not.toContain(body);
    expect(inspect(id, { depth: 5 })).not.toContain(body);
    expect(String(id)).not.toContain(body);
  });

  it('refreshes a day later over mTLS with the current cert, reusing the key, and emits the rotation', async () => {
    const p = identityProvider();
    const first = await p.get();
    const next = nextIdentity(p);
    await clock.advance(DAY + 1000);
    const second = await next;
    expect(zts.ops()).toEqual(['register', 'refresh']);
    expect(zts.calls[1]?.clientSerial).toBe(first.serialNumber);
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.privateKeyPem).toBe(first.privateKeyPem);
    expect(readFileSync(paths().certPath, 'utf8')).toBe(second.certificatePem);
    expect((await p.get()).serialNumber).toBe(second.serialNumber);
  });

  it('attests afresh for the register and for each refresh: a new AssumeRole signed with credentials asked again', async () => {
    let gets = 0;
    const counting: CredentialProvider<AwsCredentials> = {
      get: async (o) => {
        gets++;
        return credentials.get(o);
      },
      subscribe: () => () => {},
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const assumeRoles = () => aws.requests.filter((r) => r.action === 'AssumeRole' && r.status === 200).length;
    const before = assumeRoles();
    const p = identityProvider({ credentials: counting });
    await p.get();
    expect(assumeRoles() - before).toBe(1);
    const getsAfterRegister = gets;
    const next = nextIdentity(p);
    await clock.advance(DAY + 1000);
    await next;
    expect(zts.ops()).toEqual(['register', 'refresh']);
    expect(assumeRoles() - before).toBe(2);
    expect(gets).toBeGreaterThan(getsAfterRegister);
  });

  it('a new key that cannot be written out as PEM fails the start before ZTS is asked', async () => {
    // A Web Crypto that refuses to export private keys (the PEM is made while the network calls run).
    const real = globalThis.crypto.subtle;
    const subtle = new Proxy(real, {
      get(target, name) {
        if (name === 'exportKey') {
          return (format: KeyFormat, key: CryptoKey) =>
            format === 'pkcs8' ? Promise.reject(new Error('export refused')) : target.exportKey(format as 'spki', key);
        }
        const value = Reflect.get(target, name) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const crypto = { subtle, getRandomValues: (a: Uint8Array) => globalThis.crypto.getRandomValues(a) } as Crypto;
    const p = identityProvider({ key: { crypto }, retry: { initial: { maxAttempts: 1 } } });
    await expect(p.get()).rejects.toThrow(/export refused/);
    expect(zts.ops()).toEqual([]);
  });

  it('never refreshes later than half a short lifetime (refresh.latestFraction)', async () => {
    zts.certLifetimeMs = 4 * 3600_000;
    const p = identityProvider({ csr: { expiryMinutes: 240 } });
    await p.get();
    const next = nextIdentity(p);
    await clock.advance(2 * 3600_000 + 1000); // half of 4 h, not a day
    await next;
    expect(zts.ops()).toEqual(['register', 'refresh']);
  });

  it('spreads its refreshes: the first within the first day (equilibrium draw), the next 12 to 24 h after issue', async () => {
    const p = identityProvider({ random: () => 0.5 });
    const first = await p.get();
    const issued = clock.now();
    let next = nextIdentity(p);
    // random 0.5: the first refresh 9 h after issue (flat part of the first draw), not at the 24 h mark
    await clock.advance(9 * 3600_000 - 1000);
    expect(zts.ops()).toEqual(['register']);
    await clock.advance(2000);
    const second = await next;
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(clock.now() - issued).toBeLessThan(9 * 3600_000 + 2000);
    // later ones: uniformly over the second half of the day after issue, 18 h for random 0.5
    next = nextIdentity(p);
    const refreshedAt = clock.now();
    await clock.advance(18 * 3600_000 - 2000);
    expect(zts.ops()).toEqual(['register', 'refresh']);
    await clock.advance(4000);
    await next;
    expect(zts.ops()).toEqual(['register', 'refresh', 'refresh']);
    expect(clock.now() - refreshedAt).toBeLessThan(18 * 3600_000 + 4000);
  });

  it('a ZTS outage: one attempt per backoff (no inner retries), hours apart while days are left, then a refresh', async () => {
    const events: RefreshEvent[] = [];
    let notify: () => void = () => {};
    const p = identityProvider({
      random: () => 0.5,
      onEvent: (e) => {
        events.push(e);
        notify();
      },
    });
    const nextEvent = () => new Promise<void>((resolve) => (notify = resolve));
    const nextAttemptOf = (i: number): number => {
      const at = events[i]?.nextAttemptAt;
      if (at === undefined) throw new Error(`event ${i} has no nextAttemptAt`);
      return at.getTime();
    };
    const assumeRoles = () => aws.requests.filter((r) => r.action === 'AssumeRole' && r.status === 200).length;
    await p.get();
    zts.down = new IdentityError('ZTS_ERROR', 'ZTS answered 503', { retryable: true, status: 503 });
    const before = assumeRoles();
    let event = nextEvent();
    await clock.advance(9 * 3600_000 + 1000);
    await event;
    const failedAt = clock.now();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'refresh-failed', attempt: 1, failures: 1, code: 'ZTS_ERROR' });
    expect(zts.refusedWhileDown).toBe(1); // one refresh, one ZTS call (it used to be three)
    expect(assumeRoles() - before).toBe(1);
    // the backoff while 6.6 days are left: drawn in [1 s, 6 h], 3 h for random 0.5
    const retryAt = nextAttemptOf(0);
    expect(retryAt - failedAt).toBe(1000 + 0.5 * (6 * 3600_000 - 1000));
    event = nextEvent();
    await clock.advance(retryAt - clock.now());
    await event;
    expect(events[1]).toMatchObject({ type: 'refresh-failed', attempt: 1, failures: 2 });
    expect(zts.refusedWhileDown).toBe(2);
    // the cap doubles: 6 h for random 0.5
    expect(nextAttemptOf(1) - clock.now()).toBe(1000 + 0.5 * (12 * 3600_000 - 1000));
    zts.down = undefined;
    event = nextEvent();
    await clock.advance(nextAttemptOf(1) - clock.now());
    await event;
    expect(events[2]).toMatchObject({ type: 'refreshed' });
    expect(zts.ops()).toEqual(['register', 'refresh']);
    expect(assumeRoles() - before).toBe(3);
  });

  it('rotates the key on refresh when asked, and writes the new pair', async () => {
    const p = identityProvider({ key: { rotate: true } });
    const first = await p.get();
    const second = await p.get({ forceRefresh: true });
    expect(second.privateKeyPem).not.toBe(first.privateKeyPem);
    expect(readFileSync(paths().keyPath, 'utf8')).toBe(second.privateKeyPem);
    expect(readFileSync(paths().certPath, 'utf8')).toBe(second.certificatePem);
  });

  it('restarts from files: refreshes with the saved key and cert instead of registering', async () => {
    const first = await identityProvider().get();
    const again = await identityProvider().get();
    expect(zts.ops()).toEqual(['register', 'refresh']);
    expect(zts.calls[1]?.clientSerial).toBe(first.serialNumber);
    expect(again.privateKeyPem).toBe(first.privateKeyPem);
  });

  it('registers with the saved key when the saved cert has expired', async () => {
    const first = await identityProvider({ refresh: { background: false } }).get();
    await clock.advance(8 * DAY);
    const again = await identityProvider().get();
    expect(zts.ops()).toEqual(['register', 'register']);
    expect(again.privateKeyPem).toBe(first.privateKeyPem);
  });

  it('a stale cert (two generations old) is revoked; the provider registers anew with a new key', async () => {
    const p = identityProvider();
    const stale = await p.get();
    const oldFiles = { keyPem: stale.privateKeyPem, certPem: readFileSync(paths().certPath, 'utf8') };
    await p.get({ forceRefresh: true });
    await p.get({ forceRefresh: true });
    await p.close();
    // Put the old pair back, as a restored backup would.
    await siadFileSink({ root }).saveIdentity('sports', 'api', oldFiles);
    const fresh = await identityProvider().get();
    expect(zts.ops()).toEqual(['register', 'refresh', 'refresh', 'register']);
    expect(fresh.privateKeyPem).not.toBe(stale.privateKeyPem);
    // with reRegister off the revocation surfaces
    await identityProvider().close();
    await siadFileSink({ root }).saveIdentity('sports', 'api', oldFiles);
    zts.records.clear();
    const e = await identityProvider({ instance: { reRegister: false } })
      .get()
      .catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ZTS_NOT_FOUND')).toBe(true);
  });

  it('when saving fails the cert is not handed out, and the next refresh uses that newest cert (no revocation)', async () => {
    const files = siadFileSink({ root });
    let failSave = false;
    const sink: IdentitySink = {
      loadIdentity: (d, s) => files.loadIdentity(d, s),
      saveIdentity: async (...args) => {
        if (failSave) throw new IdentityError('FILE_IO', 'disk full');
        await files.saveIdentity(...args);
      },
    };
    const p = identityProvider({ sink, refresh: { background: false } });
    const first = await p.get();
    failSave = true;
    await expect(p.get({ forceRefresh: true })).rejects.toMatchObject({ code: 'FILE_IO' });
    expect((await p.get()).serialNumber).toBe(first.serialNumber); // still the saved one
    failSave = false;
    await p.get({ forceRefresh: true });
    await p.get({ forceRefresh: true });
    const refreshes = zts.calls.filter((c) => c.op === 'refresh');
    expect(refreshes).toHaveLength(3);
    // the third refresh presented the cert whose save had failed, not `first` (which is two generations old by then)
    expect(refreshes[1]?.clientSerial).toBe(refreshes[0]?.serial);
    expect(zts.ops()).toEqual(['register', 'refresh', 'refresh', 'refresh']);
  });

  it('deletes the instance record on close when asked', async () => {
    const p = identityProvider({ instance: { deleteOnClose: true } });
    await p.get();
    expect(zts.records.size).toBe(1);
    await p.close();
    expect(zts.records.size).toBe(0);
    expect(zts.ops()).toEqual(['register', 'delete']);
  });

  it('names the missing service when the task role does not follow the convention', async () => {
    const p = identityProvider({
      credentials: {
        ...credentials,
        get: async () => ({ ...(await credentials.get()), roleArn: 'arn:aws:iam::123456789012:role/web' }),
      },
    });
    await expect(p.get()).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});

/** The stub ZTS with every method call recorded, failed ones included (the stub logs only the calls it answered). */
function watched(stub: StubZts) {
  const asked: string[] = [];
  const client = new Proxy(stub, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        asked.push(String(name));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { client, asked };
}

describe("athenzIdentityProvider's instance.start option", () => {
  it('refuses an unknown mode, and refresh without a sink, when the provider is made', () => {
    expect(() => identityProvider({ instance: { start: 'post' as never } })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/start must be one of auto, register, refresh/),
      }),
    );
    expect(() => identityProvider({ instance: { start: 'refresh' }, sink: undefined })).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/start 'refresh' needs a sink/),
      }),
    );
  });

  it('register: a new key and a new registration although valid saved files exist; the sink is not read but written', async () => {
    const first = await identityProvider({ refresh: { background: false } }).get();
    const files = siadFileSink({ root });
    let loads = 0;
    const sink: IdentitySink = {
      loadIdentity: (d, s) => {
        loads++;
        return files.loadIdentity(d, s);
      },
      saveIdentity: (...args) => files.saveIdentity(...args),
    };
    const { client, asked } = watched(zts);
    const again = await identityProvider({ zts: client, sink, instance: { start: 'register' } }).get();
    expect(asked).toEqual(['register']);
    expect(zts.ops()).toEqual(['register', 'register']);
    expect(loads).toBe(0);
    expect(again.privateKeyPem).not.toBe(first.privateKeyPem);
    expect(again.serialNumber).not.toBe(first.serialNumber);
    expect(readFileSync(paths().keyPath, 'utf8')).toBe(again.privateKeyPem);
    expect(readFileSync(paths().certPath, 'utf8')).toBe(again.certificatePem);
  });

  it('refresh: refreshes with the saved key and certificate, and later refreshes go on as usual', async () => {
    const first = await identityProvider({ refresh: { background: false } }).get();
    const { client, asked } = watched(zts);
    const p = identityProvider({ zts: client, instance: { start: 'refresh' } });
    const again = await p.get();
    expect(asked).toEqual(['refresh']);
    expect(zts.calls[1]?.clientSerial).toBe(first.serialNumber);
    expect(again.privateKeyPem).toBe(first.privateKeyPem);
    expect(again.serialNumber).not.toBe(first.serialNumber);
    expect(readFileSync(paths().certPath, 'utf8')).toBe(again.certificatePem);
    // only the start is limited: a later refresh whose record is gone registers anew (reRegister)
    zts.records.clear();
    const third = await p.get({ forceRefresh: true });
    expect(asked).toEqual(['refresh', 'refresh', 'register']);
    expect(third.privateKeyPem).not.toBe(first.privateKeyPem);
  });

  it('refresh with nothing saved: INVALID_CONFIG naming the service, and ZTS is never asked', async () => {
    const { client, asked } = watched(zts);
    const e = await identityProvider({ zts: client, instance: { start: 'refresh' } })
      .get()
      .catch((err: unknown) => err);
    expect(e).toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/no saved key and certificate for sports\.api/),
    });
    expect(asked).toEqual([]);
  });

  it('refresh with nothing saved and the names given: fails before any network call', async () => {
    let gets = 0;
    const counting: CredentialProvider<AwsCredentials> = {
      get: async (o) => {
        gets++;
        return credentials.get(o);
      },
      subscribe: () => () => {},
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const { client, asked } = watched(zts);
    const p = identityProvider({
      zts: client,
      instance: { start: 'refresh' },
      names: { domain: 'sports', service: 'api' },
      credentials: counting,
    });
    await expect(p.get()).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(asked).toEqual([]);
    expect(gets).toBe(0);
  });

  it('refresh with an expired saved certificate: EXPIRED, and no register', async () => {
    await identityProvider({ refresh: { background: false } }).get();
    await clock.advance(8 * DAY);
    const { client, asked } = watched(zts);
    const e = await identityProvider({ zts: client, instance: { start: 'refresh' } })
      .get()
      .catch((err: unknown) => err);
    expect(e).toMatchObject({
      code: 'EXPIRED',
      message: expect.stringMatching(/saved certificate of sports\.api expired at /),
    });
    expect(asked).toEqual([]);
  });

  it('refresh with a saved certificate that does not fit the saved key: INVALID_CONFIG, ZTS not asked', async () => {
    const first = await identityProvider({ refresh: { background: false } }).get();
    const otherKey = await exportPrivateKeyPem((await generateKeyPair({ type: 'ec' })).privateKey);
    // (the file sink refuses to write such a pair; a store edited by hand could still hold one)
    const sink: IdentitySink = {
      loadIdentity: async () => ({ keyPem: otherKey, certPem: first.certificatePem }),
      saveIdentity: async () => {},
    };
    const { client, asked } = watched(zts);
    const e = await identityProvider({ zts: client, sink, instance: { start: 'refresh' } })
      .get()
      .catch((err: unknown) => err);
    expect(e).toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/saved certificate of sports\.api is not usable/),
    });
    expect(String((e as Error).message)).not.toContain(otherKey.split('\n')[1]);
    expect(asked).toEqual([]);
  });

  it('refresh refused by ZTS (record gone) is thrown as is, never followed by a register, even with reRegister on', async () => {
    await identityProvider({ refresh: { background: false } }).get();
    zts.records.clear();
    const { client, asked } = watched(zts);
    const e = await identityProvider({ zts: client, instance: { start: 'refresh', reRegister: true } })
      .get()
      .catch((err: unknown) => err);
    expect(IdentityError.is(e, 'ZTS_NOT_FOUND')).toBe(true);
    expect(asked).toEqual(['refresh']);
    expect(zts.records.size).toBe(0);
  });

  it('auto (the default) still refreshes valid saved files and registers without them', async () => {
    const { client, asked } = watched(zts);
    const first = await identityProvider({
      zts: client,
      instance: { start: 'auto' },
      refresh: { background: false },
    }).get();
    const again = await identityProvider({ zts: client }).get();
    expect(asked).toEqual(['register', 'refresh']);
    expect(again.privateKeyPem).toBe(first.privateKeyPem);
  });
});

describe('roleCertificateProvider', () => {
  it('gets role certs with the identity key over mTLS, and new ones when the identity rotates', async () => {
    const identity = identityProvider({ refresh: { background: false } });
    const roles = roleCertificateProvider({
      zts,
      identity,
      roles: ['weather:role.readers', { domain: 'news', role: 'writers' }],
      sink: siadFileSink({ root }),
      clock,
    });
    open.push(roles);
    const first = await roles.get();
    const id = await identity.get();
    expect(Object.keys(first.certificates).sort()).toEqual(['news:role.writers', 'weather:role.readers']);
    const readers = first.certificates['weather:role.readers']!;
    expect(readers.identitySerial).toBe(id.serialNumber);
    expect(readFileSync(join(root, 'certs', 'weather:role.readers.cert.pem'), 'utf8')).toBe(readers.certificatePem);
    expect(JSON.stringify(first)).not.toContain(id.privateKeyPem.split('\n')[1]);
    // cached
    await roles.get();
    expect(zts.ops().filter((o) => o === 'rolecert')).toHaveLength(2);
    const rotated = await identity.get({ forceRefresh: true });
    const second = await roles.get();
    expect(second.identitySerial).toBe(rotated.serialNumber);
    expect(zts.ops().filter((o) => o === 'rolecert').length).toBeGreaterThanOrEqual(4);
  });
});

describe('accessTokenProvider', () => {
  it('caches tokens and drops them when the identity certificate rotates', async () => {
    const identity = identityProvider({ refresh: { background: false } });
    const tokens = accessTokenProvider({ zts, identity, scope: 'weather:domain', clock });
    open.push(tokens);
    const t1 = await tokens.get();
    const t2 = await tokens.get();
    expect(t2.token).toBe(t1.token);
    expect(zts.ops().filter((o) => o === 'token')).toHaveLength(1);
    expect(JSON.stringify(t1)).not.toContain(t1.token);
    const rotated = await identity.get({ forceRefresh: true });
    const t3 = await tokens.get();
    expect(t3.token).not.toBe(t1.token);
    expect(t3.identitySerial).toBe(rotated.serialNumber);
    expect(t3.token).toContain(`bound-to-${rotated.serialNumber}`);
  });

  it('refreshes once the configured share of the lifetime is used', async () => {
    const identity = identityProvider({ refresh: { background: false } });
    const tokens = accessTokenProvider({
      zts,
      identity,
      scope: 'weather:domain',
      clock,
      expiresInSeconds: 1000,
      random: () => 0, // no spread: at the latest point
      refresh: { latestFraction: 0.5 },
    });
    open.push(tokens);
    const t1 = await tokens.get();
    await clock.advance(400_000);
    expect((await tokens.get()).token).toBe(t1.token);
    const next = new Promise<void>((resolve) => tokens.subscribe(() => resolve()));
    await clock.advance(200_000);
    await next;
    expect((await tokens.get()).token).not.toBe(t1.token);
  });
});
