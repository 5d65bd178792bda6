/**
 * The AWS credential type every package shares, and the parser for the container-credentials JSON.
 * @packageDocumentation
 */
import { type Credential, defineSecrets } from '@ecs-identity/core';
import { EcsMetadataError } from './errors.js';

/**
 * AWS credentials. `secretAccessKey` and `sessionToken` are hidden from `util.inspect`, `JSON.stringify` and
 * `String()` (core's `defineSecrets`), but stay readable as properties.
 * @public
 */
export interface AwsCredentials extends Credential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiresAt?: Date;
  /** The role the credentials belong to, when the source says (the ECS credentials endpoint does). */
  readonly roleArn?: string;
  readonly accountId?: string;
}

/** The fields of {@link awsCredentials}: an optional field may be given as `undefined` (absent). @public */
export type AwsCredentialsInput = {
  [K in keyof AwsCredentials]: AwsCredentials[K] | (undefined extends AwsCredentials[K] ? undefined : never);
};

const SECRET_KEYS = ['secretAccessKey', 'sessionToken'] as const;

/**
 * Makes an {@link AwsCredentials} with its secrets hidden. Checks that the key id and secret are non-empty strings.
 *
 * @example
 * ```ts
 * const creds = awsCredentials({ accessKeyId: 'ASIA...', secretAccessKey: '...', sessionToken: '...' });
 * JSON.stringify(creds); // secretAccessKey and sessionToken show as "[REDACTED]"
 * ```
 * @public
 */
export function awsCredentials(fields: AwsCredentialsInput): AwsCredentials {
  for (const key of ['accessKeyId', 'secretAccessKey'] as const) {
    if (typeof fields[key] !== 'string' || fields[key] === '') {
      throw new EcsMetadataError('INVALID_CREDENTIALS', `AWS credentials: ${key} must be a non-empty string`);
    }
  }
  if (fields.sessionToken !== undefined && (typeof fields.sessionToken !== 'string' || fields.sessionToken === '')) {
    throw new EcsMetadataError(
      'INVALID_CREDENTIALS',
      'AWS credentials: sessionToken must be a non-empty string when set',
    );
  }
  if (
    fields.expiresAt !== undefined &&
    (!(fields.expiresAt instanceof Date) || Number.isNaN(fields.expiresAt.getTime()))
  ) {
    throw new EcsMetadataError('INVALID_CREDENTIALS', 'AWS credentials: expiresAt must be a valid Date when set');
  }
  const credential: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken?: string;
    expiresAt?: Date;
    roleArn?: string;
    accountId?: string;
  } = { accessKeyId: fields.accessKeyId, secretAccessKey: fields.secretAccessKey };
  if (fields.sessionToken !== undefined) credential.sessionToken = fields.sessionToken;
  if (fields.expiresAt !== undefined) credential.expiresAt = fields.expiresAt;
  if (fields.roleArn !== undefined) credential.roleArn = fields.roleArn;
  if (fields.accountId !== undefined) credential.accountId = fields.accountId;
  // Only the secret fields present: defineSecrets would otherwise add an `undefined` sessionToken property.
  return defineSecrets(
    credential,
    SECRET_KEYS.filter((key) => credential[key] !== undefined),
  );
}

// RFC 3339 with a zone: Date.parse alone accepts "2020" or "March 7", which is not what the endpoint sends.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp; undefined when it is not one. @internal */
export function parseRfc3339(value: string): Date | undefined {
  if (!RFC3339.test(value)) return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * Parses the JSON the ECS credentials endpoint answers with (`AccessKeyId`, `SecretAccessKey`, `Token`,
 * `Expiration`, `RoleArn`, optional `AccountId`). Throws `INVALID_CREDENTIALS` naming the missing or malformed
 * field, and when the credentials have already expired at `nowMs`. Never puts a secret in a message.
 * @internal
 */
export function parseContainerCredentials(
  body: unknown,
  nowMs: number,
  source = 'container credentials',
): AwsCredentials {
  let doc = body;
  if (typeof body === 'string') {
    try {
      doc = JSON.parse(body);
    } catch {
      throw new EcsMetadataError('INVALID_CREDENTIALS', `${source}: the response is not valid JSON`);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new EcsMetadataError('INVALID_CREDENTIALS', `${source}: expected a JSON object`);
  }
  const record = doc as Record<string, unknown>;
  const str = (field: string, required: boolean): string | undefined => {
    const value = record[field];
    if (value === undefined || value === null) {
      if (required) throw new EcsMetadataError('INVALID_CREDENTIALS', `${source}: field ${field} is missing`);
      return undefined;
    }
    if (typeof value !== 'string' || value === '') {
      throw new EcsMetadataError('INVALID_CREDENTIALS', `${source}: field ${field} must be a non-empty string`);
    }
    return value;
  };
  const accessKeyId = str('AccessKeyId', true) as string;
  const secretAccessKey = str('SecretAccessKey', true) as string;
  const sessionToken = str('Token', false);
  const expiration = str('Expiration', true) as string;
  const roleArn = str('RoleArn', false);
  const accountId = str('AccountId', false);
  const expiresAt = parseRfc3339(expiration);
  if (expiresAt === undefined) {
    throw new EcsMetadataError(
      'INVALID_CREDENTIALS',
      `${source}: field Expiration ${JSON.stringify(expiration.slice(0, 40))} is not an RFC 3339 timestamp`,
    );
  }
  if (expiresAt.getTime() <= nowMs) {
    throw new EcsMetadataError(
      'INVALID_CREDENTIALS',
      `${source}: field Expiration ${expiresAt.toISOString()} is in the past (now ${new Date(nowMs).toISOString()})`,
    );
  }
  if (accountId !== undefined && !/^[0-9]{12}$/.test(accountId)) {
    throw new EcsMetadataError('INVALID_CREDENTIALS', `${source}: field AccountId is not 12 digits`);
  }
  return awsCredentials({ accessKeyId, secretAccessKey, expiresAt, sessionToken, roleArn, accountId });
}
