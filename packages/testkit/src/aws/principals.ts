import { randomBytes } from 'node:crypto';

// The fake AWS's identity state: roles, users, long-term keys and the session credentials it issued.

/**
 * Who may assume a role. A list matches the caller's IAM principal ARN (`arn:aws:iam::<acct>:role/<path><name>` for a
 * role session, the user ARN for a user) exactly; `arn:aws:iam::<acct>:root` admits every principal of that account
 * and `*` everyone. A function decides freely. An empty list (the default) admits no one, like a role whose trust
 * policy names nobody.
 * @public
 */
export type TrustRule = readonly string[] | ((caller: CallerIdentity) => boolean);

/** @public */
export interface RoleSpec {
  name: string;
  /** IAM path, `/` (default) or `/a/b/`. */
  path?: string;
  tags?: Record<string, string>;
  trust?: TrustRule;
  /** The role's MaxSessionDuration in seconds (3600..43200). Default 3600. */
  maxSessionDurationSeconds?: number;
}

/** @public */
export interface UserSpec {
  name: string;
  path?: string;
  tags?: Record<string, string>;
}

/** A role as IAM stores it. @public */
export interface FakeRole {
  readonly name: string;
  readonly path: string;
  readonly arn: string;
  /** `AROA...` */
  readonly roleId: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly maxSessionDurationSeconds: number;
  readonly createdAt: Date;
  readonly trust: TrustRule;
}

/** @public */
export interface FakeUser {
  readonly name: string;
  readonly path: string;
  readonly arn: string;
  /** `AIDA...` */
  readonly userId: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly createdAt: Date;
}

/** What `GetCallerIdentity` says about the signer, plus the IAM principal behind it. @public */
export interface CallerIdentity {
  /** `arn:aws:sts::<acct>:assumed-role/<role>/<session>` or the user ARN. */
  readonly arn: string;
  /** `<RoleId>:<session>` or the user's `AIDA...` id. */
  readonly userId: string;
  readonly account: string;
  /** The IAM ARN: the role ARN (with its path) or the user ARN. */
  readonly principalArn: string;
  readonly kind: 'role-session' | 'user';
  readonly role?: FakeRole;
  readonly user?: FakeUser;
}

/**
 * Credentials the fake issued, shaped like `@ecs-identity/ecs-metadata`'s `AwsCredentials`.
 * @public
 */
export interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiresAt?: Date;
  readonly roleArn?: string;
  readonly accountId: string;
}

export interface KeyRecord {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiresAt?: number;
  readonly caller: CallerIdentity;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Random upper-case base32, the alphabet of AWS key and principal ids. */
export function randomId(prefix: string, length: number): string {
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

/** A 40-character secret access key. */
export const randomSecret = (): string => randomBytes(30).toString('base64');

/** A long opaque session token like real STS ones (~400 characters), so header size limits get exercised. */
export const randomSessionToken = (): string => `IQoJb3JpZ2luX2Vj${randomBytes(300).toString('base64')}`;

export const PATH_PATTERN = /^\/(?:[\x21-\x7e]+\/)?$/;
const NAME_PATTERN = /^[\w+=,.@-]{1,64}$/;

export function normalizePath(path: string | undefined, what: string): string {
  const p = path ?? '/';
  if (p.length > 512 || !PATH_PATTERN.test(p)) {
    throw new TypeError(`${what} path must be "/" or start and end with "/" (got ${JSON.stringify(p)})`);
  }
  return p;
}

export function checkName(name: string, what: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new TypeError(`${what} name must match [\\w+=,.@-]{1,64} (got ${JSON.stringify(name)})`);
  }
  return name;
}

/** True when `rule` lets `caller` assume the role. */
export function trusts(rule: TrustRule, caller: CallerIdentity): boolean {
  if (typeof rule === 'function') return rule(caller);
  const partition = caller.principalArn.split(':')[1];
  const root = `arn:${partition}:iam::${caller.account}:root`;
  return rule.some((p) => p === '*' || p === caller.principalArn || p === root);
}
