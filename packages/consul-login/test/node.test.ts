import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IdentityError, type Logger } from '@ecs-identity/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConsulToken } from '../src/consul-token.js';
import * as browserBuild from '../src/index.js';
import * as nodeBuild from '../src/index.node.js';
import { logoutAll } from '../src/logout-all.js';
import { logoutOnSigterm, tokenFileSink } from '../src/node.js';
import { memoryAcl } from './memory-acl.js';
import { tokenJson } from './stub-server.js';

const fixture = (name: string) => new URL(`./fixtures/tls/${name}`, import.meta.url);
const token = (n: number) => parseConsulToken({ AccessorID: `acc-${n}`, SecretID: `sec-${n}-abcdefgh` });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'consul-login-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('tokenFileSink', () => {
  it('writes the SecretID alone, atomically, mode 0600 by default', async () => {
    const path = join(dir, 'sink', 'service-token');
    await tokenFileSink(path)(token(1));
    expect(await readFile(path, 'utf8')).toBe('sec-1-abcdefgh');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await tokenFileSink(path, { mode: 0o644 })(token(2));
    expect(await readFile(path, 'utf8')).toBe('sec-2-abcdefgh');
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect(await readdir(join(dir, 'sink'))).toEqual(['service-token']);
  });
});

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (obj: unknown, msg?: string) => lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  return { lines, debug: push, info: push, warn: push, error: push };
}

describe('logoutOnSigterm', () => {
  it('on SIGTERM logs out the service token then the client token, and exits 0', async () => {
    const proc = new EventEmitter();
    const acl = memoryAcl();
    const order: string[] = [];
    const service = { close: async () => void order.push('service') };
    const codes: number[] = [];
    const exited = new Promise<void>((resolve) => {
      logoutOnSigterm(
        [
          { name: 'service token', provider: service },
          { name: 'client token', acl, token: token(7) },
        ],
        {
          process: proc as never,
          exit: (code) => {
            codes.push(code);
            resolve();
          },
          logger: recorder(),
        },
      );
    });
    proc.emit('SIGTERM', 'SIGTERM');
    await exited;
    expect(order).toEqual(['service']);
    expect(acl.logouts).toEqual(['sec-7-abcdefgh']);
    expect(codes).toEqual([0]);
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('reports every failure, still logs out the rest, and exits 1', async () => {
    const proc = new EventEmitter();
    const acl = memoryAcl();
    const log = recorder();
    const broken = {
      close: async () => {
        throw new IdentityError('LOGOUT_FAILED', 'Consul logout answered 500: leadership lost', { status: 500 });
      },
    };
    const failingAcl = memoryAcl();
    failingAcl.logoutError = new IdentityError('NETWORK', 'connect ECONNREFUSED 127.0.0.1:8500', { retryable: true });
    const code = await new Promise<number>((resolve) => {
      logoutOnSigterm(
        () => [
          { name: 'service token', provider: broken },
          { name: 'client token', acl: failingAcl, token: token(8) },
          { name: 'other token', acl, token: token(9) },
        ],
        { process: proc as never, exit: resolve, logger: log },
      );
      proc.emit('SIGTERM', 'SIGTERM');
    });
    expect(code).toBe(1);
    expect(acl.logouts).toEqual(['sec-9-abcdefgh']);
    const text = log.lines.join('\n');
    expect(text).toContain('leadership lost');
    expect(text).toContain('ECONNREFUSED');
    expect(text).toContain('2 of 3 logouts failed');
    expect(text).not.toContain('sec-8-abcdefgh');
  });

  it('logoutAll counts an already-deleted token as logged out', async () => {
    const acl = memoryAcl();
    acl.logoutError = new IdentityError('CONSUL_TOKEN_NOT_FOUND', 'ACL not found', { status: 403 });
    expect(await logoutAll([{ name: 'service token', acl, token: token(1) }])).toEqual([]);
  });
});

describe('the Consul CA in Node and in the browser-safe build', () => {
  it("Node's consulAclClient trusts CONSUL_CACERT for an https Consul, which is refused without it", async () => {
    const server = createServer(
      { key: readFileSync(fixture('server.key')), cert: readFileSync(fixture('server.pem')) },
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(tokenJson());
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const env = { CONSUL_CACERT: fixture('ca.pem').pathname };
      const trusted = nodeBuild.consulAclClient({ address, env });
      expect((await trusted.readSelf('s')).accessorId).toBe('6a1253d2-1785-24fd-91c2-f8e78c745511');
      const fromOption = nodeBuild.consulAclClient({
        address,
        env: {},
        tls: { caPem: readFileSync(fixture('ca.pem'), 'utf8') },
      });
      expect((await fromOption.readSelf('s')).accessorId).toBe('6a1253d2-1785-24fd-91c2-f8e78c745511');
      const untrusted = nodeBuild.consulAclClient({ address, env: {} });
      await expect(untrusted.readSelf('s')).rejects.toMatchObject({ code: 'NETWORK' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('the browser-safe build refuses a CA or client certificate it cannot use, naming what to pass', () => {
    const error = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return undefined;
    };
    for (const options of [
      { env: { CONSUL_CACERT: '/consul/ca.pem' } },
      { env: {}, tls: { caPem: '-----BEGIN CERTIFICATE-----' } },
    ]) {
      expect(error(() => browserBuild.consulAclClient(options))).toMatchObject({
        code: 'INVALID_CONFIG',
        message: expect.stringMatching(/needs Node .* pass acl\.http/),
      });
      expect(error(() => browserBuild.consulTokenProvider({ acl: options }))).toMatchObject({ code: 'INVALID_CONFIG' });
    }
    expect(browserBuild.consulAclClient({ env: {} }).address).toBe('http://127.0.0.1:8500');
  });

  it('Node names an unreadable CA file and a client certificate without its key', () => {
    const missing = join(dir, 'nope.pem');
    expect(() => nodeBuild.consulAclClient({ env: { CONSUL_CACERT: missing } })).toThrow(missing);
    expect(() => nodeBuild.consulAclClient({ env: { CONSUL_CLIENT_CERT: 'c.pem' } })).toThrow(/CONSUL_CLIENT_KEY/);
  });
});
