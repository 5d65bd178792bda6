import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from '../test/rejection.js';
import { createHttpClient } from './transport.js';

// A throwaway PKI made with the openssl CLI at test start: CA, server cert for 127.0.0.1, two client certs.
// P-256 keys keep this fast.
let dir: string;
const pem: Record<string, string> = {};

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(name: string, subject: string, ext: string, serial: number): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-set_serial',
    String(serial),
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
    '-out',
    `${name}.crt`,
  ]);
  pem[`${name}.key`] = readFileSync(join(dir, `${name}.key`), 'utf8');
  pem[`${name}.crt`] = readFileSync(join(dir, `${name}.crt`), 'utf8');
}

const get = (name: string): string => {
  const v = pem[name];
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
};

let server: https.Server;
let base: string;
const seen: string[] = [];
const tlsErrors: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ecs-identity-tls-'));
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key']);
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=ecs-identity test CA',
    '-days',
    '1',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.crt',
  ]);
  pem['ca.crt'] = readFileSync(join(dir, 'ca.crt'), 'utf8');
  issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n', 2);
  issue('client-a', '/CN=client-a', 'extendedKeyUsage=clientAuth\n', 3);
  issue('client-b', '/CN=client-b', 'extendedKeyUsage=clientAuth\n', 4);

  server = https.createServer(
    {
      key: get('server.key'),
      cert: get('server.crt'),
      ca: get('ca.crt'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const cn = String((req.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '(none)');
      seen.push(cn);
      res.end(JSON.stringify({ cn }));
    },
  );
  server.on('tlsClientError', (e) => tlsErrors.push(e.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const agentFor = (client: 'client-a' | 'client-b', withCa = true) =>
  new https.Agent({
    ...(withCa ? { ca: get('ca.crt') } : {}),
    cert: get(`${client}.crt`),
    key: get(`${client}.key`),
  });

describe('HTTPS through an https.Agent', () => {
  it('does mTLS with a custom CA and a client certificate', async () => {
    const agent = agentFor('client-a');
    const res = await createHttpClient({ agent }).request({ url: `${base}/whoami` });
    expect(res.json()).toEqual({ cn: 'client-a' });
    agent.destroy();
  });

  it('fails with NETWORK when the server certificate is not from a trusted CA', async () => {
    const before = seen.length;
    const agent = agentFor('client-a', false);
    const e = await rejection(createHttpClient({ agent }).request({ url: `${base}/whoami?sig=QuerySecret1` }));
    expect(e.code).toBe('NETWORK');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(`GET ${base}/whoami`);
    expect(e.message).not.toContain('QuerySecret1');
    expect(seen.length).toBe(before);
    agent.destroy();
  });

  it('is refused by a server that requires a client certificate when none is presented', async () => {
    const before = seen.length;
    const agent = new https.Agent({ ca: get('ca.crt') });
    const e = await rejection(createHttpClient({ agent }).request({ url: `${base}/whoami` }));
    expect(e.code).toBe('NETWORK');
    expect(e.message).toMatch(/certificate required/i);
    expect(tlsErrors.some((m) => m.includes('peer did not return a certificate'))).toBe(true);
    expect(seen.length).toBe(before);
    agent.destroy();
  });

  it('asks an agent function for the current agent on every request (rotation)', async () => {
    const a = agentFor('client-a');
    const b = agentFor('client-b');
    let current = a;
    let calls = 0;
    const client = createHttpClient({
      agent: () => {
        calls += 1;
        return current;
      },
    });
    expect((await client.request({ url: `${base}/1` })).json()).toEqual({ cn: 'client-a' });
    current = b;
    expect((await client.request({ url: `${base}/2` })).json()).toEqual({ cn: 'client-b' });
    expect(calls).toBe(2);
    a.destroy();
    b.destroy();
  });

  it('without an agent, an untrusted server certificate is a NETWORK error', async () => {
    const e = await rejection(createHttpClient().request({ url: `${base}/whoami` }));
    expect(e.code).toBe('NETWORK');
    expect(tlsErrors.length).toBeGreaterThan(0);
  });
});
