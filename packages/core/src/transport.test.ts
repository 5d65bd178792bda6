import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { rejection } from '../test/rejection.js';
import { IdentityError } from './errors.js';
import { registerSecret } from './secrets.js';
import {
  createHttpClient,
  DEFAULT_MAX_RESPONSE_BYTES,
  formEncode,
  HttpStatusError,
  isAllowedPlainHttpHost,
  MAX_ERROR_TEXT_BYTES,
  requestJson,
  responseHeaders,
  safeUrl,
} from './transport.js';

// ---- real loopback servers (port 0), every socket closed on stop ----

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: Array<{ close(): Promise<void> }> = [];

async function serve(handler: Handler): Promise<{ base: string; server: http.Server }> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
  const { port } = server.address() as net.AddressInfo;
  return { base: `http://127.0.0.1:${port}`, server };
}

async function serveRaw(onSocket: (socket: net.Socket) => void): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    onSocket(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  servers.push({
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** Timers that only fire when the test says so: the timeout path is tested without waiting on the wall clock. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let next = 0;
  return {
    clock: {
      now: () => Date.UTC(2026, 0, 1),
      setTimeout(fn: () => void, _ms: number) {
        pending.set(++next, fn);
        return next;
      },
      clearTimeout(handle: unknown) {
        pending.delete(handle as number);
      },
    },
    get pending() {
      return pending.size;
    },
    fireAll() {
      for (const [id, fn] of [...pending]) {
        pending.delete(id);
        fn();
      }
    },
  };
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const MiB = 1024 * 1024;

function drainOrClose(stream: NodeJS.EventEmitter): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
const CHUNK = 64 * 1024;

/** Streams `total` bytes in 64 KiB chunks, honouring backpressure and pausing a little between chunks. */
function streamingHandler(
  total: number,
  headers: http.OutgoingHttpHeaders,
  stats: { written: number; closed: Promise<number> },
) {
  let markClosed!: (n: number) => void;
  stats.closed = new Promise<number>((r) => {
    markClosed = r;
  });
  return (_req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, headers);
    let open = true;
    res.on('close', () => {
      open = false;
      markClosed(stats.written);
    });
    const chunk = Buffer.alloc(CHUNK, 0x61);
    void (async () => {
      while (open && stats.written < total) {
        const ok = res.write(chunk);
        stats.written += CHUNK;
        if (!ok) await drainOrClose(res);
        await new Promise((r) => setTimeout(r, 1));
      }
      if (open) res.end();
    })();
  };
}

describe('timeouts and aborts', () => {
  it('times out (TIMEOUT, retryable) when the server never answers', async () => {
    const seen = deferred();
    const { base } = await serve(() => seen.resolve());
    const timers = manualTimers();
    const client = createHttpClient({ clock: timers.clock });
    const p = rejection(client.request({ url: `${base}/slow?token=abc` }));
    await seen.promise;
    expect(timers.pending).toBe(1);
    timers.fireAll();
    const e = await p;
    expect(e.code).toBe('TIMEOUT');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(`GET ${base}/slow`);
    expect(e.message).not.toContain('token=abc');
  });

  it('keeps the timeout running while the body is read', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part of the body, then nothing');
    });
    const timers = manualTimers();
    const headersIn = deferred();
    const client = createHttpClient({
      clock: timers.clock,
      fetch: (async (...args: Parameters<typeof fetch>) => {
        const res = await globalThis.fetch(...args);
        headersIn.resolve();
        return res;
      }) as typeof fetch,
    });
    const p = rejection(client.request({ url: `${base}/stall` }));
    await headersIn.promise;
    // The status line is in: a timer still pending proves the body read is covered.
    expect(timers.pending).toBe(1);
    timers.fireAll();
    const e = await p;
    expect(e.code).toBe('TIMEOUT');
  });

  it('uses real timers by default', async () => {
    const { base } = await serve(() => {});
    const e = await rejection(createHttpClient().request({ url: `${base}/never`, timeoutMs: 50 }));
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('50 ms');
  });

  it('clears its timer after a response', async () => {
    const { base } = await serve((_req, res) => res.end('ok'));
    const timers = manualTimers();
    const res = await createHttpClient({ clock: timers.clock }).request({ url: `${base}/` });
    expect(res.text()).toBe('ok');
    expect(timers.pending).toBe(0);
  });

  it("maps the caller's abort to ABORTED (not retryable), before and during the request", async () => {
    const seen = deferred();
    const { base } = await serve(() => seen.resolve());
    const client = createHttpClient();
    const ac = new AbortController();
    const p = rejection(client.request({ url: `${base}/wait`, signal: ac.signal }));
    await seen.promise;
    ac.abort();
    const e = await p;
    expect(e.code).toBe('ABORTED');
    expect(e.retryable).toBe(false);

    let called = false;
    const spy = createHttpClient({
      fetch: (async () => {
        called = true;
        throw new Error('unreachable');
      }) as typeof fetch,
    });
    const e2 = await rejection(spy.request({ url: `${base}/`, signal: AbortSignal.abort() }));
    expect(e2.code).toBe('ABORTED');
    expect(called).toBe(false);
  });
});

describe('truncated bodies', () => {
  // The server sends part of the body and closes its side (FIN, no reset): the client must notice at once, not
  // when the per-request timeout fires. Timers are manual and never fired, so a pass cannot come from the timeout.
  async function cutShort(headers: http.OutgoingHttpHeaders) {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, headers);
      res.write('{"AccessKeyId":"ASIA', () => res.socket?.end());
    });
    const timers = manualTimers();
    return rejection(createHttpClient({ clock: timers.clock }).request({ url: `${base}/creds` }));
  }

  it('fails with a retryable NETWORK error when the connection closes before Content-Length', async () => {
    const e = await cutShort({ 'content-length': '500', 'content-type': 'application/json' });
    expect(e.code).toBe('NETWORK');
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/closed before the whole response body arrived/);
  });

  it('fails the same way when a chunked body ends without its last chunk', async () => {
    const e = await cutShort({ 'content-type': 'application/json' });
    expect(e.code).toBe('NETWORK');
    expect(e.retryable).toBe(true);
  });

  it('does the same on an error status body cut short', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(503, { 'content-length': '400' });
      res.write('Service Unav', () => res.socket?.end());
    });
    const timers = manualTimers();
    const e = await rejection(createHttpClient({ clock: timers.clock }).request({ url: `${base}/x` }));
    expect(e.code).toBe('NETWORK');
  });

  it('still reads a whole body that ends exactly at Content-Length, on a kept-alive connection too', async () => {
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': '2' });
      res.end('ok');
    });
    const client = createHttpClient();
    for (let i = 0; i < 3; i++) expect((await client.request({ url: `${base}/ok` })).text()).toBe('ok');
  });
});

describe('response size cap', () => {
  it('stops a 10 MiB chunked stream soon after 1 MiB and closes the connection', async () => {
    const stats = { written: 0, closed: Promise.resolve(0) };
    const { base } = await serve(streamingHandler(10 * MiB, { 'content-type': 'application/octet-stream' }, stats));
    const e = await rejection(createHttpClient().request({ url: `${base}/big` }));
    expect(e.code).toBe('RESPONSE_TOO_LARGE');
    expect(e.retryable).toBe(false);
    expect(e.message).toContain(`GET ${base}/big`);
    const writtenAtClose = await stats.closed;
    expect(writtenAtClose).toBeLessThan(5 * MiB);
  });

  it('rejects a declared Content-Length over the cap before reading the body', async () => {
    const stats = { written: 0, closed: Promise.resolve(0) };
    const { base } = await serve(streamingHandler(10 * MiB, { 'content-length': String(10 * MiB) }, stats));
    const e = await rejection(createHttpClient().request({ url: `${base}/declared` }));
    expect(e.code).toBe('RESPONSE_TOO_LARGE');
    expect(await stats.closed).toBeLessThan(5 * MiB);
  });

  it('caps a body with no Content-Length that runs until the connection closes', async () => {
    let written = 0;
    const closed = deferred<number>();
    const base = await serveRaw((socket) => {
      socket.once('data', async () => {
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n');
        socket.on('close', () => closed.resolve(written));
        const chunk = Buffer.alloc(CHUNK, 0x62);
        while (!socket.destroyed && written < 10 * MiB) {
          if (!socket.write(chunk)) await drainOrClose(socket);
          written += CHUNK;
          await new Promise((r) => setTimeout(r, 1));
        }
        socket.end();
      });
    });
    const e = await rejection(createHttpClient().request({ url: `${base}/eof` }));
    expect(e.code).toBe('RESPONSE_TOO_LARGE');
    expect(await closed.promise).toBeLessThan(5 * MiB);
  });

  it('decodes gzip, x-gzip, deflate and br answers as fetch does, and leaves another encoding as it is', async () => {
    const text = 'the same body, '.repeat(200);
    const encoded: Record<string, Buffer> = {
      gzip: zlib.gzipSync(text),
      'x-gzip': zlib.gzipSync(text),
      deflate: zlib.deflateSync(text),
      br: zlib.brotliCompressSync(text),
      identity: Buffer.from(text),
      compress: Buffer.from('not decoded'),
    };
    const { base } = await serve((req, res) => {
      const encoding = (req.url ?? '/').slice(1);
      res.writeHead(200, { 'content-encoding': encoding });
      res.end(encoded[encoding]);
    });
    const client = createHttpClient();
    for (const encoding of ['gzip', 'x-gzip', 'deflate', 'br', 'identity']) {
      expect((await client.request({ url: `${base}/${encoding}` })).text(), encoding).toBe(text);
    }
    expect((await client.request({ url: `${base}/compress` })).text()).toBe('not decoded');
  });

  it('caps the decoded body when Content-Length only counts the gzip bytes (a lying length)', async () => {
    const gz = await promisify(zlib.gzip)(Buffer.alloc(10 * MiB));
    expect(gz.byteLength).toBeLessThan(64 * 1024);
    const { base } = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gz.byteLength) });
      res.end(gz);
    });
    const e = await rejection(createHttpClient().request({ url: `${base}/bomb` }));
    expect(e.code).toBe('RESPONSE_TOO_LARGE');
  });

  it('enforces the cap through a WHATWG stream too (injected native fetch)', async () => {
    const stats = { written: 0, closed: Promise.resolve(0) };
    const { base } = await serve(streamingHandler(10 * MiB, {}, stats));
    const client = createHttpClient({ fetch: globalThis.fetch });
    const e = await rejection(client.request({ url: `${base}/web` }));
    expect(e.code).toBe('RESPONSE_TOO_LARGE');
    expect(await stats.closed).toBeLessThan(5 * MiB);
  });

  it('returns a body of exactly the cap, and applies a per-request cap', async () => {
    const { base } = await serve((req, res) => {
      res.end(Buffer.alloc(req.url === '/exact' ? DEFAULT_MAX_RESPONSE_BYTES : 2048, 0x63));
    });
    const client = createHttpClient();
    const res = await client.request({ url: `${base}/exact` });
    expect(res.body.byteLength).toBe(DEFAULT_MAX_RESPONSE_BYTES);
    const e = await rejection(client.request({ url: `${base}/small`, maxResponseBytes: 1024 }));
    expect(e.code).toBe('RESPONSE_TOO_LARGE');
    expect(e.message).toContain('1024 bytes');
  });
});

describe('plain http refusal', () => {
  it('refuses http://example.com with INSECURE_URL and no network call', async () => {
    const calls: string[] = [];
    const spyFetch = (async (input: RequestInfo | URL) => {
      calls.push(String(input));
      return new Response('ok');
    }) as typeof fetch;
    const e = await rejection(
      createHttpClient({ fetch: spyFetch }).request({ url: 'http://user:hunter2pass@example.com/x?token=q1' }),
    );
    expect(e.code).toBe('INSECURE_URL');
    expect(e.message).toContain('GET http://example.com/x');
    expect(e.message).not.toMatch(/hunter2pass|token=q1/);
    expect(calls).toEqual([]);

    const optIn = createHttpClient({ fetch: spyFetch, allowInsecureHttp: true });
    expect((await optIn.request({ url: 'http://example.com/x' })).text()).toBe('ok');
    expect(calls).toEqual(['http://example.com/x']);
    // https needs no opt-in
    await createHttpClient({ fetch: spyFetch }).request({ url: 'https://example.com/y' });
    expect(calls).toHaveLength(2);
  });

  it('allows loopback and the ECS link-local addresses only', () => {
    for (const host of [
      '127.0.0.1',
      '127.255.255.254',
      '127.1',
      'localhost',
      'LOCALHOST',
      '::1',
      '[::1]',
      '[0:0:0:0:0:0:0:1]',
      '169.254.170.2',
      '169.254.170.23',
      '[fd00:ec2::23]',
      'fd00:ec2::23',
      'FD00:0EC2:0:0:0:0:0:23',
      '[::ffff:127.0.0.1]',
    ]) {
      expect([host, isAllowedPlainHttpHost(host)]).toEqual([host, true]);
    }
    for (const host of [
      'example.com',
      '169.254.169.254',
      '169.254.170.3',
      '169.254.170.230',
      '10.0.0.1',
      '128.0.0.1',
      '0.0.0.0',
      'localhost.example.com',
      '127.0.0.1.nip.io',
      'fd00:ec2::24',
      '[fd00:ec2::2]',
      '[::ffff:10.0.0.1]',
      '',
      'a b',
    ]) {
      expect([host, isAllowedPlainHttpHost(host)]).toEqual([host, false]);
    }
  });

  it('rejects other schemes and bad arguments with INVALID_ARGUMENT before any I/O', async () => {
    let called = false;
    const client = createHttpClient({
      fetch: (async () => {
        called = true;
        return new Response('');
      }) as typeof fetch,
    });
    const cases: Array<[Parameters<typeof client.request>[0], RegExp]> = [
      [{ url: 'ftp://127.0.0.1/x' }, /http: or https:/],
      [{ url: 'file:///etc/passwd' }, /http: or https:/],
      [{ url: '/relative' }, /absolute URL/],
      [{ url: 'https://a.example/', timeoutMs: 0 }, /timeoutMs/],
      [{ url: 'https://a.example/', maxResponseBytes: 1.5 }, /maxResponseBytes/],
      [{ url: 'https://a.example/', body: 'x' }, /cannot have a body/],
      [{ url: 'https://a.example/', method: 'GE T' }, /method/],
      [{ url: 'https://a.example/', headers: { 'x-token': 'abc\r\nInjected: secretvalue1' } }, /x-token/],
    ];
    for (const [req, pattern] of cases) {
      const e = await rejection(client.request(req));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toMatch(pattern);
      expect(e.message).not.toContain('secretvalue1');
    }
    expect(called).toBe(false);
    expect(() => createHttpClient({ timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});

describe('response headers', () => {
  /** Counts the fetch `Headers` objects made while it is installed (in Node the first one loads undici). */
  function countHeaders() {
    const Original = globalThis.Headers;
    const made = { count: 0, restore: () => (globalThis.Headers = Original) };
    globalThis.Headers = class extends Original {
      constructor(init?: HeadersInit) {
        super(init);
        made.count++;
      }
    };
    return made;
  }

  it('through node:http, makes no fetch Headers until HttpResponse.headers is read, then one, the same each time', async () => {
    const { base } = await serve((_req, res) => {
      res.setHeader('X-Twice', ['a', 'b']);
      res.setHeader('Content-Type', 'text/plain');
      res.end('ok');
    });
    const made = countHeaders();
    try {
      const res = await createHttpClient().request({ url: base });
      expect(made.count).toBe(0);
      const head = responseHeaders(res);
      expect([head.get('x-twice'), head.get('X-TWICE'), head.has('content-type'), head.get('absent')]).toEqual([
        'a, b',
        'a, b',
        true,
        null,
      ]);
      const seen: string[] = [];
      head.forEach((value, name) => {
        seen.push(`${name}=${value}`);
      });
      expect(seen).toContain('x-twice=a, b');
      expect(made.count).toBe(0);
      // the public Headers: a real one, with the same fields as Node received them
      expect(res.headers).toBeInstanceOf(Headers);
      expect(res.headers.get('x-twice')).toBe('a, b');
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(res.headers).toBe(res.headers);
      expect(made.count).toBe(1);
      // still a plain field to the caller: it can be replaced
      const mine = new Headers({ 'x-mine': '1' });
      res.headers = mine;
      expect(res.headers).toBe(mine);
    } finally {
      made.restore();
    }
  });

  it("reads an error's Retry-After and a declared Content-Length without one", async () => {
    const { base } = await serve((req, res) => {
      if (req.url === '/busy') res.writeHead(429, { 'retry-after': '7' }).end('busy');
      else res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) }).end();
    });
    const made = countHeaders();
    try {
      const client = createHttpClient();
      const busy = (await rejection(client.request({ url: `${base}/busy` }))) as HttpStatusError;
      expect([busy.status, busy.retryAfterMs]).toEqual([429, 7000]);
      const big = await rejection(client.request({ url: `${base}/big` }));
      expect((big as IdentityError).code).toBe('RESPONSE_TOO_LARGE');
      expect(made.count).toBe(0);
    } finally {
      made.restore();
    }
  });

  it("an injected fetch's Headers are the response's as they are", async () => {
    const { base } = await serve((_req, res) => {
      res.setHeader('X-One', '1');
      res.end('ok');
    });
    const res = await createHttpClient({ fetch: globalThis.fetch }).request({ url: base });
    expect(res.headers.get('x-one')).toBe('1');
    expect(responseHeaders(res)).toBe(res.headers);
  });
});

describe('status mapping', () => {
  async function statusServer() {
    return serve((req, res) => {
      const status = Number(/\/status\/(\d+)/.exec(req.url ?? '')?.[1] ?? 200);
      const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain' };
      const retryAfter = req.headers['x-retry-after'];
      if (typeof retryAfter === 'string') headers['retry-after'] = retryAfter;
      res.writeHead(status, headers);
      res.end(`status ${status} body`);
    });
  }

  it('marks 429 and 5xx retryable, other 4xx not, and keeps the body', async () => {
    const { base } = await statusServer();
    const client = createHttpClient();
    for (const [status, retryable] of [
      [400, false],
      [403, false],
      [404, false],
      [429, true],
      [500, true],
      [503, true],
    ] as const) {
      const e = await rejection(client.request({ url: `${base}/status/${status}?q=1`, method: 'POST', body: '{}' }));
      expect(e).toBeInstanceOf(HttpStatusError);
      const h = e as HttpStatusError;
      expect([status, h.code, h.status, h.retryable]).toEqual([status, 'HTTP_STATUS', status, retryable]);
      expect(h.responseText).toBe(`status ${status} body`);
      expect(h.method).toBe('POST');
      expect(h.url).toBe(`${base}/status/${status}`);
      expect(h.message).toBe(`POST ${base}/status/${status} answered ${status}: status ${status} body`);
    }
  });

  it('honours Retry-After in seconds and as an HTTP date', async () => {
    const { base } = await statusServer();
    const timers = manualTimers();
    const client = createHttpClient({ clock: timers.clock });
    const e1 = await rejection(client.request({ url: `${base}/status/429`, headers: { 'x-retry-after': '7' } }));
    expect(e1.retryAfterMs).toBe(7000);
    const date = new Date(timers.clock.now() + 30_000).toUTCString();
    const e2 = await rejection(client.request({ url: `${base}/status/503`, headers: { 'x-retry-after': date } }));
    expect(e2.retryAfterMs).toBe(30_000);
    const e3 = await rejection(client.request({ url: `${base}/status/503` }));
    expect(e3.retryAfterMs).toBeUndefined();
  });

  it('returns statuses the caller accepts, and caps a long error body', async () => {
    const long = 'x'.repeat(100 * 1024);
    const { base } = await serve((req, res) => {
      res.writeHead(req.url === '/long' ? 500 : 404);
      res.end(req.url === '/long' ? long : 'missing');
    });
    const client = createHttpClient();
    const res = await client.request({ url: `${base}/gone`, acceptStatus: (s) => s === 404 });
    expect([res.status, res.text()]).toEqual([404, 'missing']);
    const e = (await rejection(client.request({ url: `${base}/long` }))) as HttpStatusError;
    expect(e.responseText).toHaveLength(MAX_ERROR_TEXT_BYTES);
    expect(e.message.length).toBeLessThan(300);
  });

  it('does not follow redirects', async () => {
    const hits: string[] = [];
    const { base } = await serve((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/from') res.writeHead(302, { location: '/to' }).end();
      else res.end('landed');
    });
    const e = (await rejection(createHttpClient().request({ url: `${base}/from` }))) as HttpStatusError;
    expect([e.code, e.status, e.retryable]).toEqual(['HTTP_STATUS', 302, false]);
    expect(hits).toEqual(['/from']);
  });
});

describe('network errors and secrets in messages', () => {
  async function closedPort(): Promise<string> {
    const s = net.createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const { port } = s.address() as net.AddressInfo;
    await new Promise((r) => s.close(r));
    return `http://127.0.0.1:${port}`;
  }

  it('maps a refused connection to NETWORK (retryable) naming method and URL, without query or headers', async () => {
    const base = await closedPort();
    const e = await rejection(
      createHttpClient().request({
        method: 'PUT',
        url: `${base}/v1/acl/login?token=QuerySecret123`,
        headers: { 'X-Consul-Token': 'HeaderSecret456' },
        body: 'b',
      }),
    );
    expect(e.code).toBe('NETWORK');
    expect(e.retryable).toBe(true);
    expect(e.message).toContain(`PUT ${base}/v1/acl/login`);
    expect(e.message).toContain('ECONNREFUSED');
    const printed = `${e.message}\n${e.stack}\n${String((e.cause as Error).message)}\n${(e.cause as Error).stack}`;
    expect(printed).not.toContain('QuerySecret123');
    expect(printed).not.toContain('HeaderSecret456');
  });

  it('scrubs registered secrets that a server echoes into an error body', async () => {
    const { base } = await serve((req, res) => {
      res.writeHead(500);
      res.end(`bad request ${req.url} with token ${req.headers['x-consul-token']}`);
    });
    registerSecret('EchoedHeaderSecret789');
    registerSecret('EchoedQuerySecret/+=');
    const e = (await rejection(
      createHttpClient().request({
        url: `${base}/x?token=${encodeURIComponent('EchoedQuerySecret/+=')}`,
        headers: { 'X-Consul-Token': 'EchoedHeaderSecret789' },
      }),
    )) as HttpStatusError;
    expect(e.message).toContain('[REDACTED]');
    for (const text of [e.message, e.responseText, String(e.stack)]) {
      expect(text).not.toContain('EchoedHeaderSecret789');
      expect(text).not.toContain('EchoedQuerySecret');
    }
  });
});

describe('responses and helpers', () => {
  it('hands back standard Headers, JSON and the User-Agent it was given', async () => {
    const { base } = await serve((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ua: req.headers['user-agent'], accept: req.headers.accept }));
    });
    const client = createHttpClient({ userAgent: 'ecs-identity-test/1' });
    const res = await client.request({ url: `${base}/j` });
    expect(res.headers).toBeInstanceOf(Headers);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.json()).toEqual({ ua: 'ecs-identity-test/1', accept: '*/*' });
    expect(await requestJson(client, { url: `${base}/j` })).toEqual({
      ua: 'ecs-identity-test/1',
      accept: 'application/json',
    });
  });

  it('sends User-Agent ecs-identity/<version of package.json> by default; a request may set its own', async () => {
    const { base } = await serve((req, res) => res.end(String(req.headers['user-agent'])));
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const client = createHttpClient();
    expect((await client.request({ url: `${base}/` })).text()).toBe(`ecs-identity/${version}`);
    expect((await client.request({ url: `${base}/`, headers: { 'User-Agent': 'mine/2' } })).text()).toBe('mine/2');
  });

  it('sends string and Uint8Array bodies with the given method and headers', async () => {
    const { base } = await serve(async (req, res) => {
      const parts: Buffer[] = [];
      for await (const c of req) parts.push(c as Buffer);
      res.end(
        JSON.stringify({
          method: req.method,
          type: req.headers['content-type'],
          body: Buffer.concat(parts).toString('hex'),
        }),
      );
    });
    const client = createHttpClient();
    const form = await client.request({
      method: 'post',
      url: `${base}/f`,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: formEncode({ Action: 'GetCallerIdentity' }),
    });
    expect(form.json()).toEqual({
      method: 'POST',
      type: 'application/x-www-form-urlencoded; charset=utf-8',
      body: Buffer.from('Action=GetCallerIdentity').toString('hex'),
    });
    const bytes = await client.request({ method: 'PUT', url: `${base}/b`, body: new Uint8Array([0, 1, 254, 255]) });
    expect((bytes.json() as { body: string }).body).toBe('0001feff');
  });

  it('reports a non-JSON body as INVALID_RESPONSE without quoting it', async () => {
    const { base } = await serve((_req, res) => res.end('{"SecretAccessKey":"half-a-secret-value'));
    const res = await createHttpClient().request({ url: `${base}/cut?x=1` });
    let err: unknown;
    try {
      res.json();
    } catch (e) {
      err = e;
    }
    expect(IdentityError.is(err, 'INVALID_RESPONSE')).toBe(true);
    expect((err as Error).message).toBe(`GET ${base}/cut: response body is not valid JSON`);
    expect((err as Error).cause).toBeUndefined();
  });

  it('formEncode keeps order, repeats and encodes reserved characters', () => {
    expect(formEncode({ Action: 'GetCallerIdentity', Version: '2011-06-15' })).toBe(
      'Action=GetCallerIdentity&Version=2011-06-15',
    );
    expect(
      formEncode([
        ['scope', 'a b:role.x'],
        ['scope', '&=+/é'],
      ]),
    ).toBe('scope=a+b%3Arole.x&scope=%26%3D%2B%2F%C3%A9');
    expect(new URLSearchParams(formEncode({ k: '&=+/é ' })).get('k')).toBe('&=+/é ');
    expect(() => formEncode({ a: 1 as unknown as string })).toThrow(IdentityError);
  });

  it('safeUrl drops userinfo, query and fragment', () => {
    expect(safeUrl('https://u:p4ss@h.example:8443/a/b?X-Amz-Security-Token=t#f')).toBe('https://h.example:8443/a/b');
    expect(safeUrl(new URL('http://[fd00:ec2::23]/v2/credentials?x=1'))).toBe('http://[fd00:ec2::23]/v2/credentials');
    expect(safeUrl('not a url ?secret=1')).toBe('[invalid URL]');
  });
});
