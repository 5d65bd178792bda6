/**
 * A small Consul ACL HTTP client: login, logout and the self-read used to wait for replication.
 * @packageDocumentation
 */
import { createHttpClient, type HttpClient, type HttpResponse, IdentityError } from '@ecs-identity/core';
import { consulAddress, type Env } from './consul-address.js';
import { toConsulError } from './consul-errors.js';
import { type ConsulToken, parseConsulToken } from './consul-token.js';

/** @public */
export interface ConsulAclClientOptions {
  /** `http(s)://host:port` or `host:port`. Default: `CONSUL_HTTP_ADDR`, else `127.0.0.1:8500`. */
  address?: string | undefined;
  /** Where `CONSUL_HTTP_ADDR` / `CONSUL_HTTP_SSL` are read. Default `process.env` (none in browsers). */
  env?: Env | undefined;
  /** A ready HTTP client; when set, `fetch`, `agent`, `allowInsecureHttp` and `timeoutMs` are not used to build one. */
  http?: HttpClient | undefined;
  fetch?: typeof globalThis.fetch | undefined;
  /** Node: an `https.Agent` (custom CA, client certificate). The `./node` helpers build it from `CONSUL_CACERT`. */
  agent?: unknown | undefined;
  /**
   * Allow plain http to a host that is not loopback. Off by default: a bearer token can be replayed for 15 minutes
   * and a SecretID forever, so only send them in clear to the local agent.
   */
  allowInsecureHttp?: boolean | undefined;
  /** Per-request timeout in ms. Default 10 000 (a login waits for the server's calls to AWS). */
  timeoutMs?: number | undefined;
}

/** @public */
export interface LoginParams {
  /** The auth method, e.g. `iam-ecs-service-token`. */
  authMethod: string;
  /** The bearer token JSON from {@link buildBearerToken}. */
  bearerToken: string;
  /** Token metadata (`Meta`). */
  meta?: Record<string, string> | undefined;
  datacenter?: string | undefined;
  /** Consul Enterprise admin partition. */
  partition?: string | undefined;
  /** Consul Enterprise namespace. */
  namespace?: string | undefined;
  /** This call's timeout in ms, instead of the client's `timeoutMs`. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** @public */
export interface ConsulAclClient {
  /** The resolved base URL (`http://127.0.0.1:8500`). */
  readonly address: string;
  /** The per-request timeout in ms (a client of your own may leave it out). */
  readonly timeoutMs?: number;
  /** `POST /v1/acl/login`: exchanges a bearer token for an ACL token. */
  login(params: LoginParams): Promise<ConsulToken>;
  /** `POST /v1/acl/logout` with the token's SecretID: deletes the token. */
  logout(token: ConsulToken | string, options?: { signal?: AbortSignal }): Promise<void>;
  /** `GET /v1/acl/token/self` (with `?stale` when asked): reads the token back, e.g. to see it has replicated. */
  readSelf(token: ConsulToken | string, options?: { stale?: boolean; signal?: AbortSignal }): Promise<ConsulToken>;
}

function secretOf(token: ConsulToken | string, what: string): string {
  const secret = typeof token === 'string' ? token : token?.secretId;
  if (typeof secret !== 'string' || secret === '') {
    throw new IdentityError('INVALID_ARGUMENT', `${what}: the token's SecretID must be a non-empty string`);
  }
  return secret;
}

function nonEmpty(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new IdentityError('INVALID_ARGUMENT', `${field} must be a non-empty string`);
  }
  return value;
}

function checkMeta(meta: unknown): Record<string, string> | undefined {
  if (meta === undefined) return undefined;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new IdentityError('INVALID_ARGUMENT', 'meta must be an object of strings');
  }
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string')
      throw new IdentityError('INVALID_ARGUMENT', `meta[${JSON.stringify(k)}] must be a string`);
  }
  return meta as Record<string, string>;
}

function json(response: HttpResponse, what: string): unknown {
  try {
    return response.json();
  } catch (e) {
    throw new IdentityError('INVALID_RESPONSE', `${what}: the answer is not JSON`, { cause: e });
  }
}

/**
 * Creates a Consul ACL client.
 *
 * @example
 * ```ts
 * const acl = consulAclClient({ address: 'https://consul.example:8501' });
 * const token = await acl.login({ authMethod: 'iam-ecs-service-token', bearerToken });
 * await acl.logout(token);
 * ```
 * @public
 */
export function consulAclClient(options: ConsulAclClientOptions = {}): ConsulAclClient {
  const address = consulAddress(options.address, options.env);
  const http =
    options.http ??
    createHttpClient({
      timeoutMs: options.timeoutMs ?? 10_000,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      ...(options.agent === undefined ? {} : { agent: options.agent }),
      ...(options.allowInsecureHttp === undefined ? {} : { allowInsecureHttp: options.allowInsecureHttp }),
    });
  const timeoutMs = options.timeoutMs ?? 10_000;
  const signalOf = (signal: AbortSignal | undefined) => (signal === undefined ? {} : { signal });

  return {
    address,
    timeoutMs,

    async login(params) {
      const authMethod = nonEmpty(params?.authMethod, 'authMethod');
      const bearerToken = nonEmpty(params.bearerToken, 'bearerToken');
      const meta = checkMeta(params.meta);
      const url = new URL('/v1/acl/login', address);
      if (params.datacenter) url.searchParams.set('dc', params.datacenter);
      if (params.partition) url.searchParams.set('partition', params.partition);
      if (params.namespace) url.searchParams.set('ns', params.namespace);
      const what = `Consul login (auth method ${JSON.stringify(authMethod)}) at ${address}`;
      let response: HttpResponse;
      try {
        response = await http.request({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json' },
          // The bearer token is itself JSON, sent as a string: encoded twice on purpose.
          body: JSON.stringify({ AuthMethod: authMethod, BearerToken: bearerToken, ...(meta ? { Meta: meta } : {}) }),
          timeoutMs: params.timeoutMs ?? timeoutMs,
          ...signalOf(params.signal),
        });
      } catch (e) {
        throw toConsulError('login', what, e);
      }
      return parseConsulToken(json(response, what), what);
    },

    async logout(token, opts = {}) {
      const secret = secretOf(token, 'logout');
      const what = `Consul logout at ${address}`;
      try {
        await http.request({
          method: 'POST',
          url: new URL('/v1/acl/logout', address),
          headers: { 'x-consul-token': secret },
          timeoutMs,
          ...signalOf(opts.signal),
        });
      } catch (e) {
        throw toConsulError('logout', what, e);
      }
    },

    async readSelf(token, opts = {}) {
      const secret = secretOf(token, 'readSelf');
      // `?stale` lets any server answer from its own (possibly lagging) state: exactly what replication waits on.
      const url = `${address}/v1/acl/token/self${opts.stale ? '?stale' : ''}`;
      const what = `Consul token self-read at ${address}`;
      let response: HttpResponse;
      try {
        response = await http.request({
          method: 'GET',
          url,
          headers: { 'x-consul-token': secret },
          timeoutMs,
          ...signalOf(opts.signal),
        });
      } catch (e) {
        throw toConsulError('read-self', what, e);
      }
      return parseConsulToken(json(response, what), what);
    },
  };
}
