/**
 * What IAM says of the role (or user) a bearer token names: the request the token embeds for entity details, sent
 * as it is, the way a Consul server forwards it. A role's path and tags are what an auth method with entity details
 * binds on, so this is how a task can see, before logging in, what Consul will see.
 * @packageDocumentation
 */
import type { HttpClient } from '@ecs-identity/core';
import { type BearerTokenOptions, buildBearerToken } from './bearer-token.js';
import { CREDENTIAL_ERRORS, sendAwsQuery } from './caller-identity.js';
import { ConsulError } from './errors.js';
import { xmlChild as child, parseXml, xmlText as text } from './xml.js';

/** The role or user an `iam:GetRole` / `iam:GetUser` answer describes (no secret). @public */
export interface IamEntityDetails {
  readonly arn: string;
  /** The role's (or user's) name, without its path. */
  readonly name: string;
  /** The IAM path, `/` at least. */
  readonly path: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** @public */
export interface IamEntityOptions extends Omit<BearerTokenOptions, 'entity'> {
  /** The client the IAM request goes through (default: core's `createHttpClient()`). */
  http?: HttpClient | undefined;
}

/** One header of a Go-style `{ "Name": ["value"] }` map, by name in any case. */
function header(headers: Record<string, string[]>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key]?.[0];
}

/** The embedded entity request of a token built here (its own layout, so a mismatch is our bug, said plainly). */
function embeddedRequest(bearerToken: string): { url: URL; headers: Record<string, string>; body: string } {
  const token = JSON.parse(bearerToken) as { iam_request_headers: string };
  const stsHeaders = JSON.parse(atob(token.iam_request_headers)) as Record<string, string[]>;
  const url = header(stsHeaders, 'x-consul-iam-getentity-url');
  const signed = header(stsHeaders, 'x-consul-iam-getentity-headers');
  const body = header(stsHeaders, 'x-consul-iam-getentity-body');
  if (url === undefined || signed === undefined || body === undefined) {
    throw new ConsulError('INVALID_ARGUMENT', 'the bearer token embeds no iam:GetRole / iam:GetUser request');
  }
  const headers = Object.fromEntries(
    Object.entries(JSON.parse(signed) as Record<string, string[]>).map(([k, v]) => [k, v[0] ?? '']),
  );
  return { url: new URL(url), headers, body };
}

/**
 * Sends the `iam:GetRole` (or `iam:GetUser`) request a bearer token with entity details embeds, built by
 * {@link buildBearerToken} with the same options, and reads the answer: the ARN, name, path and tags Consul's auth
 * method would see. IAM refusing it is an IdentityError with AWS's code in the message: `HTTP_STATUS` with status 403
 * for `AccessDenied` (the role may not read itself: a login with entity details would fail the same way),
 * `INVALID_CREDENTIALS` for credentials AWS refuses.
 *
 * @example
 * ```ts
 * const role = await getIamEntity({ credentials: await containerCredentials().get(), region: 'us-west-2' });
 * console.log(role.path, role.tags['consul.hashicorp.com.service-name']);
 * ```
 * @public
 */
export async function getIamEntity(options: IamEntityOptions): Promise<IamEntityDetails> {
  const request = embeddedRequest(await buildBearerToken({ ...options, entity: true }));
  const action = request.body.startsWith('Action=GetUser') ? 'GetUser' : 'GetRole';
  const signed = { method: 'POST' as const, url: request.url.href, headers: request.headers, body: request.body };
  // AccessDenied here is a missing iam:GetRole permission, not unusable credentials.
  const refusals = new Set([...CREDENTIAL_ERRORS].filter((code) => code !== 'AccessDenied'));
  const response = await sendAwsQuery(`iam:${action}`, request.url, signed, options, refusals);
  const entity = child(
    child(child(await parseXml(response.text()), `${action}Response`), `${action}Result`),
    action === 'GetRole' ? 'Role' : 'User',
  );
  const arn = text(child(entity, 'Arn'));
  const name = text(child(entity, action === 'GetRole' ? 'RoleName' : 'UserName'));
  if (arn === undefined || name === undefined) {
    throw new ConsulError('INVALID_RESPONSE', `iam:${action} at ${request.url.origin}: the answer names no entity`);
  }
  const members = child(child(entity, 'Tags'), 'member');
  const tags: Record<string, string> = {};
  for (const m of Array.isArray(members) ? members : members === undefined ? [] : [members]) {
    const key = text(child(m, 'Key'));
    if (key !== undefined) tags[key] = text(child(m, 'Value')) ?? '';
  }
  return { arn, name, path: text(child(entity, 'Path')) ?? '/', tags };
}
