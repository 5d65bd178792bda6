import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { format, inspect } from 'node:util';
import { ManualClock } from '@ecs-identity/testkit';
import { describe, expect, it } from 'vitest';
import { IdentityError } from './errors.js';
import { type Logger, safeLogger } from './logger.js';
import { refreshingProvider } from './refreshing-provider.js';
import {
  defineSecrets,
  hasSecrets,
  REDACTED,
  redact,
  registeredSecretCount,
  registerSecret,
  scrubSecrets,
} from './secrets.js';
import { createHttpClient, HttpStatusError } from './transport.js';

// Known secret strings; every assertion below checks they appear nowhere.
const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY1';
const SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////SESSIONTOKEN+abc=';
const ACL_SECRET = '6a1f0b1e-77c3-4b8e-9a0e-0c0ffee5ec12';
const ACCESS_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.ACCESSTOKENSIG';
const PRIVATE_KEY_PEM =
  '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgPRIVATEKEY\n-----END PRIVATE KEY-----\n';
const ALL = [SECRET_KEY, SESSION_TOKEN, ACL_SECRET, ACCESS_TOKEN, PRIVATE_KEY_PEM];

/** Fails naming the secret (not printing it whole) when any known secret, or a recognisable part, is in `text`. */
function expectClean(text: string, where: string): void {
  for (const s of ALL) {
    const marker = s.includes('PRIVATE KEY') ? 'PRIVATEKEY' : s.slice(0, 16);
    expect(text.includes(s) || text.includes(marker), `${where} leaked a secret starting ${s.slice(0, 4)}`).toBe(false);
  }
}

// Secrets stay registered while their credential object is reachable: every credential made here is kept.
const alive: object[] = [];

class AwsCredentials {
  readonly accessKeyId = 'ASIAEXAMPLEACCESSKEY';
  readonly secretAccessKey = SECRET_KEY;
  readonly sessionToken = SESSION_TOKEN;
  readonly expiresAt = new Date('2026-01-01T00:00:00Z');
  readonly roleArn = 'arn:aws:iam::012345678901:role/app';
  constructor() {
    defineSecrets(this, ['secretAccessKey', 'sessionToken']);
    alive.push(this);
  }
}

function consulToken() {
  const token = defineSecrets({ accessorId: 'acc-1234', secretId: ACL_SECRET, authMethod: 'aws-iam' }, ['secretId']);
  alive.push(token);
  return token;
}

async function x509Identity() {
  const { privateKey } = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
    'sign',
  ])) as CryptoKeyPair;
  const identity = defineSecrets(
    { spiffeId: 'spiffe://athenz/sa/api', privateKey, privateKeyPem: PRIVATE_KEY_PEM, accessToken: ACCESS_TOKEN },
    ['privateKey', 'privateKeyPem', 'accessToken'],
  );
  alive.push(identity);
  return identity;
}

describe('defineSecrets', () => {
  it('keeps secret fields readable but out of keys and spreads', () => {
    const c = new AwsCredentials();
    expect(c.secretAccessKey).toBe(SECRET_KEY);
    expect(c.sessionToken).toBe(SESSION_TOKEN);
    expect(Object.keys(c)).toEqual(['accessKeyId', 'expiresAt', 'roleArn']);
    expect({ ...c }).not.toHaveProperty('secretAccessKey');
    expect(hasSecrets(c)).toBe(true);
    expect(hasSecrets({})).toBe(false);
  });

  it('hides secrets from util.inspect: plain, showHidden, nested, arrays, Maps, %o / %O / %s / %j', async () => {
    const aws = new AwsCredentials();
    const consul = consulToken();
    const x509 = await x509Identity();
    const views = {
      inspect: inspect(aws),
      showHidden: inspect(aws, { showHidden: true, depth: Number.POSITIVE_INFINITY }),
      getters: inspect(consul, { getters: true, showHidden: true }),
      nested: inspect({ a: { b: { c: [aws, consul, x509] } } }, { depth: 10, showHidden: true }),
      array: inspect([aws, [consul]]),
      map: inspect(new Map([['k', x509]]), { showHidden: true }),
      formatO: format('%o %O', aws, consul),
      formatS: format('%s %s', aws, x509),
      formatJ: format('%j', { aws, consul, x509 }),
    };
    for (const [name, text] of Object.entries(views)) expectClean(text, name);
    expect(views.inspect).toContain('AwsCredentials');
    expect(views.inspect).toContain('ASIAEXAMPLEACCESSKEY');
    expect(views.inspect).toContain(REDACTED);
    expect(views.map).toContain('spiffe://athenz/sa/api');
  });

  it('hides secrets from JSON.stringify, String() and template strings', async () => {
    const aws = new AwsCredentials();
    const x509 = await x509Identity();
    const json = JSON.parse(JSON.stringify({ list: [aws], x509 }));
    expect(json.list[0]).toEqual({
      accessKeyId: 'ASIAEXAMPLEACCESSKEY',
      expiresAt: '2026-01-01T00:00:00.000Z',
      roleArn: 'arn:aws:iam::012345678901:role/app',
      secretAccessKey: REDACTED,
      sessionToken: REDACTED,
    });
    expect(json.x509.privateKey).toBe(REDACTED);
    const strings = [String(aws), `${aws}`, `${x509}`, `${consulToken()}`, aws.toString()];
    for (const s of strings) expectClean(s, 'String()');
    expect(String(aws)).toBe(
      'AwsCredentials{accessKeyId=ASIAEXAMPLEACCESSKEY, expiresAt=2026-01-01T00:00:00.000Z, roleArn=arn:aws:iam::012345678901:role/app, secretAccessKey=[REDACTED], sessionToken=[REDACTED]}',
    );
  });

  it('rejects a non-object with INVALID_ARGUMENT', () => {
    expect(() => defineSecrets('nope' as unknown as object, [])).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('registers values assigned later to a secret field', () => {
    const token = consulToken() as { secretId: string };
    const next = 'f0e1d2c3-b4a5-4697-8877-665544332211';
    token.secretId = next;
    expect(token.secretId).toBe(next);
    expect(scrubSecrets(`token ${next}`)).toBe(`token ${REDACTED}`);
    expect(JSON.stringify(token)).not.toContain(next);
  });
});

describe('scrubSecrets and errors', () => {
  it('scrubs registered secrets, also JSON-escaped and URL-encoded', async () => {
    await x509Identity();
    new AwsCredentials();
    expect(scrubSecrets(`key=${SECRET_KEY}; again ${SECRET_KEY}`)).toBe(`key=${REDACTED}; again ${REDACTED}`);
    expectClean(scrubSecrets(JSON.stringify({ pem: PRIVATE_KEY_PEM })), 'json-escaped');
    expectClean(scrubSecrets(`https://h/?X-Amz-Security-Token=${encodeURIComponent(SESSION_TOKEN)}`), 'url-encoded');
    expectClean(scrubSecrets(new URLSearchParams({ t: SESSION_TOKEN }).toString()), 'form-encoded');
    expect(scrubSecrets('nothing secret here')).toBe('nothing secret here');
  });

  it('replaces a secret whole when a shorter registered secret is its prefix', () => {
    registerSecret('prefix-secret-1');
    registerSecret('prefix-secret-1-and-its-tail');
    expect(scrubSecrets('x prefix-secret-1-and-its-tail y')).toBe(`x ${REDACTED} y`);
  });

  it('leaves values shorter than 8 characters alone (they would mangle unrelated text)', () => {
    registerSecret('abc');
    expect(scrubSecrets('abcabc abc')).toBe('abcabc abc');
  });

  it('an IdentityError built with a secret and then scrubbed does not carry it', () => {
    const aws = new AwsCredentials();
    const e = new IdentityError('INVALID_CREDENTIALS', scrubSecrets(`bad key ${aws.secretAccessKey} in ${aws}`));
    expectClean(`${e.message}\n${e.stack}\n${inspect(e)}\n${JSON.stringify(e)}`, 'IdentityError');
  });

  it("the transport's errors never contain a secret sent in the query or a header, or echoed back", async () => {
    new AwsCredentials();
    consulToken();
    const server = http.createServer((req, res) => {
      res.writeHead(500);
      res.end(`echo: ${req.url} ${req.headers['x-consul-token']} ${req.headers['x-amz-security-token']}`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    try {
      await createHttpClient().request({
        url: `${base}/v1/acl/login?X-Amz-Security-Token=${encodeURIComponent(SESSION_TOKEN)}`,
        headers: { 'X-Consul-Token': ACL_SECRET, 'X-Amz-Security-Token': SESSION_TOKEN },
      });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HttpStatusError);
      const h = e as HttpStatusError;
      expect(h.message).toContain(`GET ${base}/v1/acl/login answered 500`);
      expectClean(`${h.message}\n${h.responseText}\n${h.url}\n${inspect(h)}\n${String(h.stack)}`, 'HttpStatusError');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('the logger path', () => {
  function capture() {
    const lines: string[] = [];
    const record =
      (level: string) =>
      (...args: unknown[]) => {
        lines.push(
          `${level} ${args.map((a) => (typeof a === 'string' ? a : `${inspect(a, { depth: 20 })} ${safeJson(a)}`)).join(' ')}`,
        );
      };
    const logger: Logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    return { logger, lines };
  }
  const safeJson = (v: unknown) => {
    try {
      return JSON.stringify(v);
    } catch {
      return '';
    }
  };

  it('pino-style (obj, msg) and console-style (msg) calls reach the logger without secrets', async () => {
    const aws = new AwsCredentials();
    const x509 = await x509Identity();
    const consul = consulToken();
    const { logger, lines } = capture();
    const log = safeLogger(logger);
    const cause = new Error(`upstream said ${ACL_SECRET}`);
    const err = new IdentityError('CONSUL_LOGIN_FAILED', `login failed for ${consul.secretId}`, { cause });
    log.info(
      { aws, x509, consul, token: ACCESS_TOKEN, nested: { list: [SESSION_TOKEN, { k: SECRET_KEY }] } },
      'got creds',
    );
    log.error({ err }, `refresh failed: ${SECRET_KEY}`);
    log.warn(`plain message with ${PRIVATE_KEY_PEM}`);
    log.debug(err);
    log.info([aws, consul]);
    expect(lines).toHaveLength(5);
    for (const line of lines) expectClean(line, line.slice(0, 20));
    expect(lines[0]).toContain('ASIAEXAMPLEACCESSKEY');
    expect(lines[0]).toContain('got creds');
    expect(lines[1]).toContain('CONSUL_LOGIN_FAILED');
    expect(lines[3]).toContain('login failed for [REDACTED]');
  });

  it('redact() shows a credential as its fields with each secret field REDACTED (so a log says it was there)', async () => {
    expect(redact({ creds: new AwsCredentials(), token: consulToken() })).toEqual({
      creds: {
        accessKeyId: 'ASIAEXAMPLEACCESSKEY',
        secretAccessKey: REDACTED,
        sessionToken: REDACTED,
        expiresAt: new Date('2026-01-01T00:00:00Z'),
        roleArn: 'arn:aws:iam::012345678901:role/app',
      },
      token: { accessorId: 'acc-1234', secretId: REDACTED, authMethod: 'aws-iam' },
    });
    const id = redact(await x509Identity()) as Record<string, unknown>;
    expect([id.privateKey, id.privateKeyPem, id.accessToken]).toEqual([REDACTED, REDACTED, REDACTED]);
  });

  it('redact() keeps Error identity and fields, and cuts cycles', () => {
    const e = new IdentityError('TIMEOUT', `slow ${SECRET_KEY}`, { retryable: true });
    const cyclic: Record<string, unknown> = { e };
    cyclic.self = cyclic;
    const out = redact(cyclic) as { e: IdentityError; self: unknown };
    expect(out.e).toBeInstanceOf(IdentityError);
    expect([out.e.code, out.e.retryable, out.e.message]).toEqual(['TIMEOUT', true, `slow ${REDACTED}`]);
    expect(out.self).toBe('[Circular]');
    expect(e.message).toContain(SECRET_KEY.slice(0, 10)); // the original is untouched
  });
});

describe('the registry: every live secret, at a cost that does not grow with their number', () => {
  it('keeps every secret of 10,000 open providers scrubbed, the first one included', async () => {
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const providers = Array.from({ length: 10_000 }, (_, i) =>
      refreshingProvider({
        name: `provider ${i}`,
        clock,
        fetch: async () =>
          defineSecrets({ token: `live-token-${i}-0123456789`, expiresAt: new Date(clock.now() + 3_600_000) }, [
            'token',
          ]),
      }),
    );
    const tokens = await Promise.all(providers.map((p) => p.get()));
    expect(registeredSecretCount()).toBeGreaterThanOrEqual(10_000);
    const first = tokens[0]?.token as string;
    expect(scrubSecrets(`Consul answered 403 for ${first}`)).toBe(`Consul answered 403 for ${REDACTED}`);
    const lines: unknown[] = [];
    const capture = (...args: unknown[]) => lines.push(args);
    safeLogger({ debug: capture, info: capture, warn: capture, error: capture }).warn(
      { err: new IdentityError('HTTP_STATUS', `echoed ${first}`) },
      `echoed ${tokens[9_999]?.token}`,
    );
    expect(JSON.stringify(lines)).not.toMatch(/live-token-/);
    // one pass over the text finds every occurrence of every one of them
    const text = tokens.map((t) => t.token).join(' | ');
    expect(scrubSecrets(text)).toBe(Array.from({ length: 10_000 }, () => REDACTED).join(' | '));
    await Promise.all(providers.map((p) => p.close()));
  });

  it('registers a value with a lone surrogate (it has no URL-encoded form) and still scrubs it', () => {
    const odd = 'lone-\ud800-surrogate-secret';
    expect(() => registerSecret(odd)).not.toThrow();
    expect(scrubSecrets(`x ${odd} y`)).toBe(`x ${REDACTED} y`);
  });

  it('redacts overlapping secrets as one span, leaving no part of either', () => {
    registerSecret('overlap-AAAA-BBBB');
    registerSecret('BBBB-CCCC-tail-of-it');
    expect(scrubSecrets('x overlap-AAAA-BBBB-CCCC-tail-of-it y')).toBe(`x ${REDACTED} y`);
    expect(scrubSecrets('x overlap-AAAA-BBBBoverlap-AAAA-BBBB y')).toBe(`x ${REDACTED}${REDACTED} y`);
  });

  it('releases a secret once its credential object is garbage collected, and keeps one registered without an owner', () => {
    // A fresh Node process with --expose-gc, so collection can be forced.
    const script = `
      import { defineSecrets, registerSecret, scrubSecrets, registeredSecretCount } from ${JSON.stringify(
        new URL('./secrets.ts', import.meta.url).pathname,
      )};
      registerSecret('permanent-secret-value-1');
      let credential = defineSecrets({ token: 'collected-secret-value-1' }, ['token']);
      const kept = defineSecrets({ token: 'kept-secret-value-1' }, ['token']);
      const before = [scrubSecrets('collected-secret-value-1'), registeredSecretCount()];
      credential = undefined;
      for (let i = 0; i < 20 && scrubSecrets('collected-secret-value-1') !== 'collected-secret-value-1'; i++) {
        globalThis.gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      console.log(JSON.stringify({
        before,
        after: [scrubSecrets('collected-secret-value-1'), registeredSecretCount()],
        kept: scrubSecrets(kept.token),
        permanent: scrubSecrets('permanent-secret-value-1'),
      }));
    `;
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual({
      before: [REDACTED, 3],
      after: ['collected-secret-value-1', 2],
      kept: REDACTED,
      permanent: REDACTED,
    });
  });
});
