/**
 * AWS attestation for ZTS: `sts:AssumeRole` into the `<domain>.<service>` role with the task's credentials, then the
 * attestation JSON `{role, commonName, access, secret, token, taskid}` that ZTS verifies with GetCallerIdentity.
 * `@aws-sdk/client-sts` is imported lazily, here only, so nothing else in the SDK loads it.
 * The attestation carries live AWS credentials: it is never logged and never part of an error message.
 * @packageDocumentation
 */
import { type CredentialProvider, IdentityError, registerSecret, scrubSecrets } from '@ecs-identity/core';
import type { AwsCredentials } from '@ecs-identity/ecs-metadata';
import { parseRoleArn } from '@ecs-identity/ecs-metadata';
import { validateDomain, validateInstanceId, validateService } from './names.js';

/** The longest `RoleSessionName` STS accepts. @public */
export const MAX_SESSION_NAME_LENGTH = 64;

/** Which STS endpoint to call: the task's region (`regional`, default), `global` (us-east-1) or a URL (tests). @public */
export type StsEndpoint = 'regional' | 'global' | (string & {});

/** @public */
export interface AttestationOptions {
  domain: string;
  service: string;
  /** The task id (sent as `taskid`). */
  taskId: string;
  /** The role to assume, from {@link resolveService}. */
  roleArn: string;
  /** The task's region (regional STS and SigV4 region). */
  region: string;
  /** Default `regional`. */
  stsEndpoint?: StsEndpoint;
  /** Source credentials (the task role): a provider (fresh credentials are asked for each time) or a value. */
  credentials: CredentialProvider<AwsCredentials> | AwsCredentials;
  /** Default `<domain>.<service>`; at most 64 characters of `[\w+=,.@-]`. */
  sessionName?: string;
  /** Lifetime of the assumed-role credentials. Default 900 (the STS minimum: they are used once, right away). */
  durationSeconds?: number;
  /** Per-request timeout. Default 5000 ms. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The attestation document ZTS expects in `attestationData` (as a JSON string). @public */
export interface AttestationData {
  role: string;
  commonName: string;
  access: string;
  secret: string;
  token: string;
  taskid: string;
}

function isProvider(c: AttestationOptions['credentials']): c is CredentialProvider<AwsCredentials> {
  return typeof (c as CredentialProvider<AwsCredentials>).get === 'function';
}

/**
 * The attestation JSON for assumed-role credentials. Pure; the result holds secrets (never log it).
 * @public
 */
export function buildAttestationData(input: {
  domain: string;
  service: string;
  taskId: string;
  credentials: Pick<AwsCredentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;
}): string {
  const principal = `${validateDomain(input.domain)}.${validateService(input.service)}`;
  const c = input.credentials;
  if (!c?.accessKeyId || !c.secretAccessKey || !c.sessionToken) {
    throw new IdentityError(
      'ATTESTATION_FAILED',
      'attestation needs temporary credentials (access key id, secret access key and session token)',
    );
  }
  const data: AttestationData = {
    role: principal,
    commonName: principal,
    access: c.accessKeyId,
    secret: c.secretAccessKey,
    token: c.sessionToken,
    taskid: validateInstanceId(input.taskId, 'taskId'),
  };
  return JSON.stringify(data);
}

/** `RoleSessionName` rules: 2-64 characters of `[\w+=,.@-]`. @public */
export function validateSessionName(name: string): string {
  if (typeof name !== 'string' || name.length < 2 || name.length > MAX_SESSION_NAME_LENGTH) {
    throw new IdentityError(
      'INVALID_ARGUMENT',
      `the STS session name ${JSON.stringify(name)} must be 2-${MAX_SESSION_NAME_LENGTH} characters (it defaults to <domain>.<service>; pass sessionName to shorten it)`,
    );
  }
  if (!/^[\w+=,.@-]+$/.test(name)) {
    throw new IdentityError(
      'INVALID_ARGUMENT',
      `the STS session name ${JSON.stringify(name)} has characters outside [\\w+=,.@-]`,
    );
  }
  return name;
}

/** The STS endpoint URL and SigV4 region for an option value. @internal */
export function stsEndpointFor(
  endpoint: StsEndpoint,
  region: string,
  partition: string,
): { url: string; region: string } {
  const dnsSuffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  if (endpoint === 'regional') return { url: `https://sts.${region}.${dnsSuffix}`, region };
  if (endpoint === 'global') {
    if (partition !== 'aws') {
      throw new IdentityError(
        'INVALID_CONFIG',
        `the global STS endpoint exists only in the aws partition, not ${partition}`,
      );
    }
    return { url: 'https://sts.amazonaws.com', region: 'us-east-1' };
  }
  try {
    return { url: new URL(endpoint).toString(), region };
  } catch {
    throw new IdentityError('INVALID_ARGUMENT', 'stsEndpoint must be "regional", "global" or an absolute URL');
  }
}

/**
 * Assumes the service's role with the task credentials and returns the attestation JSON string for a ZTS register or
 * refresh. Call it afresh for every request: the credentials inside are short-lived.
 * @example
 * ```ts
 * const attestationData = await attest({
 *   domain: 'sports', service: 'api', taskId, region: 'us-west-2',
 *   roleArn: 'arn:aws:iam::123456789012:role/sports.api', credentials: containerCredentials(),
 * });
 * ```
 * @throws IdentityError `ATTESTATION_FAILED` (retryable when STS was unreachable or throttled)
 * @public
 */
export async function attest(options: AttestationOptions): Promise<string> {
  const domain = validateDomain(options.domain);
  const service = validateService(options.service);
  const sessionName = validateSessionName(options.sessionName ?? `${domain}.${service}`);
  const role = parseRoleArn(options.roleArn);
  if (role.kind !== 'role') throw new IdentityError('INVALID_ARGUMENT', 'roleArn must be an IAM role ARN (…:role/…)');
  if (!/^[a-z0-9-]+$/.test(options.region ?? '')) {
    throw new IdentityError('INVALID_ARGUMENT', 'region must be an AWS region name such as us-west-2');
  }
  const endpoint = stsEndpointFor(options.stsEndpoint ?? 'regional', options.region, role.partition);
  const source = isProvider(options.credentials)
    ? await options.credentials.get(options.signal ? { signal: options.signal } : undefined)
    : options.credentials;
  const timeoutMs = options.timeoutMs ?? 5000;

  // Lazy: only attestation pulls in the AWS SDK.
  const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
  const client = new STSClient({
    region: endpoint.region,
    endpoint: endpoint.url,
    credentials: async () => ({
      accessKeyId: source.accessKeyId,
      secretAccessKey: source.secretAccessKey,
      ...(source.sessionToken ? { sessionToken: source.sessionToken } : {}),
      ...(source.expiresAt ? { expiration: source.expiresAt } : {}),
    }),
    maxAttempts: 2,
    requestHandler: { requestTimeout: timeoutMs, connectionTimeout: timeoutMs },
  });
  let assumed: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined;
  try {
    const out = await client.send(
      new AssumeRoleCommand({
        RoleArn: role.arn,
        RoleSessionName: sessionName,
        DurationSeconds: options.durationSeconds ?? 900,
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
    assumed = out.Credentials;
  } catch (cause) {
    if (options.signal?.aborted) throw new IdentityError('ABORTED', 'attestation was aborted', { cause });
    const e = cause as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
    const status = e.$metadata?.httpStatusCode;
    const retryable = status === undefined || status === 429 || status >= 500 || e.name === 'Throttling';
    // The SDK's own message names the role and the reason; it carries no credentials.
    throw new IdentityError(
      'ATTESTATION_FAILED',
      scrubSecrets(
        `sts:AssumeRole into ${role.arn} failed (${e.name ?? 'error'}${status ? `, HTTP ${status}` : ''}): ${(cause as Error).message}`,
      ),
      { retryable, cause, ...(status ? { status } : {}) },
    );
  } finally {
    client.destroy();
  }
  if (!assumed?.AccessKeyId || !assumed.SecretAccessKey || !assumed.SessionToken) {
    throw new IdentityError('ATTESTATION_FAILED', `sts:AssumeRole into ${role.arn} returned no credentials`);
  }
  // Register so any later error message or log line that might echo them is scrubbed.
  registerSecret(assumed.SecretAccessKey);
  registerSecret(assumed.SessionToken);
  return buildAttestationData({
    domain,
    service,
    taskId: options.taskId,
    credentials: {
      accessKeyId: assumed.AccessKeyId,
      secretAccessKey: assumed.SecretAccessKey,
      sessionToken: assumed.SessionToken,
    },
  });
}
