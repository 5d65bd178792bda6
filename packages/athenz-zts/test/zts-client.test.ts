// The ZTS client's wire format, against a recording loopback server: plain http (allowed to loopback) for the calls
// without a client certificate, https for those with one (never sent over plain http, even to loopback).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createZtsClient, ztsUrl } from '@ecs-identity/athenz-zts';
import { createHttpClient, IdentityError } from '@ecs-identity/core';
import { httpsAgent } from '@ecs-identity/core/node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createZtsClient as browserCreateZtsClient } from '../src/index.js';
import { USER_AGENT, VERSION } from '../src/version.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}
let server: Server;
let tlsServer: Server;
let base: string;
let tlsBase: string;
let tlsCa: string;
const seen: Seen[] = [];
let reply: { status: number; body: unknown; delayMs?: number } = { status: 200, body: {} };

beforeAll(async () => {
  const record: RequestListener = (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const send = () => {
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  };
  server = createServer(record);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/zts/v1`;
  // A self-signed certificate for 127.0.0.1 (openssl CLI, P-256), trusted by the test's transport.
  const dir = mkdtempSync(join(tmpdir(), 'zts-client-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1'].concat(
      ['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    ),
    { stdio: 'ignore' },
  );
  tlsCa = readFileSync(join(dir, 'cert.pem'), 'utf8');
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  rmSync(dir, { recursive: true, force: true });
  tlsServer = createHttpsServer({ key, cert: tlsCa }, record);
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  tlsBase = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}/zts/v1`;
});
afterAll(async () => {
  for (const s of [server, tlsServer]) {
    await new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });
  }
});
beforeEach(() => {
  seen.length = 0;
  reply = { status: 200, body: {} };
});

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('createZtsClient', () => {
  it('register: POST /instance, JSON with lower-cased names, the SIA User-Agent', async () => {
    reply = { status: 201, body: { provider: 'p', name: 'sports.api', instanceId: 'i', x509Certificate: CERT } };
    const zts = createZtsClient({ url: `${base}/` });
    const id = await zts.register({
      provider: 'Athenz.AWS-ECS.us-west-2',
      domain: 'Sports',
      service: 'API',
      attestationData: '{"role":"sports.api"}',
      csr: 'CSR',
      expiryTime: 60,
    });
    expect(id.x509Certificate).toBe(CERT);
    const req = seen[0]!;
    expect([req.method, req.url]).toEqual(['POST', '/zts/v1/instance']);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['user-agent']).toBe(`SIA-ecs-identity ${VERSION}`);
    expect(USER_AGENT).toBe(`SIA-ecs-identity ${VERSION}`);
    expect(JSON.parse(req.body)).toEqual({
      provider: 'athenz.aws-ecs.us-west-2',
      domain: 'sports',
      service: 'api',
      attestationData: '{"role":"sports.api"}',
      csr: 'CSR',
      expiryTime: 60,
    });
  });

  it('jwks: GET /oauth2/keys?rfc=true', async () => {
    reply = { status: 200, body: { keys: [{ kty: 'EC' }] } };
    const keys = await createZtsClient({ url: base }).jwks();
    expect(keys.keys).toHaveLength(1);
    expect([seen[0]?.method, seen[0]?.url]).toEqual(['GET', '/zts/v1/oauth2/keys?rfc=true']);
  });

  /** The errors of the four calls that present the client certificate. */
  async function mtlsCallErrors(zts: ReturnType<typeof createZtsClient>): Promise<unknown[]> {
    const tls = { keyPem: 'k', certPem: 'c' };
    const ref = { provider: 'athenz.aws-ecs.us-west-2', domain: 'sports', service: 'api', instanceId: 'i-1' };
    return Promise.all(
      [
        () => zts.refresh(ref, { csr: 'x' }, tls),
        () => zts.deleteInstance(ref, tls),
        () => zts.roleCertificate({ csr: 'x' }, tls),
        () => zts.accessToken({ scope: 'sports:domain' }, tls),
      ].map((call) =>
        call().then(
          () => undefined,
          (err: unknown) => err,
        ),
      ),
    );
  }

  it('calls that need a client certificate are refused by the browser-safe default transport, before any I/O', async () => {
    for (const e of await mtlsCallErrors(browserCreateZtsClient({ url: tlsBase }))) {
      expect(IdentityError.is(e, 'INVALID_CONFIG')).toBe(true);
    }
    expect(seen).toHaveLength(0);
  });

  it('calls that present the client certificate are refused over plain http, even to loopback, before any I/O', async () => {
    const http = createHttpClient({ userAgent: USER_AGENT });
    for (const e of await mtlsCallErrors(createZtsClient({ url: base, transport: () => http }))) {
      expect(IdentityError.is(e, 'INSECURE_URL')).toBe(true);
      expect((e as Error).message).toMatch(/only over https/);
    }
    expect(seen).toHaveLength(0);
  });

  it('refresh path, access-token form and role cert bodies (through a custom transport)', async () => {
    const http = createHttpClient({ userAgent: USER_AGENT, agent: httpsAgent({ ca: tlsCa }) });
    const zts = createZtsClient({ url: tlsBase, transport: () => http });
    const tls = { keyPem: 'k', certPem: 'c' };
    reply = { status: 200, body: { x509Certificate: CERT } };
    await zts.refresh(
      { provider: 'athenz.aws-ecs.us-west-2', domain: 'sports', service: 'api', instanceId: 'a:b@c' },
      { csr: 'CSR', attestationData: '{}' },
      tls,
    );
    expect(seen[0]?.url).toBe('/zts/v1/instance/athenz.aws-ecs.us-west-2/sports/api/a%3Ab%40c');
    await zts.roleCertificate({ csr: 'CSR', expiryTime: 0 }, tls);
    expect([seen[1]?.url, JSON.parse(seen[1]?.body ?? '{}')]).toEqual([
      '/zts/v1/rolecert',
      { csr: 'CSR', expiryTime: 0 },
    ]);
    reply = { status: 200, body: { access_token: 'tok', token_type: 'Bearer', expires_in: 60 } };
    await zts.accessToken({ scope: 'sports:role.readers openid sports:service.api', expiresIn: 60.7 }, tls);
    expect(seen[2]?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(new URLSearchParams(seen[2]?.body))).toEqual({
      grant_type: 'client_credentials',
      scope: 'sports:role.readers openid sports:service.api',
      expires_in: '60',
    });
    reply = { status: 204, body: '' };
    await zts.deleteInstance(
      { provider: 'athenz.aws-ecs.us-west-2', domain: 'sports', service: 'api', instanceId: 'i' },
      tls,
    );
    expect(seen[3]?.method).toBe('DELETE');
  });

  it('answers without the expected fields are INVALID_RESPONSE; bad names are refused before I/O', async () => {
    reply = { status: 201, body: { provider: 'p', name: 'sports.api' } };
    const zts = createZtsClient({ url: base });
    const register = {
      provider: 'athenz.aws-ecs.us-west-2',
      domain: 'sports',
      service: 'api',
      attestationData: '{}',
      csr: 'x',
    };
    await expect(zts.register(register)).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    reply = { status: 200, body: { nokeys: true } };
    await expect(zts.jwks()).rejects.toMatchObject({ code: 'INVALID_RESPONSE' });
    const n = seen.length;
    await expect(zts.register({ ...register, domain: 'bad domain' })).rejects.toMatchObject({ code: 'INVALID_NAME' });
    expect(seen).toHaveLength(n);
  });

  it('times out slow answers (retryable TIMEOUT)', async () => {
    reply = { status: 200, body: { keys: [] }, delayMs: 500 };
    const e = await createZtsClient({ url: base, timeoutMs: 50 })
      .jwks()
      .catch((err: unknown) => err);
    expect(IdentityError.is(e, 'TIMEOUT')).toBe(true);
    expect((e as IdentityError).retryable).toBe(true);
  });

  it('validates the base URL and builds the default one', () => {
    expect(() => createZtsClient({ url: 'zts.example.com' })).toThrow(/absolute URL/);
    expect(() => createZtsClient({ url: 'https://zts.example.com/zts/v1?x=1' })).toThrow(/query/);
    expect(ztsUrl('zts.example.com')).toBe('https://zts.example.com:4443/zts/v1');
    expect(createZtsClient({ url: 'https://zts.example.com:4443/zts/v1/' }).url).toBe(
      'https://zts.example.com:4443/zts/v1',
    );
  });
});
