/**
 * The `ConsulToken` credential and its parser from Consul's ACL token JSON.
 * @packageDocumentation
 */
import { type Credential, defineSecrets } from '@ecs-identity/core';
import { ConsulError } from './errors.js';

/**
 * A Consul ACL token from a login. `secretId` is the bearer secret: it stays readable as a property but shows as
 * `[REDACTED]` in `util.inspect`, `JSON.stringify`, `String()`, error messages and logs (core's `defineSecrets`).
 * @public
 */
export interface ConsulToken extends Credential {
  /** The token's public id (safe to log). */
  readonly accessorId: string;
  /** The secret to send as `X-Consul-Token`. */
  readonly secretId: string;
  readonly authMethod?: string;
  readonly description?: string;
  readonly local?: boolean;
  readonly namespace?: string;
  readonly partition?: string;
  /** From `ExpirationTime`; absent when the token does not expire. */
  readonly expiresAt?: Date;
  readonly createdAt?: Date;
  readonly serviceIdentities: readonly { serviceName: string; datacenters?: readonly string[] }[];
  readonly roles: readonly { id?: string; name?: string }[];
  readonly policies: readonly { id?: string; name?: string }[];
}

function str(doc: Record<string, unknown>, key: string): string | undefined {
  const v = doc[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function date(doc: Record<string, unknown>, key: string, what: string): Date | undefined {
  const v = str(doc, key);
  if (v === undefined || v.startsWith('0001-01-01')) return undefined; // Go's zero time means "none"
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) {
    throw new ConsulError('INVALID_RESPONSE', `${what}: ${key} ${JSON.stringify(v.slice(0, 40))} is not a timestamp`);
  }
  return d;
}

function links(value: unknown): { id?: string; name?: string }[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (typeof item !== 'object' || item === null) return [];
    const r = item as Record<string, unknown>;
    const id = str(r, 'ID');
    const name = str(r, 'Name');
    return [{ ...(id === undefined ? {} : { id }), ...(name === undefined ? {} : { name }) }];
  });
}

function serviceIdentities(value: unknown): ConsulToken['serviceIdentities'] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (typeof item !== 'object' || item === null) return [];
    const r = item as Record<string, unknown>;
    const serviceName = str(r, 'ServiceName');
    if (serviceName === undefined) return [];
    const dcs = Array.isArray(r.Datacenters) ? r.Datacenters.filter((d): d is string => typeof d === 'string') : [];
    return [{ serviceName, ...(dcs.length === 0 ? {} : { datacenters: dcs }) }];
  });
}

/**
 * Parses the ACL token JSON that `/v1/acl/login` and `/v1/acl/token/self` answer with. Requires `AccessorID` and
 * `SecretID`; `INVALID_RESPONSE` naming `what` otherwise (never quoting the secret).
 * @public
 */
export function parseConsulToken(body: unknown, what = 'Consul ACL token'): ConsulToken {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ConsulError('INVALID_RESPONSE', `${what}: expected a JSON object`);
  }
  const doc = body as Record<string, unknown>;
  const accessorId = str(doc, 'AccessorID');
  const secretId = str(doc, 'SecretID');
  if (accessorId === undefined) throw new ConsulError('INVALID_RESPONSE', `${what}: AccessorID is missing`);
  if (secretId === undefined) throw new ConsulError('INVALID_RESPONSE', `${what}: SecretID is missing`);
  const token: Record<string, unknown> = {
    accessorId,
    secretId,
    serviceIdentities: serviceIdentities(doc.ServiceIdentities),
    roles: links(doc.Roles),
    policies: links(doc.Policies),
  };
  for (const [from, to] of [
    ['AuthMethod', 'authMethod'],
    ['Description', 'description'],
    ['Namespace', 'namespace'],
    ['Partition', 'partition'],
  ] as const) {
    const v = str(doc, from);
    if (v !== undefined) token[to] = v;
  }
  if (typeof doc.Local === 'boolean') token.local = doc.Local;
  const expiresAt = date(doc, 'ExpirationTime', what);
  if (expiresAt !== undefined) token.expiresAt = expiresAt;
  const createdAt = date(doc, 'CreateTime', what);
  if (createdAt !== undefined) token.createdAt = createdAt;
  return defineSecrets(token as unknown as ConsulToken, ['secretId']);
}
