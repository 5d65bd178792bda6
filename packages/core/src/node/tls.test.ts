import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { type Agent, createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { ManualClock } from '@ecs-identity/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { makeCert, type TestPair } from '../../test/openssl.js';
import { type Credential, type CredentialProvider, withAsyncDispose } from '../credential.js';
import { IdentityError } from '../errors.js';
import { refreshingProvider } from '../refreshing-provider.js';
import { createHttpClient } from '../transport.js';
import { clientCertificateAgents, httpsAgent, keepServerRotated, rotatingAgent, tlsOptions } from './tls.js';

interface Id extends Credential {
  privateKeyPem: string;
  certificatePem: string;
  caBundlePem?: string;
}

/** A provider driven by hand: `emit` is what a refresh would deliver to subscribers. */
function handProvider(first: Id) {
  const listeners = new Set<(c: Id) => void>();
  let current = first;
  const handMade = {
    get: async () => current,
    subscribe(listener: (c: Id) => void) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close: async () => undefined,
  };
  const provider: CredentialProvider<Id> = withAsyncDispose(handMade);
  return {
    provider,
    emit(next: Id) {
      current = next;
      for (const l of listeners) l(next);
    },
    listeners: () => listeners.size,
  };
}

let dir: string;
let ca: TestPair;
let s1: TestPair;
let s2: TestPair;
let s6: TestPair;
let c1: TestPair;
let c2: TestPair;
const id = (p: TestPair): Id => ({ privateKeyPem: p.keyPem, certificatePem: p.certPem, caBundlePem: ca.certPem });
const fingerprint = (p: TestPair) => new X509Certificate(p.certPem).fingerprint256;
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'core-tls-'));
  ca = makeCert(dir, 'ca', { ca: true });
  s1 = makeCert(dir, 'server1', { issuer: 'ca', san: 'IP:127.0.0.1' });
  s2 = makeCert(dir, 'server2', { issuer: 'ca', san: 'IP:127.0.0.1' });
  s6 = makeCert(dir, 'server6', { issuer: 'ca', san: 'IP:::1' });
  c1 = makeCert(dir, 'client1', { issuer: 'ca' });
  c2 = makeCert(dir, 'client2', { issuer: 'ca' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/**
 * An mTLS server on 127.0.0.1 (or `host`) that answers with the fingerprint of the client certificate it saw (empty
 * without one). It requires a client certificate unless `requireClientCert` is false.
 */
async function mtlsServer(
  identity: TestPair,
  onRequest?: (path: string) => Promise<void>,
  { requireClientCert = true, host = '127.0.0.1' } = {},
): Promise<{ server: Server; port: number }> {
  const server = createServer(
    {
      key: identity.keyPem,
      cert: identity.certPem,
      ca: ca.certPem,
      requestCert: true,
      rejectUnauthorized: requireClientCert,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      void (onRequest?.(req.url ?? '/') ?? Promise.resolve()).then(() => res.end(peer.fingerprint256 ?? ''));
    },
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, host, r));
  return { server, port: (server.address() as AddressInfo).port };
}

/** The server certificate a fresh TLS connection sees. */
async function serverFingerprint(port: number): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port, ca: ca.certPem, key: c1.keyPem, cert: c1.certPem });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return socket.getPeerCertificate().fingerprint256;
  } finally {
    socket.destroy();
  }
}

/** A promise and the function that resolves it: to hold a request in the server, and to learn it arrived. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
}

function get(port: number, agent: Agent, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('keepServerRotated', () => {
  it('puts new handshakes on the newest certificate without a restart, until unsubscribed', async () => {
    const { server, port } = await mtlsServer(s1);
    const hand = handProvider(id(s1));
    const onError = vi.fn();
    const stop = keepServerRotated(server, hand.provider, { onError });
    expect(await serverFingerprint(port)).toBe(fingerprint(s1));
    hand.emit(id(s2));
    expect(await serverFingerprint(port)).toBe(fingerprint(s2));

    // a bad identity is reported and the server keeps serving the last good one
    hand.emit({ privateKeyPem: 'not a key', certificatePem: s1.certPem });
    expect(onError).toHaveBeenCalledTimes(1);
    const error = onError.mock.calls[0]![0] as IdentityError;
    expect(error).toBeInstanceOf(IdentityError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toMatch(/setSecureContext/);
    expect(await serverFingerprint(port)).toBe(fingerprint(s2));

    stop();
    expect(hand.listeners()).toBe(0);
    hand.emit(id(s1));
    expect(await serverFingerprint(port)).toBe(fingerprint(s2));
  });

  it('follows a real refreshingProvider', async () => {
    const { server, port } = await mtlsServer(s1);
    const queue = [s1, s2];
    const provider = refreshingProvider<Id>({
      name: 'server identity',
      fetch: async () => id(queue.shift() ?? s2),
      refresh: { background: false },
    });
    const stop = keepServerRotated(server, provider, {
      toTls: (c) => ({ key: c.privateKeyPem, cert: c.certificatePem, ca: ca.certPem }),
    });
    await provider.get();
    expect(await serverFingerprint(port)).toBe(fingerprint(s1));
    await provider.get({ forceRefresh: true });
    expect(await serverFingerprint(port)).toBe(fingerprint(s2));
    stop();
    await provider.close();
  });
});

describe('rotatingAgent', () => {
  it('presents the newest client certificate after a rotation and retires the idle old agent', async () => {
    const { port } = await mtlsServer(s1);
    const hand = handProvider(id(c1));
    const clock = new ManualClock();
    const agents = await rotatingAgent(hand.provider, { ca: ca.certPem, clock });
    const first = agents.current();
    expect(await get(port, first)).toBe(fingerprint(c1));
    const destroyed = vi.spyOn(first, 'destroy');

    hand.emit(id(c2));
    expect(agents.current()).not.toBe(first);
    expect(await get(port, agents.current())).toBe(fingerprint(c2));
    await clock.advance(100); // one idleness check at most: nothing was in flight
    expect(destroyed).toHaveBeenCalledTimes(1);

    agents.close();
    expect(hand.listeners()).toBe(0);
    expect(() => agents.current()).toThrow(/closed/);
  });

  it('lets an in-flight request on the old agent finish before destroying it', async () => {
    const { open: release, opened: held } = gate();
    const { open: arrived, opened: arrival } = gate();
    const { port } = await mtlsServer(s1, async (path) => {
      if (path !== '/slow') return;
      arrived();
      await held;
    });
    const clock = new ManualClock();
    const hand = handProvider(id(c1));
    const agents = await rotatingAgent(hand.provider, { ca: ca.certPem, clock, graceMs: 10_000 });
    const old = agents.current();
    const destroyed = vi.spyOn(old, 'destroy');
    const slow = get(port, old, '/slow');
    await arrival;

    hand.emit(id(c2));
    await clock.advance(5_000);
    expect(destroyed).not.toHaveBeenCalled();
    release();
    expect(await slow).toBe(fingerprint(c1));
    await clock.advance(200);
    expect(destroyed).toHaveBeenCalledTimes(1);
    expect(await get(port, agents.current())).toBe(fingerprint(c2));
    agents.close();
  });

  it('destroys the old agent after graceMs even if a request is still running', async () => {
    const { open: release, opened: held } = gate();
    const { open: arrived, opened: arrival } = gate();
    const { port } = await mtlsServer(s1, async () => {
      arrived();
      await held;
    });
    const clock = new ManualClock();
    const hand = handProvider(id(c1));
    const agents = await rotatingAgent(hand.provider, { ca: ca.certPem, clock, graceMs: 1_000 });
    const slow = get(port, agents.current(), '/slow').then(
      () => 'answered',
      (e: unknown) => e,
    );
    await arrival;
    hand.emit(id(c2));
    let settled = false;
    void slow.then(() => {
      settled = true;
    });
    await clock.advance(999);
    expect(settled).toBe(false);
    await clock.advance(1);
    expect(await slow).toMatchObject({ code: 'ECONNRESET' });
    release();
    agents.close();
  });

  it('keeps the previous agent when a new identity is unusable, and reports it', async () => {
    const { port } = await mtlsServer(s1);
    const hand = handProvider(id(c1));
    const onError = vi.fn();
    const agents = await rotatingAgent(hand.provider, { ca: ca.certPem, onError, clock: new ManualClock() });
    const first = agents.current();
    hand.emit({ privateKeyPem: c2.keyPem, certificatePem: c1.certPem }); // key and cert do not match
    expect(agents.current()).toBe(first);
    expect((onError.mock.calls[0]![0] as IdentityError).code).toBe('INVALID_ARGUMENT');
    expect(String((onError.mock.calls[0]![0] as IdentityError).message)).not.toContain('PRIVATE KEY');
    expect(await get(port, agents.current())).toBe(fingerprint(c1));
    agents.close();
  });

  it('plugs into the transport: createHttpClient({ agent: () => agents.current() }) follows rotation', async () => {
    const { port } = await mtlsServer(s1);
    const hand = handProvider(id(c1));
    const agents = await rotatingAgent(hand.provider, { ca: ca.certPem, clock: new ManualClock() });
    const http = createHttpClient({ agent: () => agents.current() });
    const url = `https://127.0.0.1:${port}/`;
    expect((await http.request({ url })).text()).toBe(fingerprint(c1));
    hand.emit(id(c2));
    expect((await http.request({ url })).text()).toBe(fingerprint(c2));
    agents.close();
  });

  it('fails like the provider when the first credential cannot be had, leaving no subscription', async () => {
    const hand = handProvider(id(c1));
    hand.provider.get = async () => {
      throw new IdentityError('NETWORK', 'down');
    };
    await expect(rotatingAgent(hand.provider)).rejects.toMatchObject({ code: 'NETWORK' });
    expect(hand.listeners()).toBe(0);
  });
});

describe('tlsOptions', () => {
  it('gives { key, cert, ca } of a key + certificate credential, ca only when it has a CA bundle', () => {
    expect(tlsOptions(id(s1))).toEqual({ key: s1.keyPem, cert: s1.certPem, ca: ca.certPem });
    expect(tlsOptions({ privateKeyPem: s1.keyPem, certificatePem: s1.certPem })).toStrictEqual({
      key: s1.keyPem,
      cert: s1.certPem,
    });
  });
});

describe('clientCertificateAgents', () => {
  const tls = (p: TestPair) => ({ key: p.keyPem, cert: p.certPem });

  it('keeps one agent per client certificate; a newer one retires the older once idle; none for no certificate', async () => {
    const { port } = await mtlsServer(s1);
    const clock = new ManualClock();
    const agents = clientCertificateAgents({ ca: ca.certPem, clock });
    const plain = agents.agentFor();
    expect(agents.agentFor()).toBe(plain);
    const a = agents.agentFor(tls(c1));
    expect(agents.agentFor({ ...tls(c1) })).toBe(a);
    expect(await get(port, a)).toBe(fingerprint(c1));
    const destroyed = vi.spyOn(a, 'destroy');
    const b = agents.agentFor(tls(c2));
    expect(b).not.toBe(a);
    expect(destroyed).toHaveBeenCalledTimes(1); // nothing was in flight on it
    expect(agents.agentFor(tls(c1))).not.toBe(a); // a new agent for c1, now the newest
    expect(await get(port, agents.agentFor(tls(c1)))).toBe(fingerprint(c1));
    expect(agents.agentFor()).toBe(plain);
    agents.close();
    expect(() => agents.agentFor(tls(c1))).toThrow(/closed/);
  });

  it('lets a request in flight on a replaced certificate finish, and hands that agent out while it lives', async () => {
    const { open: release, opened: held } = gate();
    const { open: arrived, opened: arrival } = gate();
    const { port } = await mtlsServer(s1, async (path) => {
      if (path !== '/slow') return;
      arrived();
      await held;
    });
    const clock = new ManualClock();
    const agents = clientCertificateAgents({ ca: ca.certPem, clock, graceMs: 10_000 });
    const old = agents.agentFor(tls(c1));
    const destroyed = vi.spyOn(old, 'destroy');
    const slow = get(port, old, '/slow');
    await arrival;
    agents.agentFor(tls(c2));
    await clock.advance(5_000);
    expect(destroyed).not.toHaveBeenCalled();
    expect(agents.agentFor(tls(c1))).toBe(old); // still retiring, still usable
    release();
    expect(await slow).toBe(fingerprint(c1));
    await clock.advance(200);
    expect(destroyed).toHaveBeenCalledTimes(1);
    agents.close();
  });

  it('refuses a key that does not match its certificate, without echoing the key', () => {
    const agents = clientCertificateAgents({ ca: ca.certPem });
    let caught: unknown;
    try {
      agents.agentFor({ key: c2.keyPem, cert: c1.certPem });
    } catch (e) {
      caught = e;
    }
    expect(IdentityError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).not.toContain(c2.keyPem.split('\n')[1]);
    agents.close();
  });
});

describe('clientCertificateAgents: preconnect', () => {
  const tls = (p: TestPair) => ({ key: p.keyPem, cert: p.certPem });

  /**
   * An mTLS server that does not require a client certificate, and what it saw: each connection once its handshake is
   * done, and the connection of each request.
   */
  async function watchedServer(host: '127.0.0.1' | '::1' = '127.0.0.1') {
    const { server, port } = await mtlsServer(host === '::1' ? s6 : s1, undefined, { requireClientCert: false, host });
    const origin = host === '::1' ? `https://[::1]:${port}` : `https://127.0.0.1:${port}`;
    const handshakes: TLSSocket[] = [];
    const requestSockets: unknown[] = [];
    const closed: TLSSocket[] = [];
    server.on('secureConnection', (socket: TLSSocket) => {
      handshakes.push(socket);
      socket.once('close', () => closed.push(socket));
    });
    server.prependListener('request', (req) => requestSockets.push(req.socket));
    /** Resolves once the server has completed `n` handshakes (bounded: the test's timeout). */
    const handshaken = async (n: number) => {
      while (handshakes.length < n) await new Promise((r) => server.once('secureConnection', r));
    };
    const refusals: Error[] = [];
    server.on('tlsClientError', (e: Error) => refusals.push(e));
    const refused = async (n: number) => {
      while (refusals.length < n) await new Promise((r) => server.once('tlsClientError', r));
    };
    return { port, url: `${origin}/zts/v1`, handshakes, requestSockets, closed, handshaken, refused };
  }

  it('opens the connection ahead: its handshake is done before the request, which takes it (one connection)', async () => {
    const srv = await watchedServer();
    const agents = clientCertificateAgents({ ca: ca.certPem, keepAlive: false });
    agents.preconnect(srv.url);
    await srv.handshaken(1); // no request was made yet
    expect(srv.requestSockets).toHaveLength(0);
    expect(await get(srv.port, agents.agentFor())).toBe(''); // no client certificate on this agent
    expect(srv.handshakes).toHaveLength(1);
    expect(srv.requestSockets).toEqual([srv.handshakes[0]]);
    // The next request (keepAlive off: that connection is gone) opens its own.
    await get(srv.port, agents.agentFor());
    expect(srv.handshakes).toHaveLength(2);
    agents.close();
  });

  it('hands the connection to an IPv6 origin to its request too (host without brackets, no server name)', async () => {
    const srv = await watchedServer('::1');
    const agents = clientCertificateAgents({ ca: ca.certPem, keepAlive: false });
    agents.preconnect(srv.url);
    await srv.handshaken(1);
    const http = createHttpClient({ agent: agents.agentFor() });
    expect((await http.request({ url: srv.url })).status).toBe(200);
    expect(srv.handshakes).toHaveLength(1);
    expect(srv.requestSockets).toEqual([srv.handshakes[0]]);
    agents.close();
  });

  it('opens it on the agent of a client certificate, which the mTLS request then presents', async () => {
    const srv = await watchedServer();
    const agents = clientCertificateAgents({ ca: ca.certPem });
    agents.preconnect(new URL(srv.url), tls(c2));
    await srv.handshaken(1);
    expect(srv.handshakes[0]?.getPeerCertificate().fingerprint256).toBe(fingerprint(c2));
    expect(await get(srv.port, agents.agentFor(tls(c2)))).toBe(fingerprint(c2));
    expect(srv.handshakes).toHaveLength(1);
    agents.close();
  });

  it('opens nothing more while one waits or a kept-alive connection is free, and nothing for plain http', async () => {
    const srv = await watchedServer();
    const agents = clientCertificateAgents({ ca: ca.certPem }); // keep-alive
    agents.preconnect(srv.url);
    agents.preconnect(srv.url);
    agents.preconnect(`http://127.0.0.1:${srv.port}/`);
    await srv.handshaken(1);
    await get(srv.port, agents.agentFor()); // takes the waiting one, then keeps it free
    agents.preconnect(srv.url);
    await get(srv.port, agents.agentFor());
    expect(srv.handshakes).toHaveLength(1);
    expect(srv.requestSockets).toEqual([srv.handshakes[0], srv.handshakes[0]]);
    agents.close();
  });

  it('closes a connection left unused for 10 s (injected clock), and one still waiting at close()', async () => {
    const srv = await watchedServer();
    const clock = new ManualClock();
    const agents = clientCertificateAgents({ ca: ca.certPem, clock, keepAlive: false });
    agents.preconnect(srv.url);
    await srv.handshaken(1);
    await clock.advance(9_999);
    expect(srv.closed).toHaveLength(0);
    await clock.advance(1);
    while (srv.closed.length < 1) await new Promise((r) => srv.handshakes[0]?.once('close', r));
    // The request after it opens a new connection; so does a new preconnect, which close() then closes.
    await get(srv.port, agents.agentFor());
    expect(srv.handshakes).toHaveLength(2);
    agents.preconnect(srv.url);
    await srv.handshaken(3);
    agents.close();
    while (srv.closed.length < 3) await new Promise((r) => srv.handshakes[2]?.once('close', r));
    expect(() => agents.preconnect(srv.url)).toThrow(/closed/);
  });

  it('drops a connection that fails (untrusted server, nothing listening) quietly: the request reports its own error', async () => {
    const srv = await watchedServer();
    const untrusting = clientCertificateAgents({ keepAlive: false }); // Node's roots: the test CA is not among them
    untrusting.preconnect(srv.url);
    await srv.refused(1); // the client refused the server's certificate, with no request to report it to
    const http = createHttpClient({ agent: untrusting.agentFor() });
    const refused = await http.request({ url: srv.url }).catch((e: unknown) => e);
    expect(IdentityError.is(refused, 'NETWORK')).toBe(true);
    expect((refused as Error).message).toMatch(/certificate/);
    await srv.refused(2); // on a connection of its own
    expect(srv.handshakes).toHaveLength(0);
    untrusting.close();

    const { server, port } = await mtlsServer(s1);
    await new Promise((r) => server.close(r)); // a port where nothing listens now
    const agents = clientCertificateAgents({ ca: ca.certPem, keepAlive: false });
    agents.preconnect(`https://127.0.0.1:${port}/`);
    const down = await createHttpClient({ agent: agents.agentFor() })
      .request({ url: `https://127.0.0.1:${port}/` })
      .catch((e: unknown) => e);
    expect(IdentityError.is(down, 'NETWORK')).toBe(true);
    expect((down as Error).message).toMatch(/ECONNREFUSED/);
    agents.close();
  });

  it('refuses a url that does not parse (INVALID_ARGUMENT)', () => {
    const agents = clientCertificateAgents({ ca: ca.certPem });
    let caught: unknown;
    try {
      agents.preconnect('not a url');
    } catch (e) {
      caught = e;
    }
    expect(IdentityError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    agents.close();
  });
});

describe('httpsAgent', () => {
  it('talks mTLS with a custom CA', async () => {
    const { port } = await mtlsServer(s2);
    const agent = httpsAgent({ ca: ca.certPem, key: c2.keyPem, cert: c2.certPem, keepAlive: false });
    expect(await get(port, agent)).toBe(fingerprint(c2));
    agent.destroy();
  });

  it('without the CA, the test server is not trusted', async () => {
    const { port } = await mtlsServer(s2);
    const agent = httpsAgent({ key: c2.keyPem, cert: c2.certPem, keepAlive: false });
    await expect(get(port, agent)).rejects.toThrow(/certificate/);
    agent.destroy();
  });

  it('shares one secure context per CA bundle between agents without a client certificate', () => {
    const contextOf = (agent: import('node:https').Agent) =>
      (agent as unknown as { options: { secureContext?: unknown } }).options.secureContext;
    const a = httpsAgent({ ca: ca.certPem, keepAlive: false });
    const b = httpsAgent({ ca: ca.certPem, keepAlive: false });
    const withCert = httpsAgent({ ca: ca.certPem, key: c2.keyPem, cert: c2.certPem, keepAlive: false });
    expect(contextOf(a)).toBeDefined();
    expect(contextOf(a)).toBe(contextOf(b));
    expect(contextOf(withCert)).not.toBe(contextOf(a));
    expect(contextOf(httpsAgent({ keepAlive: false }))).not.toBe(contextOf(a));
    for (const agent of [a, b, withCert]) agent.destroy();
  });

  it('rejects a key without a cert, empty or unusable PEM, without echoing the key', () => {
    expect(() => httpsAgent({ key: c1.keyPem })).toThrow(/both key and cert/);
    expect(() => httpsAgent({ key: '', cert: c1.certPem })).toThrow(/key is empty/);
    let caught: unknown;
    try {
      httpsAgent({ key: c2.keyPem, cert: c1.certPem });
    } catch (e) {
      caught = e;
    }
    expect(IdentityError.is(caught, 'INVALID_ARGUMENT')).toBe(true);
    expect((caught as Error).message).not.toContain('PRIVATE KEY');
  });
});
