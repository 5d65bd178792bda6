import { readXml } from '../aws/xml.js';
import type { AwsIamAuthMethodConfig } from './auth-method.js';
import { type ForwardResponse, forwardRequest } from './aws-forwarder.js';
import {
  canonicalHeaders,
  checkServerIdHeader,
  type EmbeddedRequest,
  parseBearerToken,
  TokenRejected,
} from './bearer-token.js';

// consul-awsauth `auth.go` ValidateLogin: call STS (and IAM) with the token's requests, check the answers, match
// the principal against BoundIAMPrincipalARNs.

/** What a successful validation yields: the binding variables' sources. */
export interface IdentityDetails {
  entityName: string;
  entityId: string;
  accountId: string;
  entityPath?: string;
  entityTags?: Record<string, string>;
  /** The ARN matched against BoundIAMPrincipalARNs (for the request log). */
  clientArn: string;
}

export interface ValidatorEnvironment {
  /** Base URL real AWS hosts (`*.amazonaws.com`) are sent to: the fake AWS. Without it they are unreachable. */
  awsUrl?: string;
  timeoutMs: number;
  /** Wait before a retry (consul-awsauth: 500 ms doubling up to 30 s). */
  retryWaitMs: (attempt: number) => number;
  sleep: (ms: number) => Promise<void>;
}

interface ParsedArn {
  partition: string;
  account: string;
  type: string;
  friendlyName: string;
}

/** `responses.ParseArn` with its messages. */
function parseArn(iamArn: string): ParsedArn {
  const full = iamArn.split(':');
  if (full.length !== 6) {
    throw new TokenRejected(`unrecognized arn: contains ${full.length} colon-separated parts, expected 6`);
  }
  if (full[0] !== 'arn') throw new TokenRejected('unrecognized arn: does not begin with "arn:"');
  const partition = full[1]!;
  if (partition === '') throw new TokenRejected(`unrecognized arn: ${JSON.stringify(iamArn)} is missing the partition`);
  if (full[2] !== 'iam' && full[2] !== 'sts') {
    throw new TokenRejected(`unrecognized service: ${full[2]}, not one of iam or sts`);
  }
  const account = full[4]!;
  if (account === '')
    throw new TokenRejected(`unrecognized arn: ${JSON.stringify(iamArn)} is missing the account number`);
  const parts = full[5]!.split('/');
  if (parts.length < 2) {
    throw new TokenRejected(`unrecognized arn: ${JSON.stringify(full[5])} contains fewer than 2 slash-separated parts`);
  }
  const type = parts[0]!;
  let friendlyName = parts[parts.length - 1]!;
  if (type === 'assumed-role') {
    if (parts.length < 3) {
      throw new TokenRejected(
        `unrecognized arn: ${JSON.stringify(full[5])} contains fewer than 3 slash-separated parts`,
      );
    }
    friendlyName = parts[1]!;
  } else if (type !== 'user' && type !== 'role') {
    throw new TokenRejected(`unrecognized principal type: ${JSON.stringify(type)}`);
  }
  if (friendlyName === '')
    throw new TokenRejected(`unrecognized arn: ${JSON.stringify(iamArn)} is missing the resource name`);
  return { partition, account, type, friendlyName };
}

const canonicalArn = (p: ParsedArn): string =>
  `arn:${p.partition}:iam::${p.account}:${p.type === 'assumed-role' ? 'role' : p.type}/${p.friendlyName}`;

const AWS_HOST = /\.amazonaws\.com$/;

/** `submitRequest`: retryablehttp semantics (429 / 5xx / network errors retried), then the Content-Type and status checks. */
async function submit(
  req: EmbeddedRequest,
  endpoint: string | undefined,
  config: AwsIamAuthMethodConfig,
  env: ValidatorEnvironment,
): Promise<string> {
  // buildHttpRequest: `endpoint + RequestURI`, where endpoint defaults to the token's whole URL (so the real server
  // sends `https://sts.<region>.amazonaws.com//`, which SigV4 path normalisation accepts); the Host stays the signed one.
  const target = new URL(`${endpoint ?? req.rawUrl}${req.url.pathname}${req.url.search}`);
  const connectTo = AWS_HOST.test(target.hostname) && env.awsUrl !== undefined ? new URL(env.awsUrl) : undefined;
  const maxRetries = config.MaxRetries ?? 0;
  const shown = `${req.method} ${target.origin}${target.pathname}${target.search}`;
  let lastError: string | undefined;
  let response: ForwardResponse | undefined;
  for (let attempt = 1; attempt <= maxRetries + 1; attempt++) {
    if (attempt > 1) await env.sleep(env.retryWaitMs(attempt - 1));
    if (connectTo === undefined && AWS_HOST.test(target.hostname)) {
      lastError = `dial tcp: lookup ${target.hostname}: no such host (the fake Consul has no fake AWS to send it to)`;
      response = undefined;
      continue;
    }
    try {
      response = await forwardRequest({
        target,
        host: req.url.host,
        method: req.method,
        headers: canonicalHeaders(req.headers),
        body: req.body,
        timeoutMs: env.timeoutMs,
        ...(connectTo !== undefined ? { connectTo } : {}),
      });
      lastError = undefined;
    } catch (e) {
      response = undefined;
      lastError = (e as Error).message;
      continue;
    }
    const s = response.status;
    if (s !== 429 && (s < 500 || s === 501)) break;
  }
  if (response === undefined || response.status === 429 || (response.status >= 500 && response.status !== 501)) {
    const cause = lastError !== undefined ? `: ${lastError}` : '';
    throw new TokenRejected(`error making request: ${shown} giving up after ${maxRetries + 1} attempt(s)${cause}`);
  }
  if (response.contentType !== 'text/xml') throw new TokenRejected('response body is invalid');
  if (response.status !== 200) throw new TokenRejected(`received error code ${response.status}: ${response.body}`);
  return response.body;
}

const asArray = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

function parseCallerIdentity(body: string): { arn: string; userId: string; account: string } {
  const trimmed = body.trim();
  let doc: Record<string, unknown>;
  try {
    if (!trimmed.startsWith('<GetCallerIdentityResponse') && !trimmed.startsWith('<?xml')) throw new Error('prefix');
    doc = readXml(trimmed);
  } catch {
    throw new TokenRejected('error parsing STS response');
  }
  const root = doc.GetCallerIdentityResponse as Record<string, unknown> | undefined;
  if (root === undefined || typeof root !== 'object') throw new TokenRejected('error parsing STS response');
  const results = asArray(root.GetCallerIdentityResult);
  if (results.length !== 1)
    throw new TokenRejected(`received ${results.length} identities in STS response but expected 1`);
  const r = results[0] as Record<string, unknown>;
  return { arn: text(r.Arn), userId: text(r.UserId), account: text(r.Account) };
}

function parseEntity(body: string, requestType: 'GetRole' | 'GetUser') {
  if (!body.startsWith('<GetRoleResponse') && !body.startsWith('<GetUserResponse') && !body.startsWith('<?xml')) {
    throw new TokenRejected('error parsing IAM response: body of GetRole or GetUser is invalid');
  }
  let doc: Record<string, unknown>;
  try {
    doc = readXml(body);
  } catch (e) {
    throw new TokenRejected(`error parsing IAM response: ${(e as Error).message}`);
  }
  const root = doc[`${requestType}Response`] as Record<string, unknown> | undefined;
  if (root === undefined || typeof root !== 'object') {
    const got = Object.keys(doc)[0] ?? '';
    throw new TokenRejected(
      `error parsing IAM response: expected element type <${requestType}Response> but have <${got}>`,
    );
  }
  const results = asArray(root[`${requestType}Result`]);
  if (results.length !== 1) {
    throw new TokenRejected(
      `error parsing IAM response: received ${results.length} identities in ${requestType} response but expected 1`,
    );
  }
  const entity = ((results[0] as Record<string, unknown>)[requestType === 'GetRole' ? 'Role' : 'User'] ?? {}) as Record<
    string,
    unknown
  >;
  const tags: Record<string, string> = {};
  const tagBlock = entity.Tags as Record<string, unknown> | undefined;
  for (const m of asArray(tagBlock?.member)) {
    const member = m as Record<string, unknown>;
    tags[text(member.Key)] = text(member.Value);
  }
  return {
    arn: text(entity.Arn),
    path: text(entity.Path),
    id: text(requestType === 'GetRole' ? entity.RoleId : entity.UserId),
    tags,
  };
}

/** `GlobbedStringsMatch` for a single trailing `*`: a prefix match. */
const globMatch = (pattern: string, value: string): boolean =>
  pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : pattern === value;

/**
 * Validates a login token as the `aws-iam` auth method does. Throws {@link TokenRejected} with the real text.
 */
export async function validateAwsIamLogin(
  loginToken: string,
  config: AwsIamAuthMethodConfig,
  env: ValidatorEnvironment,
): Promise<IdentityDetails> {
  const token = parseBearerToken(loginToken, config);
  if (config.ServerIDHeaderValue) checkServerIdHeader(canonicalHeaders(token.sts.headers), config.ServerIDHeaderValue);
  const caller = parseCallerIdentity(await submit(token.sts, config.STSEndpoint || undefined, config, env));
  const entity = parseArn(caller.arn);
  const details: IdentityDetails = {
    entityName: entity.friendlyName,
    entityId: caller.userId.split(':')[0]!,
    accountId: caller.account,
    clientArn: canonicalArn(entity),
  };
  if (config.EnableIAMEntityDetails && token.entity !== undefined) {
    if (config.ServerIDHeaderValue) {
      checkServerIdHeader(canonicalHeaders(token.entity.headers), config.ServerIDHeaderValue);
    }
    const body = await submit(token.entity, config.IAMEndpoint || undefined, config, env);
    const iam = parseEntity(body, token.entity.requestType);
    if (iam.id !== details.entityId) throw new TokenRejected('unique id mismatch in login token');
    details.clientArn = iam.arn;
    details.entityPath = iam.path;
    details.entityTags = iam.tags;
  }
  const bound = config.BoundIAMPrincipalARNs;
  const trusted =
    bound.includes(details.clientArn) ||
    (config.EnableIAMEntityDetails === true && bound.some((p) => p.endsWith('*') && globMatch(p, details.clientArn)));
  if (!trusted) throw new TokenRejected(`IAM principal ${details.clientArn} is not trusted`);
  return details;
}
