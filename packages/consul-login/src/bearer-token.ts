/**
 * The Consul `aws-iam` bearer token: a signed, unsent `sts:GetCallerIdentity` request (optionally carrying a signed,
 * unsent `iam:GetRole` / `iam:GetUser` request in four headers), encoded the way `consul login -type aws-iam` does.
 * Browser-safe.
 * @packageDocumentation
 */
import { formEncode, type HttpClient, IdentityError } from '@ecs-identity/core';
import { type SignedRequest, type SigningCredentials, signQueryRequest } from './aws-query-request.js';
import { getCallerIdentity } from './caller-identity.js';
import { toGoHeader } from './canonical-header.js';
import {
  checkEndpointUrl,
  checkRegion,
  defaultIamEndpoint,
  defaultStsEndpoint,
  type SigningEndpoint,
} from './endpoints.js';
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
  stsEndpoint?: string | URL;
  /** IAM URL for the embedded entity request. Default `https://iam.amazonaws.com/` (the partition's IAM host). */
  iamEndpoint?: string | URL;
  /** The SigV4 region of the IAM request. Default: us-east-1 in `aws` (the partition's IAM region elsewhere). */
  iamRegion?: string;
  /** The auth method's `ServerIDHeaderValue`: sent as `X-Consul-IAM-ServerID` and signed on both requests. */
  serverIdHeaderValue?: string;
  /**
   * Embed the IAM entity request (`-aws-include-entity`). `true` (the default) takes the role from
   * `credentials.roleArn`, or asks STS with one GetCallerIdentity call when it is absent; an entity object names
   * it directly; `false` leaves the entity headers out.
   */
  entity?: boolean | IamEntity;
  /** The SigV4 date of both requests. Default: now. */
  signingDate?: Date;
  /** HTTP client for the GetCallerIdentity call (default: core's `createHttpClient()`). */
  http?: HttpClient;
  /** Timeout of the GetCallerIdentity call in ms. Default 5000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Header names the Consul server reads, as the Go client writes them (the server canonicalises on lookup). */
const SERVER_ID_HEADER = 'x-consul-iam-serverid';
const GET_ENTITY_METHOD = 'x-consul-iam-getentity-method';
const GET_ENTITY_URL = 'x-consul-iam-getentity-url';
const GET_ENTITY_HEADERS = 'x-consul-iam-getentity-headers';
const GET_ENTITY_BODY = 'x-consul-iam-getentity-body';

const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

// Header values travel as-is to AWS through the Consul server: no control characters.
const HEADER_VALUE = /^[\x20-\x7e]+$/;

function base64(text: string): string {
  // Printable ASCII (every header and URL here) is its own UTF-8 and Latin-1: btoa takes it as is.
  if (!NOT_PRINTABLE_ASCII.test(text)) return btoa(text);
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function checkCredentials(credentials: unknown): BearerTokenCredentials {
  if (typeof credentials !== 'object' || credentials === null) {
    throw new IdentityError('INVALID_ARGUMENT', 'credentials must be an object with accessKeyId and secretAccessKey');
  }
  const c = credentials as Record<string, unknown>;
  for (const key of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof c[key] !== 'string' || c[key] === '') {
      throw new IdentityError('INVALID_ARGUMENT', `credentials.${key} must be a non-empty string`);
    }
  }
  if (c.sessionToken !== undefined && (typeof c.sessionToken !== 'string' || c.sessionToken === '')) {
    throw new IdentityError('INVALID_ARGUMENT', 'credentials.sessionToken must be a non-empty string when set');
  }
  if (c.roleArn !== undefined && typeof c.roleArn !== 'string') {
    throw new IdentityError('INVALID_ARGUMENT', 'credentials.roleArn must be a string when set');
  }
  return credentials as BearerTokenCredentials;
}

function stsEndpointOf(options: BearerTokenOptions, region: string): SigningEndpoint {
  if (options.stsEndpoint === undefined) return defaultStsEndpoint(region);
  const url = checkEndpointUrl(options.stsEndpoint, 'stsEndpoint');
  // The global endpoint is us-east-1's; signing it for another region makes AWS reject the token.
  return { url: url.href, region: url.hostname === 'sts.amazonaws.com' ? 'us-east-1' : region };
}

function iamEndpointOf(options: BearerTokenOptions, region: string): SigningEndpoint {
  // The default is only looked up when needed: isolated partitions have none, but work with both options given.
  const url =
    options.iamEndpoint === undefined
      ? defaultIamEndpoint(region).url
      : checkEndpointUrl(options.iamEndpoint, 'iamEndpoint').href;
  const signingRegion =
    options.iamRegion === undefined ? defaultIamEndpoint(region).region : checkRegion(options.iamRegion, 'iamRegion');
  return { url, region: signingRegion };
}

function checkEntity(entity: unknown): IamEntity {
  const e = (typeof entity === 'object' && entity !== null ? entity : {}) as Record<string, unknown>;
  const both = 'roleName' in e && 'userName' in e;
  const name = 'roleName' in e ? e.roleName : e.userName;
  if (both || typeof name !== 'string' || !/^[\w+=,.@-]{1,64}$/.test(name)) {
    throw new IdentityError('INVALID_ARGUMENT', 'entity must be { roleName } or { userName } with a valid IAM name');
  }
  return entity as IamEntity;
}

async function resolveEntity(
  options: BearerTokenOptions,
  credentials: BearerTokenCredentials,
  sts: SigningEndpoint,
  signingDate: Date,
): Promise<IamEntity | undefined> {
  const entity = options.entity ?? true;
  if (entity === false) return undefined;
  if (entity !== true) return checkEntity(entity);
  if (credentials.roleArn !== undefined && credentials.roleArn !== '') return entityFromArn(credentials.roleArn);
  // As `consul login -aws-include-entity` does: ask STS who we are (no permission needed for this call).
  const identity = await getCallerIdentity({
    credentials,
    endpoint: sts,
    signingDate,
    ...(options.http === undefined ? {} : { http: options.http }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return entityFromArn(identity.arn);
}

function entityBody(entity: IamEntity): string {
  return 'roleName' in entity
    ? formEncode([
        ['Action', 'GetRole'],
        ['RoleName', entity.roleName],
        ['Version', '2010-05-08'],
      ])
    : formEncode([
        ['Action', 'GetUser'],
        ['UserName', entity.userName],
        ['Version', '2010-05-08'],
      ]);
}

/** The four token fields of a signed STS request. */
function encodeToken(sts: SignedRequest): string {
  return JSON.stringify({
    iam_http_request_method: sts.method,
    iam_request_url: base64(sts.url),
    iam_request_body: base64(sts.body),
    iam_request_headers: base64(JSON.stringify(toGoHeader(sts.headers))),
  });
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
    throw new IdentityError('INVALID_ARGUMENT', 'buildBearerToken needs an options object');
  }
  const credentials = checkCredentials(options.credentials);
  const region = checkRegion(options.region, 'region');
  const serverId = options.serverIdHeaderValue;
  if (serverId !== undefined && (typeof serverId !== 'string' || !HEADER_VALUE.test(serverId))) {
    throw new IdentityError(
      'INVALID_ARGUMENT',
      'serverIdHeaderValue must be a non-empty string of printable ASCII (it is sent as an HTTP header)',
    );
  }
  const signingDate = options.signingDate ?? new Date();
  if (!(signingDate instanceof Date) || Number.isNaN(signingDate.getTime())) {
    throw new IdentityError('INVALID_ARGUMENT', 'signingDate must be a valid Date');
  }
  const sts = stsEndpointOf(options, region);
  const iam = iamEndpointOf(options, region);
  const serverIdHeaders: Record<string, string> = serverId === undefined ? {} : { [SERVER_ID_HEADER]: serverId };

  const headers: Record<string, string> = { ...serverIdHeaders };
  const entity = await resolveEntity(options, credentials, sts, signingDate);
  if (entity !== undefined) {
    const request = await signQueryRequest({
      url: new URL(iam.url),
      region: iam.region,
      service: 'iam',
      body: entityBody(entity),
      headers: serverIdHeaders,
      credentials,
      signingDate,
    });
    headers[GET_ENTITY_METHOD] = request.method;
    headers[GET_ENTITY_URL] = request.url;
    headers[GET_ENTITY_HEADERS] = JSON.stringify(toGoHeader(request.headers));
    headers[GET_ENTITY_BODY] = request.body;
  }
  const signed = await signQueryRequest({
    url: new URL(sts.url),
    region: sts.region,
    service: 'sts',
    body: formEncode([
      ['Action', 'GetCallerIdentity'],
      ['Version', '2011-06-15'],
    ]),
    headers,
    credentials,
    signingDate,
  });
  return encodeToken(signed);
}
