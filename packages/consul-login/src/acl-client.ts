/**
 * A small Consul ACL HTTP client: login, logout and the self-read used to wait for replication.
 * @packageDocumentation
 */
import { createHttpClient, type HttpClient, type HttpResponse } from '@ecs-identity/core';
import { type Environment, processEnv } from '@ecs-identity/core/internal';
import { consulAddress } from './consul-address.js';
import { toConsulError } from './consul-errors.js';
import { type ConsulToken, parseConsulToken } from './consul-token.js';
import { ConsulError } from './errors.js';
import type { ConsulTlsOptions, Platform } from './platform.js';

/** @public */
export interface ConsulAclClientOptions {
  /** `http(s)://host:port` or `host:port`. Default: `CONSUL_HTTP_ADDR`, else `127.0.0.1:8500`. */
  address?: string | undefined;
  /** Where `CONSUL_HTTP_ADDR`, `CONSUL_HTTP_SSL` and the TLS variables are read. Default `process.env` (none in browsers). */
  env?: Environment | undefined;
  /**
   * The CA and client certificate for an https Consul (Node). Default: `CONSUL_CACERT`, `CONSUL_CLIENT_CERT`,
   * `CONSUL_CLIENT_KEY`. Outside Node there is no way to use them: a setting is `INVALID_CONFIG` (pass `http`).
   */
  tls?: ConsulTlsOptions | undefined;
  /**
   * Allow plain http to a host that is not loopback. Off by default: a bearer token can be replayed for 15 minutes
   * and a SecretID forever, so only send them in clear to the local agent.
   */
  allowInsecureHttp?: boolean | undefined;
  /** Per-request timeout in ms. Default 10 000 (a login waits for the server's calls to AWS). */
  timeoutMs?: number | undefined;
  /** The datacenter to log in in (`?dc=`). Default: the server's. */
  datacenter?: string | undefined;
  /** Consul Enterprise admin partition to log in in. */
  partition?: string | undefined;
  /** Consul Enterprise namespace to log in in. */
  namespace?: string | undefined;
  /** An injected fetch (default: core's transport's). */
  fetch?: typeof globalThis.fetch | undefined;
  /** A ready HTTP client; when set, `fetch`, `tls`, `allowInsecureHttp` and `timeoutMs` are not used to build one. */
  http?: HttpClient | undefined;
}

/** @public */
export interface LoginParams {
  /** The auth method, e.g. `iam-ecs-service-token`. */
  authMethod: string;
  /** The bearer token JSON from {@link buildBearerToken}. */
  bearerToken: string;
  /** Token metadata (`Meta`). */
  meta?: Record<string, string> | undefined;
  /** Default: the client's `datacenter`. */
  datacenter?: string | undefined;
  /** Consul Enterprise admin partition. Default: the client's. */
  partition?: string | undefined;
  /** Consul Enterprise namespace. Default: the client's. */
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
    throw new ConsulError('INVALID_ARGUMENT', `${what}: the token's SecretID must be a non-empty string`);
  }
  return secret;
}

function nonEmpty(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConsulError('INVALID_ARGUMENT', `${field} must be a non-empty string`);
  }
  return value;
}

function checkMeta(meta: unknown): Record<string, string> | undefined {
  if (meta === undefined) return undefined;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
    throw new ConsulError('INVALID_ARGUMENT', 'meta must be an object of strings');
  }
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string') throw new ConsulError('INVALID_ARGUMENT', `meta[${JSON.stringify(k)}] must be a string`);
  }
  return meta as Record<string, string>;
}

function json(response: HttpResponse, what: string): unknown {
  try {
    return response.json();
  } catch (e) {
    throw new ConsulError('INVALID_RESPONSE', `${what}: the answer is not JSON`, { cause: e });
  }
}

/**
 * A Consul ACL client whose TLS is `platform`'s (each entry's `consulAclClient` passes its own).
 * @internal
 */
export function createAclClient(platform: Platform, options: ConsulAclClientOptions = {}): ConsulAclClient {
  const env = options.env ?? processEnv();
  const address = consulAddress(options.address, env);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const http =
    options.http ??
    createHttpClient({
      timeoutMs,
      fetch: options.fetch,
      agent: platform.consulAgent(options.tls, env),
      allowInsecureHttp: options.allowInsecureHttp,
    });

  return {
    address,
    timeoutMs,

    async login(params) {
      const authMethod = nonEmpty(params?.authMethod, 'authMethod');
      const bearerToken = nonEmpty(params.bearerToken, 'bearerToken');
      const meta = checkMeta(params.meta);
      const url = new URL('/v1/acl/login', address);
      const datacenter = params.datacenter ?? options.datacenter;
      const partition = params.partition ?? options.partition;
      const namespace = params.namespace ?? options.namespace;
      if (datacenter) url.searchParams.set('dc', datacenter);
      if (partition) url.searchParams.set('partition', partition);
      if (namespace) url.searchParams.set('ns', namespace);
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
          signal: params.signal,
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
          signal: opts.signal,
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
          signal: opts.signal,
        });
      } catch (e) {
        throw toConsulError('read-self', what, e);
      }
      return parseConsulToken(json(response, what), what);
    },
  };
}
