/**
 * The fake Athenz ZTS: a real HTTPS server on 127.0.0.1 (ephemeral port) with its own CA, serving the SIA endpoints
 * under `/zts/v1` with the real server's rules, statuses and error bodies.
 * @packageDocumentation
 */
import './reflect-metadata.js';
import { webcrypto } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { IdentityError } from '@ecs-identity/core';
import { withAsyncDispose } from '@ecs-identity/core/internal';
import * as x509 from '@peculiar/x509';
import type { JWK } from 'jose';
import { type AnswerFault, faultBeforeAnswer, sendBody } from '../aws/faults.js';
import { stsCallerIdentity } from './attestation.js';
import { createCa, issueServerCertificate } from './ca.js';
import { type ClientIdentity, normalizeConfig, type ZtsContext, type ZtsOptions } from './config.js';
import { validateZtsOptions } from './config-validation.js';
import { deleteInstance, instancePath, refresh, register, type ZtsReply } from './instance.js';
import { accessToken, keys } from './oauth2.js';
import { CertRecordStore, type ZtsCertRecord } from './records.js';
import { roleCertificate } from './rolecert.js';
import { createTokenSigner, jwks } from './tokens.js';
import { ZtsError } from './zts-error.js';

const BASE = '/zts/v1';
const MAX_BODY = 1024 * 1024;

/** A fault the server injects into matching requests instead of (or before) answering them. @public */
export interface ZtsFault {
  /** Which requests: HTTP method and/or path below `/zts/v1` (a prefix string or a RegExp). Default: all. */
  match?: { method?: string; path?: string | RegExp };
  /** Answer this status with a ZTS error body instead of handling the request. */
  status?: number;
  /** The error body's message. Default: a generic text for the status. */
  message?: string;
  /** With `status`: this raw body (e.g. a crafted answer) instead of a ZTS error body. */
  body?: string;
  /** With `status`: the `Retry-After` header, in seconds. */
  retryAfterSeconds?: number;
  /** Wait this long (real time) before handling or answering. */
  delayMs?: number;
  /** Accept the request and never answer it (the connection stays open until the client or the fake closes it). */
  hang?: boolean;
  /** Destroy the connection without an answer. */
  reset?: boolean;
  /** Handle the request, then send only the first half of the answer's body and close the connection (FIN). */
  truncate?: boolean;
  /** Handle the request, then send the headers and half of the body and reset the connection (TCP RST). */
  resetMidBody?: boolean;
  /** Handle the request, then send the first half of the answer as a complete response: a malformed body. */
  malformed?: boolean;
  /** Handle the request, then pad the answer with spaces to this many bytes (e.g. 10 MiB). */
  padTo?: number;
  /** How many matching requests the fault applies to. Default: every one until cleared. */
  times?: number;
}

/** One line of the request log (no bodies, so no CSR, attestation credentials or tokens). @public */
export interface ZtsRequestLogEntry {
  method: string;
  /** Path below the host, without the query string. */
  path: string;
  status: number;
  /** The client certificate's principal, when one was presented and verified against the CA. */
  principal?: string;
  /** The error message answered, if any. */
  error?: string;
  /** Server clock, ms. */
  at: number;
  /** The TLS connection it came on: its `id` in {@link ZtsEmulator.connections}. */
  connection?: number;
}

/** A TLS connection, once its handshake is done. @public */
export interface ZtsConnectionLogEntry {
  /** 1 for the server's first connection, then 2, 3... */
  id: number;
  /** When its handshake completed (server clock, ms). */
  at: number;
  /** The client certificate's subject CN, when one was presented and verified against the CA. */
  clientCommonName?: string;
}

/** A running fake ZTS. @public */
export interface ZtsEmulator {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** `https://127.0.0.1:<port>/zts/v1`: what a ZTS client takes as its base URL. */
  readonly baseUrl: string;
  /** The CA certificate (PEM) that signs the server's and every issued certificate: the client's trust bundle. */
  readonly caPem: string;
  /** The `iss` of the tokens (`<baseUrl>`). */
  readonly issuer: string;
  /** Copies of the instance certificate records (serials in lower-case hex). */
  records(): ZtsCertRecord[];
  /** The request log. */
  requests(): ZtsRequestLogEntry[];
  /** The TLS connections, in the order their handshakes completed (whether or not a request came on them). */
  connections(): ZtsConnectionLogEntry[];
  /** How many connections are open now. */
  openConnections(): number;
  /** Closes every open connection, as a server restart or an idle timeout does; the server goes on listening. */
  closeConnections(): void;
  /** Sets (or, with no argument, clears) the injected fault. */
  setFault(fault?: ZtsFault): void;
  /** Revokes an instance's record as a stale refresh would (its next refresh answers 403 `Certificate revoked`). */
  revoke(instanceId: string, provider?: string): number;
  /** Replaces a role's members (creating the role), as a ZMS change would; takes effect on the next request. */
  setRoleMembers(domain: string, role: string, members: string[]): void;
  /** The token signing keys, as `GET /oauth2/keys?rfc=true` serves them. */
  jwks(): { keys: JWK[] };
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
  /** The same as `close()`, so that `await using` stops it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Invalid credentials',
  403: 'Forbidden',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function matches(fault: ZtsFault, method: string, path: string): boolean {
  const m = fault.match;
  if (!m) return true;
  if (m.method && m.method.toUpperCase() !== method) return false;
  if (m.path === undefined) return true;
  return typeof m.path === 'string' ? path.startsWith(m.path) : m.path.test(path);
}

/**
 * The body, bounded. The bound is the fake's own (Jetty and ZTS's JSON mapper bound requests too, with other limits):
 * an oversized body is 413 before any rule runs.
 */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY) throw new ZtsError(413, 'Request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the fake ZTS on 127.0.0.1 with an ephemeral port and a freshly generated CA. Bad options throw an
 * `INVALID_ARGUMENT` IdentityError naming the field.
 *
 * @example
 * ```ts
 * const aws = await startAws({ ... });
 * const zts = await startZts({
 *   aws: { url: aws.url },
 *   providers: ['athenz.aws-ecs.us-west-2'],
 *   dnsSuffix: 'athenz.cloud',
 *   domains: [{ name: 'sports', awsAccount: '123456789012', services: ['api'], roles: { readers: ['sports.api'] } }],
 * });
 * // client: baseUrl zts.baseUrl, CA bundle zts.caPem
 * await zts.close();
 * ```
 * @public
 */
export async function startZts(opts: ZtsOptions): Promise<ZtsEmulator> {
  validateZtsOptions(opts);
  const now = opts.clock ? () => opts.clock!.now() : () => Date.now();
  const [ca, signer] = await Promise.all([
    createCa(opts.caKeyAlgorithm ?? 'P-256', now(), 'ecs-identity testkit ZTS CA'),
    createTokenSigner(),
  ]);
  const serverCert = await issueServerCertificate(ca);
  const { providers, domains, dnsSuffixes } = normalizeConfig(opts);
  const ctx: ZtsContext = {
    opts,
    providers,
    domains,
    emailSuffixes: opts.emailSuffixes ?? dnsSuffixes,
    partitions: [opts.partition ?? 'aws'].flat(),
    callerIdentity: opts.callerIdentity ?? (opts.aws ? stsCallerIdentity(opts.aws.url, opts.aws.region) : undefined),
    ca,
    signer,
    records: new CertRecordStore(),
    issuer: '',
    now,
  };
  const log: ZtsRequestLogEntry[] = [];
  let fault: (ZtsFault & { left: number }) | undefined;
  const sockets = new Set<Socket>();
  const connectionLog: ZtsConnectionLogEntry[] = [];
  const connectionIds = new WeakMap<TLSSocket, number>();

  /** `CertificateAuthority.authenticate`: a client certificate chained to the CA, valid now, with one CN. */
  async function authenticate(req: IncomingMessage): Promise<ClientIdentity | undefined> {
    const peer = (req.socket as TLSSocket).getPeerX509Certificate?.();
    if (!peer) return undefined;
    const der = new Uint8Array(peer.raw);
    const certificate = new x509.X509Certificate(der);
    // Checked against the injected clock (not Node's wall-clock verification), so tests can move time. The validity
    // period includes both ends (RFC 5280 4.1.2.5; Java's X509Certificate.checkValidity, which ZTS's TLS stack uses):
    // @peculiar/x509's verify({ date }) excludes them, which refused a certificate issued in the same millisecond,
    // notBefore being the issue time cut to the second.
    const at = now();
    const trusted =
      certificate.issuer === ca.certificate.subject &&
      certificate.notBefore.getTime() <= at &&
      at <= certificate.notAfter.getTime() &&
      (await certificate
        .verify({ publicKey: ca.certificate, signatureOnly: true }, webcrypto as Crypto)
        .catch(() => false));
    const cns = certificate.subjectName.getField('CN');
    if (!trusted || cns.length !== 1 || !cns[0]) return undefined;
    return { principal: cns[0].toLowerCase(), certificate, der };
  }

  async function route(
    req: IncomingMessage,
    path: string,
    query: URLSearchParams,
    entry: ZtsRequestLogEntry,
  ): Promise<ZtsReply> {
    const method = req.method ?? 'GET';
    const body = method === 'POST' ? await readBody(req) : '';
    const client = await authenticate(req);
    if (client) entry.principal = client.principal;
    // Jersey's @Consumes: a body of another media type never reaches the handler
    const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const json = (): unknown => {
      if (mediaType !== 'application/json') throw new ZtsError(415, 'Unsupported Media Type');
      try {
        return JSON.parse(body) as unknown;
      } catch {
        throw new ZtsError(400, 'Invalid JSON request body');
      }
    };
    if (path === '/instance' && method === 'POST') return register(ctx, json());
    if (path.startsWith('/instance/')) {
      const segments = path.slice('/instance/'.length).split('/').map(decodeURIComponent);
      if (segments.length === 4) {
        if (method === 'POST') return refresh(ctx, instancePath(segments), json(), client);
        if (method === 'DELETE') return deleteInstance(ctx, instancePath(segments), client);
      }
    }
    if (path === '/rolecert' && method === 'POST') return roleCertificate(ctx, json(), client);
    if (path === '/oauth2/token' && method === 'POST') {
      if (mediaType !== 'application/x-www-form-urlencoded') throw new ZtsError(415, 'Unsupported Media Type');
      return accessToken(ctx, body, client);
    }
    if (path === '/oauth2/keys' && method === 'GET') return keys(ctx, query.get('rfc') === 'true');
    throw new ZtsError(404, 'Not Found');
  }

  function send(res: ServerResponse, reply: ZtsReply): void {
    const headers: Record<string, string> = { ...reply.headers };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers).end();
      return;
    }
    const text = JSON.stringify(reply.body);
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(text));
    res.writeHead(reply.status, headers).end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const entry: ZtsRequestLogEntry = { method, path: url.pathname, status: 0, at: now() };
    const connection = connectionIds.get(req.socket as TLSSocket);
    if (connection !== undefined) entry.connection = connection;
    log.push(entry);
    const sub = url.pathname.startsWith(BASE) ? url.pathname.slice(BASE.length) : undefined;
    const active = fault && sub !== undefined && matches(fault, method, sub) ? fault : undefined;
    const shape: AnswerFault | undefined = active && {
      ...(active.retryAfterSeconds === undefined ? {} : { retryAfter: String(active.retryAfterSeconds) }),
      ...(active.truncate ? { truncate: true } : {}),
      ...(active.resetMidBody ? { resetMidBody: true } : {}),
      ...(active.malformed ? { malformed: true } : {}),
      ...(active.padTo === undefined ? {} : { padTo: active.padTo }),
    };
    if (active) {
      active.left -= 1;
      if (active.left <= 0) fault = undefined;
      const before = await faultBeforeAnswer(req, active);
      if (before !== undefined) {
        entry.error = before === 'hang' ? 'no answer (fault)' : 'connection reset (fault)';
        return;
      }
      if (active.status) {
        const message = active.message ?? STATUS_TEXT[active.status] ?? 'Error';
        entry.status = active.status;
        entry.error = message;
        sendBody(
          res,
          active.status,
          { 'Content-Type': 'application/json' },
          active.body ?? JSON.stringify({ code: active.status, message }),
          shape,
        );
        return;
      }
    }
    let reply: ZtsReply;
    try {
      if (sub === undefined) throw new ZtsError(404, 'Not Found');
      reply = await route(req, sub, url.searchParams, entry);
    } catch (e) {
      const err = e instanceof ZtsError ? e : new ZtsError(500, 'Internal Server Error');
      reply = { status: err.status, body: err.toBody() };
      // a bug in the fake shows in the log (its own error text; request bodies never reach it)
      entry.error =
        e instanceof ZtsError ? err.message : `Internal Server Error: ${(e as Error)?.message ?? String(e)}`;
    }
    entry.status = reply.status;
    if (shape !== undefined && reply.body !== undefined) {
      const what = active?.truncate
        ? 'truncated answer'
        : active?.resetMidBody
          ? 'reset mid-answer'
          : active?.malformed
            ? 'malformed answer'
            : active?.padTo !== undefined
              ? 'padded answer'
              : undefined;
      if (what !== undefined) entry.error = `${what} (fault)`;
      sendBody(
        res,
        reply.status,
        { ...reply.headers, 'Content-Type': 'application/json' },
        JSON.stringify(reply.body),
        shape,
      );
      return;
    }
    send(res, reply);
  }

  const server = createServer(
    {
      key: serverCert.keyPem,
      cert: serverCert.certPem,
      requestCert: true,
      rejectUnauthorized: false,
      ca: [ca.certificatePem],
    },
    (req, res) => {
      handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    },
  );
  // a client that never finishes its request must not hold the server (the real one sits behind Jetty's timeouts)
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const entry: ZtsConnectionLogEntry = { id: connectionLog.length + 1, at: now() };
    const peer = socket.authorized ? socket.getPeerCertificate() : undefined;
    const cn = peer?.subject?.CN;
    if (typeof cn === 'string') entry.clientCommonName = cn;
    connectionIds.set(socket, entry.id);
    connectionLog.push(entry);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  ctx.issuer = `${url}${BASE}`;

  return withAsyncDispose<Omit<ZtsEmulator, typeof Symbol.asyncDispose>>({
    url,
    baseUrl: `${url}${BASE}`,
    caPem: ca.certificatePem,
    issuer: ctx.issuer,
    records: () => ctx.records.list(),
    requests: () => log.map((e) => ({ ...e })),
    connections: () => connectionLog.map((e) => ({ ...e })),
    openConnections: () => sockets.size,
    closeConnections: () => {
      for (const socket of sockets) socket.destroy();
    },
    setFault: (f?: ZtsFault) => {
      fault = f ? { ...f, left: f.times ?? Number.POSITIVE_INFINITY } : undefined;
    },
    revoke: (instanceId, provider) => ctx.records.revoke(instanceId, provider),
    setRoleMembers: (domain, role, members) => {
      const d = ctx.domains.get(domain.toLowerCase());
      if (!d) throw new IdentityError('INVALID_ARGUMENT', `setRoleMembers: unknown domain ${JSON.stringify(domain)}`);
      d.roles.set(
        role.toLowerCase(),
        members.map((m) => m.toLowerCase()),
      );
    },
    jwks: () => jwks(signer, true),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  });
}
