/**
 * Builds and signs an AWS Query-protocol request (form body, POST) by hand with `@smithy/signature-v4`.
 * The AWS SDK is kept off this path on purpose: its middleware adds `x-amz-user-agent`, which Consul rejects.
 * @packageDocumentation
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';

/** The AWS credential fields signing needs. @public */
export interface SigningCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** @internal */
export interface QueryRequestInput {
  url: URL;
  /** SigV4 signing region. */
  region: string;
  /** SigV4 service name (`sts`, `iam`). */
  service: string;
  /** The form-encoded body. */
  body: string;
  /** More headers to sign (lower-case keys), added before signing so they are listed in `SignedHeaders`. */
  headers?: Record<string, string>;
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

/** The Content-Type the AWS SDKs send for Query-protocol bodies. @internal */
export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

/**
 * Signs `POST <url>` with `body`. Signs `host` (the URL's host, with port), `content-type`, `x-amz-date`,
 * `x-amz-security-token` when there is a session token, and every extra header. No `x-amz-content-sha256` (the
 * Go SDK does not send one for STS and IAM) and no user agent.
 * @internal
 */
export async function signQueryRequest(input: QueryRequestInput): Promise<SignedRequest> {
  const { url } = input;
  // A fresh signer per request: nothing derived from the secret key outlives the call.
  const signer = new SignatureV4({
    service: input.service,
    region: input.region,
    credentials: {
      accessKeyId: input.credentials.accessKeyId,
      secretAccessKey: input.credentials.secretAccessKey,
      ...(input.credentials.sessionToken === undefined ? {} : { sessionToken: input.credentials.sessionToken }),
    },
    sha256: Sha256,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port === '' ? {} : { port: Number(url.port) }),
      path: url.pathname,
      query: {},
      headers: { ...input.headers, host: url.host, 'content-type': FORM_CONTENT_TYPE },
      body: input.body,
    },
    { signingDate: input.signingDate },
  );
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(signed.headers)) headers[key.toLowerCase()] = String(value);
  return { method: 'POST', url: url.href, body: input.body, headers };
}
