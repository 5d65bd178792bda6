/**
 * Builds and signs an AWS Query-protocol request (form body, POST) by hand with `@smithy/signature-v4`.
 * The AWS SDK is kept off this path on purpose: its middleware adds `x-amz-user-agent`, which Consul rejects.
 * @packageDocumentation
 */
import { loadOnce } from '@ecs-identity/core/internal';
import { Sha256 } from './sha256.js';

/** The AWS credential fields signing needs. @public */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/**
 * Where a request goes, split into the parts SigV4 signs. Built once per endpoint (from a parsed `URL`, or from a
 * default host without parsing anything), so the signing path never re-parses a URL string.
 * @internal
 */
export interface RequestTarget {
  /** The serialised URL (`URL.href`): what is sent and what the token embeds. */
  readonly href: string;
  /** `https:` or `http:`. */
  readonly protocol: string;
  readonly hostname: string;
  /** The Host header value: the hostname, plus `:port` when the URL names a non-default port. */
  readonly host: string;
  readonly port?: number;
  /** The URL path (`/` at least). */
  readonly path: string;
}

/** The signing parts of an absolute URL. @internal */
export function targetOfUrl(url: URL): RequestTarget {
  return {
    href: url.href,
    protocol: url.protocol,
    hostname: url.hostname,
    host: url.host,
    ...(url.port === '' ? {} : { port: Number(url.port) }),
    path: url.pathname,
  };
}

/**
 * The target of `https://<host>/`, for a host of lower-case ASCII letters, digits, dots and hyphens (the default
 * AWS endpoints): the same parts `targetOfUrl` gives for that URL, without parsing it.
 * @internal
 */
export function httpsRootTarget(host: string): RequestTarget {
  return { href: `https://${host}/`, protocol: 'https:', hostname: host, host, path: '/' };
}

/** @internal */
export interface QueryRequestInput {
  target: RequestTarget;
  /** SigV4 signing region. */
  region: string;
  /** SigV4 service name (`sts`, `iam`). */
  service: string;
  /** The form-encoded body. */
  body: string;
  /** More headers to sign (lower-case keys), added before signing so they are listed in `SignedHeaders`. */
  headers?: Record<string, string> | undefined;
  credentials: SigningCredentials;
  signingDate: Date;
}

/** A signed request, ready to send or to embed. `headers` has lower-case keys and includes `host`. @internal */
export interface SignedRequest {
  method: 'POST';
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** The request handed to `SignatureV4.sign` (a structural `HttpRequest`). */
interface UnsignedRequest {
  method: 'POST';
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

/** @smithy/signature-v4 (with @smithy/core), loaded on the first signing, not by the import. */
const loadSigner = loadOnce(() => import('./sigv4.js'));

/** The Content-Type the AWS SDKs send for Query-protocol bodies. @internal */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

/**
 * Signs `POST <url>` with `body`. Signs `host` (the URL's host, with port), `content-type`, `x-amz-date`,
 * `x-amz-security-token` when there is a session token, and every extra header. No `x-amz-content-sha256` (the
 * Go SDK does not send one for STS and IAM) and no user agent.
 * @internal
 */
export async function signQueryRequest(input: QueryRequestInput): Promise<SignedRequest> {
  const { target } = input;
  const { SignatureV4 } = await loadSigner();
  // A fresh signer per request: nothing here holds credentials or anything derived from them between calls.
  // (@smithy/signature-v4 itself memoises derived signing keys in a small module-level table, for every signer in
  // the process; that is the library's behaviour, not ours, and the benchmark baseline gets it too.)
  const signer = new SignatureV4({
    service: input.service,
    region: input.region,
    // Only the three signing fields (an absent session token is simply not signed).
    credentials:
      input.credentials.sessionToken === undefined
        ? { accessKeyId: input.credentials.accessKeyId, secretAccessKey: input.credentials.secretAccessKey }
        : {
            accessKeyId: input.credentials.accessKeyId,
            secretAccessKey: input.credentials.secretAccessKey,
            sessionToken: input.credentials.sessionToken,
          },
    sha256: Sha256,
    applyChecksum: false,
  });
  const headers: Record<string, string> = { ...input.headers };
  headers.host = target.host;
  headers['content-type'] = FORM_CONTENT_TYPE;
  const request: UnsignedRequest = {
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    path: target.path,
    query: {},
    headers,
    body: input.body,
  };
  if (target.port !== undefined) request.port = target.port;
  const signed = await signer.sign(request, { signingDate: input.signingDate });
  // No normalising pass: every key given above is lower-case, and the ones SignatureV4 adds (x-amz-date,
  // x-amz-security-token, authorization) are too; its header values are strings.
  return { method: 'POST', url: target.href, body: input.body, headers: signed.headers };
}
