/**
 * The transport's request in Node: `node:http` / `node:https` (reached through `process.getBuiltinModule`, so this
 * module stays browser-safe: no `node:*` import), because Node's global `fetch` takes no `https.Agent` and the agent
 * is how a client certificate (mTLS) and a custom CA are given. It answers with the part of a fetch `Response` the
 * transport reads (status, headers, a streamed body), so the timeout, the size cap, Retry-After and the error
 * mapping stay the transport's, one code for every fetch.
 * @packageDocumentation
 */
import type * as NodeHttp from 'node:http';
import type { Transform } from 'node:stream';
import type * as NodeZlib from 'node:zlib';

interface Builtins {
  http: typeof NodeHttp;
  https: { request: typeof NodeHttp.request; globalAgent: NodeHttp.Agent };
  zlib: typeof NodeZlib;
}

let builtins: Builtins | null | undefined;

/**
 * Node's http, https and zlib, or null outside Node (or before 20.16, which has no `process.getBuiltinModule`). Each
 * is loaded when first used: a process that only talks plain http (the ECS agent, a local Consul agent) never loads
 * `node:https` and `node:tls` (about 2 ms of a new process), nor `node:zlib` unless an answer comes compressed.
 */
function nodeBuiltins(): Builtins | null {
  if (builtins === undefined) {
    const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const get = typeof p?.getBuiltinModule === 'function' ? p.getBuiltinModule.bind(p) : undefined;
    builtins =
      get === undefined
        ? null
        : {
            get http() {
              return get('node:http') as Builtins['http'];
            },
            get https() {
              return get('node:https') as Builtins['https'];
            },
            get zlib() {
              return get('node:zlib') as Builtins['zlib'];
            },
          };
  }
  return builtins;
}

/** Node's global http or https agent, or undefined outside Node (or before 20.16). @internal */
export function nodeGlobalAgent(https: boolean): NodeHttp.Agent | undefined {
  const b = nodeBuiltins();
  return b === null ? undefined : (https ? b.https : b.http).globalAgent;
}

/** True when {@link nodeRequest} can run here. @internal */
export function canRequestWithNode(): boolean {
  return nodeBuiltins() !== null;
}

/** @internal */
export interface NodeRequestInit {
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
  signal: AbortSignal;
  /** The https.Agent for `https:` URLs (mTLS, custom CA); plain http and a missing agent use Node's global agents. */
  agent?: unknown;
  /** Called when the response closes before it is complete (the server closed before Content-Length / last chunk). */
  onTruncated: () => void;
}

/**
 * A response's headers as Node's parser read them, looked up without a fetch `Headers`: in Node the first `Headers`
 * object loads Node's whole fetch implementation (undici; about 15-20 ms in a new process), which a request sent
 * through node:http does not otherwise need. A `Headers` is made from them only when a caller reads
 * `HttpResponse.headers`. Names are matched without case; repeated fields are joined with `, `, as `Headers.get` does.
 * @internal
 */
export class RawHeaders {
  private readonly byName = new Map<string, string>();

  /** `raw`: name, value, name, value... (an IncomingMessage's `rawHeaders`). */
  constructor(private readonly raw: readonly string[]) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      const value = raw[i + 1] as string;
      const before = this.byName.get(name);
      this.byName.set(name, before === undefined ? value : `${before}, ${value}`);
    }
  }

  get(name: string): string | null {
    return this.byName.get(name.toLowerCase()) ?? null;
  }

  has(name: string): boolean {
    return this.byName.has(name.toLowerCase());
  }

  /** Each field once (lower-case name, joined value), in the order first received. */
  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.byName) callback(value, name);
  }

  /** The same fields as a fetch `Headers`. */
  toHeaders(): Headers {
    const out = new Headers();
    for (let i = 0; i + 1 < this.raw.length; i += 2) out.append(this.raw[i] as string, this.raw[i + 1] as string);
    return out;
  }
}

/** What the transport reads of a response: a fetch `Response`'s shape, with a Node stream as the body. @internal */
export interface NodeResponse {
  readonly status: number;
  readonly type: 'basic';
  readonly headers: RawHeaders;
  readonly body: AsyncIterable<Uint8Array> & { destroy(error?: Error): void };
}

/**
 * One request, redirects not followed (a 3xx is answered as it is). A compressed body (gzip, deflate, br) is
 * decoded, as fetch does, so the size cap counts the decoded bytes. The promise rejects with Node's own error (the
 * transport maps it) when the request fails or `signal` aborts before the response head.
 * @internal
 */
export function nodeRequest(url: URL, init: NodeRequestInit): Promise<NodeResponse> {
  const node = nodeBuiltins();
  if (node === null) return Promise.reject(new Error('node:http is not available in this runtime'));
  const https = url.protocol === 'https:';
  const headers: Record<string, string> = { ...init.headers };
  const has = (name: string) => Object.keys(headers).some((h) => h.toLowerCase() === name);
  // What fetch (and node-fetch before it) sends unless told otherwise.
  if (!has('accept')) headers.accept = '*/*';
  if (!has('accept-encoding')) headers['accept-encoding'] = 'gzip, deflate, br';
  const body = typeof init.body === 'string' ? new TextEncoder().encode(init.body) : init.body;
  if (body !== undefined && !has('content-length')) headers['content-length'] = String(body.byteLength);
  return new Promise<NodeResponse>((resolve, reject) => {
    const options: NodeHttp.RequestOptions = { method: init.method, headers, signal: init.signal };
    if (https && init.agent !== undefined) options.agent = init.agent as NodeHttp.Agent;
    const req = (https ? node.https : node.http).request(url, options, (res) => {
      res.once('close', () => {
        if (!res.complete) init.onTruncated();
      });
      const headers = new RawHeaders(res.rawHeaders);
      resolve({ status: res.statusCode ?? 0, type: 'basic', headers, body: decoded(node, res) });
    });
    req.once('error', reject);
    req.end(body);
  });
}

// Like fetch: a truncated stream still gives what was decoded (SYNC_FLUSH), the truncation is reported apart.
const syncFlush = (z: typeof NodeZlib) => ({ flush: z.constants.Z_SYNC_FLUSH, finishFlush: z.constants.Z_SYNC_FLUSH });
const brotliFlush = (z: typeof NodeZlib) => ({
  flush: z.constants.BROTLI_OPERATION_FLUSH,
  finishFlush: z.constants.BROTLI_OPERATION_FLUSH,
});

/** The decoder of each Content-Encoding the transport decodes, as fetch does. */
const DECODERS: Record<string, (z: typeof NodeZlib) => Transform> = {
  gzip: (z) => z.createGunzip(syncFlush(z)),
  'x-gzip': (z) => z.createGunzip(syncFlush(z)),
  deflate: (z) => z.createInflate(syncFlush(z)),
  br: (z) => z.createBrotliDecompress(brotliFlush(z)),
};

/** The response body, decompressed when its Content-Encoding says so (one encoding; anything else is left as is). */
function decoded(node: Builtins, res: NodeHttp.IncomingMessage): NodeResponse['body'] {
  const encoding = String(res.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  const make = Object.hasOwn(DECODERS, encoding) ? DECODERS[encoding] : undefined;
  if (make === undefined) return res;
  const decoder = make(node.zlib); // node:zlib is loaded here, for the first compressed answer
  res.once('error', (e) => decoder.destroy(e));
  res.pipe(decoder);
  const destroy = decoder.destroy.bind(decoder);
  // Stopping the read stops both streams.
  return Object.assign(decoder, {
    destroy(error?: Error) {
      res.destroy(error);
      return destroy(error);
    },
  });
}
