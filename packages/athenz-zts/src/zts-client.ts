/**
 * The ZTS v1 client: register, refresh (mTLS), delete, role certificates, access tokens and the JWKS. It talks through
 * an {@link HttpClient} per call made by a {@link ZtsTransport}: by default the platform's (in Node, an https agent per
 * client certificate trusting the ZTS CA bundle; elsewhere `fetch`, which cannot present a client certificate).
 * @packageDocumentation
 */
import type { HttpClient } from '@ecs-identity/core';
import { formEncode, withAsyncDispose } from '@ecs-identity/core/internal';
import { AthenzError } from './errors.js';
import { validateDomain, validateInstanceId, validateProvider, validateService } from './names.js';
import { mapZtsError } from './zts-errors.js';
import type { ZtsPlatform } from './zts-platform.js';
import type {
  AccessTokenResponse,
  InstanceIdentity,
  InstanceRef,
  InstanceRefreshInformation,
  InstanceRegisterInformation,
  JwkSet,
  RoleCertificateRequest,
  RoleCertificateResponse,
} from './zts-types.js';

/** A client certificate and its key, in PEM, for mTLS calls. @public */
export interface ClientTls {
  keyPem: string;
  certPem: string;
}

/** Makes the HttpClient for a call: with `tls`, one that presents that client certificate. @public */
export type ZtsTransport = (tls: ClientTls | undefined) => HttpClient;

/** @public */
export interface ZtsClientOptions {
  /** The ZTS API base, e.g. `https://zts.example.com:4443/zts/v1` (see {@link ztsUrl}). */
  url: string;
  /**
   * The CA bundle (PEM) that signed ZTS's server certificate (siad's `-ztscacert`), trusted for every ZTS call in Node
   * and exposed as `caBundlePem` on the identities made with this client. Default: Node's roots.
   */
  caBundle?: string | string[] | undefined;
  /** Per-request timeout. Default 10_000 ms. */
  timeoutMs?: number | undefined;
  /** Node: keep connections open between calls. Default true. */
  keepAlive?: boolean | undefined;
  /**
   * How calls reach ZTS: an `HttpClient` per call, presenting the given client certificate. Default in Node: an https
   * agent per client certificate (core's `clientCertificateAgents`); elsewhere `fetch`, which cannot present one.
   */
  transport?: ZtsTransport | undefined;
}

/** Per-call options. @public */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** The ZTS operations. @public */
export interface ZtsClient {
  readonly url: string;
  /** The CA bundle the client trusts for ZTS, when one was given. */
  readonly caBundle?: string | string[];
  /** `POST /instance` (no client certificate). */
  register(info: InstanceRegisterInformation, options?: CallOptions): Promise<InstanceIdentity>;
  /**
   * `POST /instance/{provider}/{domain}/{service}/{instanceId}` over mTLS with the current certificate. Like every
   * call that presents the client certificate, refused (`INSECURE_URL`) when the ZTS url is plain http.
   */
  refresh(
    ref: InstanceRef,
    info: InstanceRefreshInformation,
    tls: ClientTls,
    options?: CallOptions,
  ): Promise<InstanceIdentity>;
  /** `DELETE /instance/{provider}/{domain}/{service}/{instanceId}` over mTLS. */
  deleteInstance(ref: InstanceRef, tls: ClientTls, options?: CallOptions): Promise<void>;
  /** `POST /rolecert` over mTLS. */
  roleCertificate(
    request: RoleCertificateRequest,
    tls: ClientTls,
    options?: CallOptions,
  ): Promise<RoleCertificateResponse>;
  /** `POST /oauth2/token` (form, `grant_type=client_credentials`) over mTLS. */
  accessToken(
    request: { scope: string; expiresIn?: number | undefined },
    tls: ClientTls,
    options?: CallOptions,
  ): Promise<AccessTokenResponse>;
  /** `GET /oauth2/keys?rfc=true`. */
  jwks(options?: CallOptions): Promise<JwkSet>;
  /**
   * Opens the connection the next call will use (TCP and TLS handshakes, with `tls` the client certificate of that
   * call), so that they run while the caller prepares the call, not on its path: against a ZTS across a network that
   * is two round trips off the call. The identity provider does this as a register or refresh starts, while the
   * attestation runs. A hint: it never throws and waits for nothing; a connection that fails or stays unused for
   * 10 s is closed quietly, and the call then opens its own. Nothing happens with a plain http url, a `transport`
   * of your own, or outside Node. Optional for a client of your own: callers check that it is there.
   */
  preconnect?(tls?: ClientTls): void;
  /** Releases the client's connections. Idempotent. */
  close(): Promise<void>;
  /** The same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
}

function baseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new AthenzError(
      'INVALID_CONFIG',
      'the ZTS url must be an absolute URL such as https://zts.example.com:4443/zts/v1',
    );
  }
  if (u.search || u.hash) throw new AthenzError('INVALID_CONFIG', 'the ZTS url must not have a query or fragment');
  return u.toString().replace(/\/+$/, '');
}

/** The default ZTS base for a host name: `https://<host>:4443/zts/v1`. @public */
export function ztsUrl(host: string): string {
  return `https://${host}:4443/zts/v1`;
}

function instancePath(ref: InstanceRef): string {
  return [
    'instance',
    validateProvider(ref.provider),
    validateDomain(ref.domain),
    validateService(ref.service),
    validateInstanceId(ref.instanceId),
  ]
    .map(encodeURIComponent)
    .join('/');
}

function checkIdentity(id: InstanceIdentity, operation: string): InstanceIdentity {
  if (!id || typeof id !== 'object' || typeof id.x509Certificate !== 'string' || id.x509Certificate.length === 0) {
    throw new AthenzError('INVALID_RESPONSE', `ZTS ${operation}: the answer has no x509Certificate`);
  }
  return id;
}

/**
 * A ZTS client whose default transport is `platform`'s (each entry's `createZtsClient` passes its own).
 * @internal
 */
export function createZtsClientWith(platform: ZtsPlatform, options: ZtsClientOptions): ZtsClient {
  const url = baseUrl(options.url);
  const plainHttp = url.startsWith('http:');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { caBundle } = options;
  const own =
    options.transport === undefined
      ? platform.transport({ caBundle, timeoutMs, keepAlive: options.keepAlive ?? true })
      : undefined;
  const transport = options.transport ?? (own as { transport: ZtsTransport }).transport;

  async function call<T>(
    operation: string,
    tls: ClientTls | undefined,
    method: string,
    path: string,
    body: { json?: unknown; form?: Record<string, string> } | undefined,
    signal: AbortSignal | undefined,
    parse: boolean,
  ): Promise<T> {
    if (tls && plainHttp) {
      // The client certificate authenticates the call (and an access token is bound to it): only over TLS, even to
      // loopback, so what proves the identity is never sent where a proxy could replay the exchange.
      throw new AthenzError(
        'INSECURE_URL',
        `ZTS ${operation} presents the client certificate and goes only over https, not to ${url}`,
      );
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    let payload: string | undefined;
    if (body?.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body.json);
    } else if (body?.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = formEncode(body.form);
    }
    try {
      const res = await transport(tls).request({
        method,
        url: `${url}/${path}`,
        headers,
        timeoutMs,
        body: payload,
        signal,
      });
      return (parse ? res.json<T>() : undefined) as T;
    } catch (e) {
      throw mapZtsError(e, operation);
    }
  }

  const client: Omit<ZtsClient, typeof Symbol.asyncDispose> = {
    url,
    ...(caBundle === undefined ? {} : { caBundle }),
    preconnect(tls) {
      if (plainHttp || own?.preconnect === undefined) return;
      try {
        own.preconnect(url, tls);
      } catch {
        // a hint only: the call that follows meets the same problem (a closed client, an unusable key) and reports it
      }
    },
    async close() {
      own?.close();
    },
    async register(info, opts = {}) {
      const body: InstanceRegisterInformation = {
        ...info,
        provider: validateProvider(info.provider),
        domain: validateDomain(info.domain),
        service: validateService(info.service),
      };
      const op = `register ${body.domain}.${body.service}`;
      return checkIdentity(await call(op, undefined, 'POST', 'instance', { json: body }, opts.signal, true), op);
    },
    async refresh(ref, info, tls, opts = {}) {
      const op = `refresh ${ref.domain}.${ref.service}`;
      return checkIdentity(await call(op, tls, 'POST', instancePath(ref), { json: info }, opts.signal, true), op);
    },
    async deleteInstance(ref, tls, opts = {}) {
      await call(`delete instance ${ref.instanceId}`, tls, 'DELETE', instancePath(ref), undefined, opts.signal, false);
    },
    async roleCertificate(request, tls, opts = {}) {
      const res = await call<RoleCertificateResponse>(
        'role certificate',
        tls,
        'POST',
        'rolecert',
        { json: request },
        opts.signal,
        true,
      );
      if (typeof res?.x509Certificate !== 'string' || res.x509Certificate.length === 0) {
        throw new AthenzError('INVALID_RESPONSE', 'ZTS role certificate: the answer has no x509Certificate');
      }
      return res;
    },
    async accessToken(request, tls, opts = {}) {
      if (typeof request.scope !== 'string' || request.scope.trim() === '') {
        throw new AthenzError('INVALID_ARGUMENT', 'access token scope is required (e.g. "sports:domain")');
      }
      const form: Record<string, string> = { grant_type: 'client_credentials', scope: request.scope };
      if (request.expiresIn !== undefined) form.expires_in = String(Math.floor(request.expiresIn));
      const res = await call<AccessTokenResponse>(
        'access token',
        tls,
        'POST',
        'oauth2/token',
        { form },
        opts.signal,
        true,
      );
      if (typeof res?.access_token !== 'string' || res.access_token.length === 0) {
        throw new AthenzError('INVALID_RESPONSE', 'ZTS access token: the answer has no access_token');
      }
      return res;
    },
    async jwks(opts = {}) {
      const res = await call<JwkSet>('jwks', undefined, 'GET', 'oauth2/keys?rfc=true', undefined, opts.signal, true);
      if (!Array.isArray(res?.keys))
        throw new AthenzError('INVALID_RESPONSE', 'ZTS jwks: the answer has no keys array');
      return res;
    },
  };
  return withAsyncDispose(client);
}
