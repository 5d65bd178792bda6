// containerCredentials against the testkit's fake ECS agent, plus endpoint resolution against smithy-rs' table.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { IdentityError } from '@ecs-identity/core';
import {
  type AwsCredentials,
  type ContainerCredentialsOptions,
  containerCredentials,
} from '@ecs-identity/ecs-metadata';
import { type EcsAgent, ManualClock, startEcsAgent } from '@ecs-identity/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  containerCredentials as browserContainerCredentials,
  resolveCredentialsEndpoint,
} from '../src/container-credentials.js';

const agents: EcsAgent[] = [];
const closers: Array<() => Promise<unknown>> = [];
async function agent(options: Parameters<typeof startEcsAgent>[0] = {}) {
  const a = await startEcsAgent(options);
  agents.push(a);
  return a;
}
function provider(options: ContainerCredentialsOptions) {
  const p = containerCredentials({ random: () => 0, refresh: { background: false }, ...options });
  closers.push(() => p.close());
  return p;
}
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

async function failure(p: Promise<unknown> | (() => unknown)): Promise<IdentityError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(IdentityError);
    return e as IdentityError;
  }
  throw new Error('expected a failure');
}

describe('resolveCredentialsEndpoint', () => {
  const table = JSON.parse(
    readFileSync(new URL('./fixtures/credentials/smithy-rs/ecs-tests.json', import.meta.url), 'utf8'),
  ) as { tests: Array<{ docs: string; env: Record<string, string>; result: { Ok?: string; ErrorContains?: string } }> };

  for (const t of table.tests) {
    it(`smithy-rs case "${t.docs}"`, () => {
      // smithy-rs gives the RELATIVE URI precedence; so does our `precedence: 'relative'` (the default is 'full').
      const both = 'AWS_CONTAINER_CREDENTIALS_FULL_URI' in t.env && 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI' in t.env;
      if (t.result.Ok !== undefined) {
        const resolved = resolveCredentialsEndpoint({ env: t.env, precedence: 'relative' });
        expect(resolved.url.href).toBe(t.result.Ok);
        if (both) {
          expect(resolveCredentialsEndpoint({ env: t.env }).url.href).toBe(t.env.AWS_CONTAINER_CREDENTIALS_FULL_URI);
        }
      } else {
        const e = (() => {
          try {
            resolveCredentialsEndpoint({ env: t.env });
          } catch (err) {
            return err as IdentityError;
          }
          throw new Error('expected an error');
        })();
        expect(e.code).toBe('INVALID_CONFIG');
      }
    });
  }

  it('refuses plain http to any other host, before any I/O', async () => {
    for (const url of ['http://example.com/creds', 'http://169.254.169.254/creds', 'http://10.0.0.1/creds']) {
      const e = await failure(() => resolveCredentialsEndpoint({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url } }));
      expect(e.code).toBe('INSECURE_URL');
      expect(e.message).toMatch(/AWS_CONTAINER_CREDENTIALS_FULL_URI .*use https/);
    }
    for (const url of [
      'https://example.com/creds',
      'http://127.0.0.2:8080/c',
      'http://[::1]/c',
      'http://169.254.170.23/v1/c',
    ]) {
      expect(resolveCredentialsEndpoint({ env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: url } }).url.href).toBe(url);
    }
  });

  it('rejects a relative URI that is not a path, and says when nothing is set', async () => {
    expect(
      (await failure(() => resolveCredentialsEndpoint({ env: { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: 'v2/x' } })))
        .message,
    ).toMatch(/must be a path starting with "\/"/);
    expect((await failure(() => resolveCredentialsEndpoint({ env: {} }))).message).toMatch(/neither .* is set/);
  });

  it('takes the token over the token file', () => {
    const env = {
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/x',
      AWS_CONTAINER_AUTHORIZATION_TOKEN: 'tok',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/tmp/f',
    };
    expect(resolveCredentialsEndpoint({ env })).toMatchObject({ token: 'tok' });
    expect(resolveCredentialsEndpoint({ env }).tokenFile).toBeUndefined();
  });
});

describe('containerCredentials', () => {
  it('gets the task role credentials with the token, keeping roleArn and accountId, secrets hidden', async () => {
    const a = await agent({ taskRoleArn: 'arn:aws:iam::123456789012:role/sports.api-service' });
    const c = await provider({ env: a.env }).get();
    expect(c.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(c.secretAccessKey.length).toBeGreaterThan(20);
    expect(c.sessionToken?.length).toBeGreaterThan(100);
    expect(c.roleArn).toBe('arn:aws:iam::123456789012:role/sports.api-service');
    expect(c.accountId).toBe('123456789012');
    expect(c.expiresAt!.getTime()).toBeGreaterThan(Date.now());
    for (const shown of [inspect(c), JSON.stringify(c), String(c)]) {
      expect(shown).not.toContain(c.secretAccessKey);
      expect(shown).not.toContain(c.sessionToken);
    }
    expect(a.requests).toEqual([
      expect.objectContaining({ endpoint: 'credentials', authorization: 'valid', status: 200 }),
    ]);
    expect(JSON.stringify(a.requests)).not.toContain(a.authToken);
  });

  it('keeps the authorization token out of errors even when the endpoint echoes it back', async () => {
    const token = 'echoed-authorization-token-0123456789';
    const server = createServer((req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`bad request, authorization was ${req.headers.authorization}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const { port } = server.address() as AddressInfo;
    const env = {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/creds`,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: token,
    };
    const e = await failure(provider({ env, retry: { initial: { maxAttempts: 1 } } }).get());
    expect(e.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect(e.message).toContain('500');
    for (const shown of [
      e.message,
      String(e),
      inspect(e),
      JSON.stringify((e.cause as { responseText?: string }) ?? {}),
    ]) {
      expect(shown).not.toContain(token);
    }
  });

  it('works with a RELATIVE URI against an injected base', async () => {
    const a = await agent({ credentialsUri: 'relative', authToken: null });
    expect(a.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).toMatch(/^\/v2\/credentials\/[0-9a-f-]{36}$/);
    expect(a.env.AWS_CONTAINER_AUTHORIZATION_TOKEN).toBeUndefined();
    const c = await provider({ env: a.env, agentUrl: a.url }).get();
    expect(c.roleArn).toBe(a.roleArn);
    expect(a.requests[0]?.authorization).toBe('none');
  });

  it('FULL wins over RELATIVE by default; precedence "relative" flips it', async () => {
    const full = await agent();
    const relative = await agent({ credentialsUri: 'relative', authToken: null });
    const env = {
      ...full.env,
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: relative.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI!,
    };
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (_o: unknown, m?: string) => warnings.push(String(m)) };
    await provider({ env, agentUrl: relative.url, logger }).get();
    expect([full.requests.length, relative.requests.length]).toEqual([1, 0]);
    expect(warnings).toEqual([expect.stringMatching(/both .* are set; using AWS_CONTAINER_CREDENTIALS_FULL_URI/)]);
    await provider({ env, agentUrl: relative.url, precedence: 'relative' }).get();
    expect([full.requests.length, relative.requests.length]).toEqual([1, 1]);
  });

  it('shares one fetch between concurrent callers and serves the cache after', async () => {
    const a = await agent();
    const p = provider({ env: a.env });
    const [x, y] = await Promise.all([p.get(), p.get()]);
    expect(x).toBe(y);
    expect(await p.get()).toBe(x);
    expect(a.requests).toHaveLength(1);
  });

  it('refreshes 5 minutes before expiry (not earlier), getting rotated credentials', async () => {
    const clock = new ManualClock(Date.parse('2026-11-25T08:00:00Z'));
    const a = await agent({ clock, credentialsLifetimeMs: 3600_000, rotateBeforeMs: 10 * 60_000 });
    const p = provider({ env: a.env, clock });
    const first = await p.get();
    expect(first.expiresAt?.toISOString()).toBe('2026-11-25T09:00:00.000Z');
    await clock.advance(54 * 60_000 + 59_000); // 5 min 1 s left: still fresh
    expect(await p.get()).toBe(first);
    expect(a.requests).toHaveLength(1);
    await clock.advance(2_000); // 4 min 59 s left: due
    const next = new Promise<AwsCredentials>((resolve) => p.subscribe(resolve));
    // Still valid, so served at once while the refresh runs.
    expect(await p.get()).toBe(first);
    const second = await next;
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.expiresAt?.toISOString()).toBe('2026-11-25T09:55:01.000Z');
    expect(await p.get()).toBe(second);
    expect(a.credentialsIssued).toBe(2);
  });

  it('has a configurable refresh window', async () => {
    const clock = new ManualClock(Date.parse('2026-11-25T08:00:00Z'));
    const a = await agent({ clock, credentialsLifetimeMs: 3600_000, rotateBeforeMs: 30 * 60_000 });
    const p = provider({ env: a.env, clock, refresh: { background: false, beforeExpiryMs: 20 * 60_000 } });
    const first = await p.get();
    await clock.advance(39 * 60_000); // 21 minutes left: fresh
    expect(await p.get()).toBe(first);
    await clock.advance(2 * 60_000); // 19 minutes left: due
    const next = new Promise<AwsCredentials>((resolve) => p.subscribe(resolve));
    await p.get();
    expect((await next).accessKeyId).not.toBe(first.accessKeyId);
    expect(a.requests).toHaveLength(2);
  });

  it('re-reads the token file on every request (node entry)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecs-token-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'token');
    const a = await agent({ authToken: 'first-token-value' });
    await writeFile(file, 'first-token-value\n');
    const { AWS_CONTAINER_AUTHORIZATION_TOKEN: _token, ...rest } = a.env;
    const p = provider({ env: { ...rest, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file } });
    const first = await p.get();
    a.setAuthToken('second-token-value');
    a.rotateCredentials();
    const stale = await failure(p.get({ forceRefresh: true }));
    expect(stale.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect(stale.status).toBe(401);
    expect(stale.message).toMatch(/check the authorization token/);
    expect(stale.message).not.toContain('first-token-value');
    await writeFile(file, 'second-token-value');
    const second = await p.get({ forceRefresh: true });
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(a.requests.map((r) => r.authorization)).toEqual(['valid', 'invalid', 'valid']);
  });

  it('names a missing or empty token file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ecs-token-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const a = await agent();
    const env = {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: a.credentialsUrl!,
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(dir, 'nope'),
    };
    const missing = await failure(provider({ env }).get());
    expect(missing.code).toBe('FILE_IO');
    expect(missing.message).toMatch(
      /cannot read the authorization token file .*nope \(AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\): ENOENT/,
    );
    await writeFile(join(dir, 'empty'), '\n');
    const empty = await failure(
      provider({ env: { ...env, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(dir, 'empty') } }).get(),
    );
    expect(empty.code).toBe('INVALID_CONFIG');
    expect(empty.message).toMatch(/token file .*empty/);
    expect(a.requests).toHaveLength(0);
  });

  it('the browser-safe entry asks for readFile when only a token file is configured', async () => {
    const a = await agent();
    const p = browserContainerCredentials({
      env: { AWS_CONTAINER_CREDENTIALS_FULL_URI: a.credentialsUrl!, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/x' },
    });
    closers.push(() => p.close());
    expect((await failure(p.get())).message).toMatch(/cannot read files: pass readFile/);
  });

  it('refuses a token with a line break (header injection)', async () => {
    const a = await agent();
    const e = await failure(
      provider({ env: { ...a.env, AWS_CONTAINER_AUTHORIZATION_TOKEN: 'abc\r\nX-Evil: 1' } }).get(),
    );
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).not.toContain('abc');
    expect(a.requests).toHaveLength(0);
  });

  it('keeps the credentials id of the URI out of error messages', async () => {
    const a = await agent();
    a.setFault({ match: 'credentials', status: 404 });
    const e = await failure(provider({ env: a.env }).get());
    const id = a.credentialsUrl!.split('/').pop()!;
    expect(e.message).toMatch(/\/v2\/credentials\/\[REDACTED\]/);
    expect(e.message).not.toContain(id);
  });

  it('retries 5xx and resets, then gives up with CREDENTIALS_UNAVAILABLE', async () => {
    const a = await agent();
    a.setFault({ match: 'credentials', status: 500, times: 2 });
    expect((await provider({ env: a.env }).get()).roleArn).toBe(a.roleArn);
    expect(a.requests.map((r) => r.status)).toEqual([500, 500, 200]);
    a.setFault({ match: 'credentials', reset: true });
    const e = await failure(provider({ env: a.env, retry: { initial: { maxAttempts: 3 } } }).get());
    expect(e.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect(e.retryable).toBe(true);
    expect(a.requests.slice(3).map((r) => r.fault)).toEqual(['reset', 'reset', 'reset']);
  });

  it('does not retry a 4xx', async () => {
    const a = await agent();
    const env = { ...a.env, AWS_CONTAINER_CREDENTIALS_FULL_URI: `${a.url}/v2/credentials/unknown` };
    const e = await failure(provider({ env }).get());
    expect(e.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/Credentials not found/);
    expect(a.requests).toHaveLength(1);
  });

  it('rejects invalid JSON and past expirations as INVALID_CREDENTIALS', async () => {
    const a = await agent();
    a.setFault({ match: 'credentials', invalidJson: true });
    expect((await failure(provider({ env: a.env }).get())).code).toBe('INVALID_CREDENTIALS');
    a.setFault(undefined);
    const clock = new ManualClock(Date.now() + 7 * 3600_000); // the client's clock is 7 h ahead of the agent's
    const e = await failure(provider({ env: a.env, clock }).get());
    expect(e.code).toBe('INVALID_CREDENTIALS');
    expect(e.message).toMatch(/Expiration .* is in the past/);
  });

  it('times out a hung endpoint per attempt', async () => {
    const a = await agent();
    a.setFault({ match: 'credentials', delayMs: 5_000 });
    const e = await failure(provider({ env: a.env, timeoutMs: 50, retry: { initial: { maxAttempts: 1 } } }).get());
    expect(e.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect(e.message).toMatch(/timed out after 50 ms/);
  });

  it('hands out credentials from a custom source (e.g. the fake AWS) with the configured role', async () => {
    const calls: string[] = [];
    const a = await agent({
      taskRoleArn: 'arn:aws:iam::123456789012:role/sports.api-service',
      credentials: async (roleArn) => {
        calls.push(roleArn);
        return {
          accessKeyId: 'ASIAFROMSOURCE',
          secretAccessKey: 'secret-from-source',
          sessionToken: 'token-from-source',
          expiration: new Date(Date.now() + 3600_000),
        };
      },
    });
    const c = await provider({ env: a.env }).get();
    expect(c.accessKeyId).toBe('ASIAFROMSOURCE');
    expect(c.sessionToken).toBe('token-from-source');
    expect(calls).toEqual(['arn:aws:iam::123456789012:role/sports.api-service']);
  });
});
