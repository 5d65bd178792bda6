/**
 * The ZTS v1 client: register, refresh (mTLS), delete, role certificates, access tokens and the JWKS. Browser-safe:
 * it talks through an {@link HttpClient} made by a {@link ZtsTransport}; the Node transport (CA bundle, client
 * certificates through `https.Agent`) lives in `./node`.
 * @packageDocumentation
 */
import { createHttpClient, type HttpClient, IdentityError } from '@ecs-identity/core';
import { formEncode } from '@ecs-identity/core/internal';
import { validateDomain, validateInstanceId, validateProvider, validateService } from './names.js';
import { USER_AGENT } from './version.js';
import { mapZtsError } from './zts-errors.js';
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
  /** The ZTS API base, e.g. `https://zts.example.com:4443/zts/v1`. */
  url: string;
  /** Default: a plain {@link createHttpClient} (no mTLS; mTLS needs `ztsTransport()` from the Node entry). */
  transport?: ZtsTransport | undefined;
  /** Per-request timeout. Default 10_000 ms. */
  timeoutMs?: number | undefined;
}

/** Per-call options. @public */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

/** The ZTS operations. @public */
export interface ZtsClient {
  readonly url: string;
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
    request: { scope: string; expiresIn?: number },
    tls: ClientTls,
    options?: CallOptions,
  ): Promise<AccessTokenResponse>;
  /** `GET /oauth2/keys?rfc=true`. */
  jwks(options?: CallOptions): Promise<JwkSet>;
}

function baseUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new IdentityError(
      'INVALID_CONFIG',
      'the ZTS url must be an absolute URL such as https://zts.example.com:4443/zts/v1',
    );
  }
  if (u.search || u.hash) throw new IdentityError('INVALID_CONFIG', 'the ZTS url must not have a query or fragment');
  return u.toString().replace(/\/+$/, '');
}

/** The default ZTS base for a host name: `https://<host>:4443/zts/v1`. @public */
export function ztsUrl(host: string): string {
  return `https://${host}:4443/zts/v1`;
}

function defaultTransport(timeoutMs: number): ZtsTransport {
  const http = createHttpClient({ timeoutMs, userAgent: USER_AGENT });
  return (tls) => {
    if (tls) {
      throw new IdentityError(
        'INVALID_CONFIG',
        'ZTS calls with a client certificate need a transport that can present one: pass transport: ztsTransport() from @ecs-identity/athenz-zts/node',
      );
    }
    return http;
  };
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
    throw new IdentityError('INVALID_RESPONSE', `ZTS ${operation}: the answer has no x509Certificate`);
  }
  return id;
}

/**
 * Creates a ZTS client over any transport.
 * @example
 * ```ts
 * const zts = createZtsClient({ url: ztsUrl("zts.example.com"), transport: ztsTransport({ caBundle }) }); // ztsTransport: ./node
 * const identity = await zts.register({ provider, domain, service, attestationData, csr });
 * ```
 * @public
 */
export function createZtsClient(options: ZtsClientOptions): ZtsClient {
  const url = baseUrl(options.url);
  const plainHttp = url.startsWith('http:');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const transport = options.transport ?? defaultTransport(timeoutMs);

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
      throw new IdentityError(
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
        ...(payload === undefined ? {} : { body: payload }),
        ...(signal ? { signal } : {}),
      });
      return (parse ? res.json<T>() : undefined) as T;
    } catch (e) {
      throw mapZtsError(e, operation);
    }
  }

  return {
    url,
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
        throw new IdentityError('INVALID_RESPONSE', 'ZTS role certificate: the answer has no x509Certificate');
      }
      return res;
    },
    async accessToken(request, tls, opts = {}) {
      if (typeof request.scope !== 'string' || request.scope.trim() === '') {
        throw new IdentityError('INVALID_ARGUMENT', 'access token scope is required (e.g. "sports:domain")');
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
        throw new IdentityError('INVALID_RESPONSE', 'ZTS access token: the answer has no access_token');
      }
      return res;
    },
    async jwks(opts = {}) {
      const res = await call<JwkSet>('jwks', undefined, 'GET', 'oauth2/keys?rfc=true', undefined, opts.signal, true);
      if (!Array.isArray(res?.keys))
        throw new IdentityError('INVALID_RESPONSE', 'ZTS jwks: the answer has no keys array');
      return res;
    },
  };
}
