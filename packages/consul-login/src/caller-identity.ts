/**
 * One real `sts:GetCallerIdentity` call, with our own signed request, to learn which principal the credentials
 * belong to (needed for entity details when the credentials do not carry a role ARN).
 * @packageDocumentation
 */
import { createHttpClient, type HttpClient, type HttpResponse, IdentityError, scrubSecrets } from '@ecs-identity/core';
import { formEncode, safeUrl } from '@ecs-identity/core/internal';
import { type SignedRequest, type SigningCredentials, signQueryRequest, targetOfUrl } from './aws-query-request.js';
import type { SigningEndpoint } from './endpoints.js';
import { ConsulError } from './errors.js';
import { xmlChild as child, parseXml, xmlText as text } from './xml.js';

/** @public */
export interface CallerIdentityOptions {
  credentials: SigningCredentials;
  /** Where to send the call and the region to sign it for. */
  endpoint: SigningEndpoint;
  /** HTTP client (default: core's `createHttpClient()`). */
  http?: HttpClient | undefined;
  /** Per-call timeout in ms. Default 5000. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** The SigV4 date. Default: now. */
  signingDate?: Date | undefined;
}

/** What STS says about the caller. @public */
export interface CallerIdentity {
  arn: string;
  userId?: string;
  account?: string;
}

// AWS error codes that mean "these credentials cannot be used"; ExpiredToken can be cured by fresh credentials.
/** @internal */
export const CREDENTIAL_ERRORS: ReadonlySet<string> = new Set([
  'ExpiredToken',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'AccessDenied',
  'UnrecognizedClientException',
]);

/** The `<Error><Code>` and `<Message>` of an AWS `ErrorResponse` body, if it is one. @internal */
export async function parseAwsError(body: string): Promise<{ code: string; message: string } | undefined> {
  try {
    const error = child(child(await parseXml(body), 'ErrorResponse'), 'Error');
    const code = text(child(error, 'Code'));
    if (code === undefined) return undefined;
    return { code, message: text(child(error, 'Message')) ?? '' };
  } catch {
    return undefined;
  }
}

/**
 * Sends a signed AWS Query request and returns the answer. An AWS `ErrorResponse` becomes an IdentityError naming
 * `what`, with AWS's code and message: `INVALID_CREDENTIALS` for credentials AWS refuses (retryable when they only
 * expired), `HTTP_STATUS` with the status otherwise; other failures keep core's transport error codes.
 * @internal
 */
export async function sendAwsQuery(
  what: string,
  url: URL,
  signed: SignedRequest,
  options: { http?: HttpClient | undefined; timeoutMs?: number | undefined; signal?: AbortSignal | undefined },
  credentialErrors: ReadonlySet<string> = CREDENTIAL_ERRORS,
): Promise<HttpResponse> {
  // fetch derives Host from the URL (the same value that was signed) and refuses to be told it.
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== 'host'));
  const http = options.http ?? createHttpClient();
  try {
    return await http.request({
      method: 'POST',
      url,
      headers,
      body: signed.body,
      timeoutMs: options.timeoutMs ?? 5000,
      signal: options.signal,
    });
  } catch (e) {
    const body = (e as { responseText?: unknown }).responseText;
    const aws = IdentityError.is(e, 'HTTP_STATUS') && typeof body === 'string' ? await parseAwsError(body) : undefined;
    if (aws === undefined || !IdentityError.is(e)) throw e;
    throw new ConsulError(
      credentialErrors.has(aws.code) ? 'INVALID_CREDENTIALS' : 'HTTP_STATUS',
      scrubSecrets(`${what} at ${safeUrl(url)} failed: ${aws.code}: ${aws.message}`),
      {
        status: e.status,
        retryAfterMs: e.retryAfterMs,
        retryable: e.retryable || aws.code === 'ExpiredToken',
        cause: e,
      },
    );
  }
}

/**
 * Calls `sts:GetCallerIdentity` (POST, form body, SigV4 with the session token signed) and returns the caller's ARN.
 * AWS authentication errors become `INVALID_CREDENTIALS` with AWS's code and message; other failures keep core's
 * transport error codes.
 * @internal
 */
export async function getCallerIdentity(options: CallerIdentityOptions): Promise<CallerIdentity> {
  const url = new URL(options.endpoint.url);
  const signed = await signQueryRequest({
    target: targetOfUrl(url),
    region: options.endpoint.region,
    service: 'sts',
    body: formEncode([
      ['Action', 'GetCallerIdentity'],
      ['Version', '2011-06-15'],
    ]),
    credentials: options.credentials,
    signingDate: options.signingDate ?? new Date(),
  });
  const response = await sendAwsQuery('sts:GetCallerIdentity', url, signed, options);
  const result = child(child(await parseXml(response.text()), 'GetCallerIdentityResponse'), 'GetCallerIdentityResult');
  const arn = text(child(result, 'Arn'));
  if (arn === undefined) {
    throw new ConsulError(
      'INVALID_RESPONSE',
      `sts:GetCallerIdentity at ${safeUrl(url)}: the response has no GetCallerIdentityResult/Arn`,
    );
  }
  const userId = text(child(result, 'UserId'));
  const account = text(child(result, 'Account'));
  const identity: CallerIdentity = { arn };
  if (userId !== undefined) identity.userId = userId;
  if (account !== undefined) identity.account = account;
  return identity;
}
