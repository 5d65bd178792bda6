/**
 * The Consul `aws-iam` bearer token: a signed, unsent `sts:GetCallerIdentity` request (optionally carrying a signed,
 * unsent `iam:GetRole` / `iam:GetUser` request in four headers), encoded the way `consul login -type aws-iam` does.
 * Browser-safe.
 * @packageDocumentation
 */
import type { HttpClient } from '@ecs-identity/core';
import {
  httpsRootTarget,
  type RequestTarget,
  type SigningCredentials,
  signQueryRequest,
  targetOfUrl,
} from './aws-query-request.js';
import { getCallerIdentity } from './caller-identity.js';
import { goHeaderJson, goHeaderLayout } from './canonical-header.js';
import { checkEndpointUrl, checkRegion, defaultIamHost, defaultStsHost } from './endpoints.js';
import { ConsulError } from './errors.js';
import { entityFromArn, type IamEntity } from './iam-entity.js';

/** Credentials for the token: any AWS credentials, plus the role ARN when the source knows it. @public */
export interface BearerTokenCredentials extends SigningCredentials {
  /** The IAM role (or assumed-role) ARN; when set, entity details need no network call. */
  readonly roleArn?: string;
}

/** @public */
export interface BearerTokenOptions {
  credentials: BearerTokenCredentials;
  /** The region STS is called in and the STS request is signed for (the task's region). */
  region: string;
  /** STS URL. Default `https://sts.<region>.amazonaws.com/`. `https://sts.amazonaws.com/` is signed for us-east-1. */
  stsEndpoint?: string | URL | undefined;
  /** IAM URL for the embedded entity request. Default `https://iam.amazonaws.com/` (the partition's IAM host). */
  iamEndpoint?: string | URL | undefined;
  /** The SigV4 region of the IAM request. Default: us-east-1 in `aws` (the partition's IAM region elsewhere). */
  iamRegion?: string | undefined;
  /** The auth method's `ServerIDHeaderValue`: sent as `X-Consul-IAM-ServerID` and signed on both requests. */
  serverIdHeaderValue?: string | undefined;
  /**
   * Embed the IAM entity request (`-aws-include-entity`). `true` (the default) takes the role from
   * `credentials.roleArn`, or asks STS with one GetCallerIdentity call when it is absent; an entity object names
   * it directly; `false` leaves the entity headers out.
   */
  entity?: boolean | IamEntity | undefined;
  /** The SigV4 date of both requests. Default: now. */
  signingDate?: Date | undefined;
  /** HTTP client for the GetCallerIdentity call (default: core's `createHttpClient()`). */
  http?: HttpClient | undefined;
  /** Timeout of the GetCallerIdentity call in ms. Default 5000. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** Header names the Consul server reads, as the Go client writes them (the server canonicalises on lookup). */
const SERVER_ID_HEADER = 'x-consul-iam-serverid';
const GET_ENTITY_METHOD = 'x-consul-iam-getentity-method';
const GET_ENTITY_URL = 'x-consul-iam-getentity-url';
const GET_ENTITY_HEADERS = 'x-consul-iam-getentity-headers';
const GET_ENTITY_BODY = 'x-consul-iam-getentity-body';

/** Every header either request of a token can carry but `host`, laid out once in Go's sorted canonical order. */
const TOKEN_HEADERS = goHeaderLayout([
  'authorization',
  'content-type',
  'x-amz-date',
  'x-amz-security-token',
  SERVER_ID_HEADER,
  GET_ENTITY_METHOD,
  GET_ENTITY_URL,
  GET_ENTITY_HEADERS,
  GET_ENTITY_BODY,
]);

/** The STS request body never changes: the form encoding of Action=GetCallerIdentity, Version=2011-06-15. */
const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const GET_CALLER_IDENTITY_BODY_BASE64 = btoa(GET_CALLER_IDENTITY_BODY);

const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;
const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
const utf8 = new TextEncoder();

// Header values travel as-is to AWS through the Consul server: no control characters.
const HEADER_VALUE = /^[\x20-\x7e]+$/;

/** Standard base64 of the UTF-8 of `text`; `printableAscii` promises the text is printable ASCII (skips the check). */
function base64(text: string, printableAscii: boolean): string {
  // Printable ASCII is its own UTF-8 and Latin-1: btoa takes it as is.
  if (printableAscii || !NOT_PRINTABLE_ASCII.test(text)) return btoa(text);
  const bytes = utf8.encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function checkCredentials(credentials: unknown): BearerTokenCredentials {
  if (typeof credentials !== 'object' || credentials === null) {
    throw new ConsulError('INVALID_ARGUMENT', 'credentials must be an object with accessKeyId and secretAccessKey');
  }
  const c = credentials as Record<string, unknown>;
  for (const key of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') {
      throw new ConsulError('INVALID_ARGUMENT', `credentials.${key} must be a non-empty string`);
    }
  }
  if (c.sessionToken !== undefined && (typeof c.sessionToken !== 'string' || c.sessionToken === '')) {
    throw new ConsulError('INVALID_ARGUMENT', 'credentials.sessionToken must be a non-empty string when set');
  }
  if (c.roleArn !== undefined && typeof c.roleArn !== 'string') {
    throw new ConsulError('INVALID_ARGUMENT', 'credentials.roleArn must be a string when set');
  }
  return credentials as BearerTokenCredentials;
}

/** Where a request goes and the SigV4 region it is signed for. */
interface Endpoint {
  readonly target: RequestTarget;
  readonly region: string;
}

function stsEndpointOf(options: BearerTokenOptions, region: string): Endpoint {
  if (options.stsEndpoint === undefined) return { target: httpsRootTarget(defaultStsHost(region)), region };
  const url = checkEndpointUrl(options.stsEndpoint, 'stsEndpoint');
  // The global endpoint is us-east-1's; signing it for another region makes AWS reject the token.
  return { target: targetOfUrl(url), region: url.hostname === 'sts.amazonaws.com' ? 'us-east-1' : region };
}

function iamEndpointOf(options: BearerTokenOptions, region: string): Endpoint {
  // The default is only looked up when needed: isolated partitions have none, but work with both options given.
  const target =
    options.iamEndpoint === undefined
      ? httpsRootTarget(defaultIamHost(region).host)
      : targetOfUrl(checkEndpointUrl(options.iamEndpoint, 'iamEndpoint'));
  const signingRegion =
    options.iamRegion === undefined ? defaultIamHost(region).region : checkRegion(options.iamRegion, 'iamRegion');
  return { target, region: signingRegion };
}

function checkEntity(entity: unknown): IamEntity {
  const e = (typeof entity === 'object' && entity !== null ? entity : {}) as Record<string, unknown>;
  const both = 'roleName' in e && 'userName' in e;
  const name = 'roleName' in e ? e.roleName : e.userName;
  if (both || typeof name !== 'string' || !IAM_NAME.test(name)) {
    throw new ConsulError('INVALID_ARGUMENT', 'entity must be { roleName } or { userName } with a valid IAM name');
  }
  return entity as IamEntity;
}

/** As `consul login -aws-include-entity` does without a known role: ask STS who we are (no permission needed). */
async function entityOfCaller(
  options: BearerTokenOptions,
  credentials: BearerTokenCredentials,
  sts: Endpoint,
  signingDate: Date,
): Promise<IamEntity> {
  const identity = await getCallerIdentity({
    credentials,
    endpoint: { url: sts.target.href, region: sts.region },
    signingDate,
    http: options.http,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  return entityFromArn(identity.arn);
}

// Names are checked against IAM's [\w+=,.@-] first; on that set encodeURIComponent gives exactly what formEncode
// (application/x-www-form-urlencoded) gives, without building a URLSearchParams per token.
function entityBody(entity: IamEntity): string {
  return 'roleName' in entity
    ? `Action=GetRole&RoleName=${encodeURIComponent(entity.roleName)}&Version=2010-05-08`
    : `Action=GetUser&UserName=${encodeURIComponent(entity.userName)}&Version=2010-05-08`;
}

/**
 * Builds the bearer token for a Consul `aws-iam` login, as `consul login -type aws-iam -aws-auto-bearer-token
 * -aws-include-entity` does: a signed `POST sts:GetCallerIdentity` request, with the server ID header and the
 * signed `iam:GetRole` / `iam:GetUser` request embedded before it is signed. Every call signs afresh (signatures
 * expire after 15 minutes), so build one per login attempt.
 *
 * The result is the token JSON; send it as the `BearerToken` string of `POST /v1/acl/login`.
 *
 * @example
 * ```ts
 * const token = await buildBearerToken({
 *   credentials: { accessKeyId, secretAccessKey, sessionToken, roleArn: 'arn:aws:iam::123456789012:role/web' },
 *   region: 'us-west-2',
 *   serverIdHeaderValue: 'consul.example.com',
 * });
 * ```
 * @public
 */
export async function buildBearerToken(options: BearerTokenOptions): Promise<string> {
  if (typeof options !== 'object' || options === null) {
    throw new ConsulError('INVALID_ARGUMENT', 'buildBearerToken needs an options object');
  }
  const credentials = checkCredentials(options.credentials);
  const region = checkRegion(options.region, 'region');
  const serverId = options.serverIdHeaderValue;
  if (serverId !== undefined && (typeof serverId !== 'string' || !HEADER_VALUE.test(serverId))) {
    throw new ConsulError(
      'INVALID_ARGUMENT',
      'serverIdHeaderValue must be a non-empty string of printable ASCII (it is sent as an HTTP header)',
    );
  }
  const signingDate = options.signingDate ?? new Date();
  if (!(signingDate instanceof Date) || Number.isNaN(signingDate.getTime())) {
    throw new ConsulError('INVALID_ARGUMENT', 'signingDate must be a valid Date');
  }
  const sts = stsEndpointOf(options, region);
  const iam = iamEndpointOf(options, region);
  // Only a missing role ARN costs an await (and a network call); the other cases stay synchronous.
  const entityOption = options.entity ?? true;
  let entity: IamEntity | undefined;
  if (entityOption === false) entity = undefined;
  else if (entityOption !== true) entity = checkEntity(entityOption);
  else if (credentials.roleArn !== undefined && credentials.roleArn !== '') entity = entityFromArn(credentials.roleArn);
  else entity = await entityOfCaller(options, credentials, sts, signingDate);

  // Every value in the token is printable ASCII when the access key id and session token are: everything else is
  // validated (region, server ID, entity name), serialised by URL (an href is ASCII), form-encoded, constant, or
  // SigV4 output (date, hex, and an Authorization made of the key id, the scope and header names). Checking those
  // two strings once lets the JSON and base64 steps skip scanning ~3 KB per token; other credentials take the
  // general path, with the same bytes.
  const printable =
    HEADER_VALUE.test(credentials.accessKeyId) &&
    (credentials.sessionToken === undefined || HEADER_VALUE.test(credentials.sessionToken));
  const serverIdHeaders: Record<string, string> = serverId === undefined ? {} : { [SERVER_ID_HEADER]: serverId };
  const headers: Record<string, string> = { ...serverIdHeaders };
  if (entity !== undefined) {
    const request = await signQueryRequest({
      target: iam.target,
      region: iam.region,
      service: 'iam',
      body: entityBody(entity),
      headers: serverIdHeaders,
      credentials,
      signingDate,
    });
    headers[GET_ENTITY_METHOD] = request.method;
    headers[GET_ENTITY_URL] = request.url;
    headers[GET_ENTITY_HEADERS] = goHeaderJson(request.headers, TOKEN_HEADERS, printable);
    headers[GET_ENTITY_BODY] = request.body;
  }
  const signed = await signQueryRequest({
    target: sts.target,
    region: sts.region,
    service: 'sts',
    body: GET_CALLER_IDENTITY_BODY,
    headers,
    credentials,
    signingDate,
  });
  const url = base64(signed.url, printable);
  const stsHeaders = base64(goHeaderJson(signed.headers, TOKEN_HEADERS, printable), printable);
  // Base64 never needs JSON escaping, so the token is written out directly, fields in the Go client's order.
  return (
    `{"iam_http_request_method":"${signed.method}","iam_request_url":"${url}",` +
    `"iam_request_body":"${GET_CALLER_IDENTITY_BODY_BASE64}","iam_request_headers":"${stsHeaders}"}`
  );
}
