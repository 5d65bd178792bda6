/**
 * AWS attestation for ZTS: `sts:AssumeRole` into the `<domain>.<service>` role with the task's credentials, then the
 * attestation JSON `{role, commonName, access, secret, token, taskid}` that ZTS verifies with GetCallerIdentity.
 * `@aws-sdk/client-sts` is loaded on first use by the loader the build gives (Node's build: a lazy `require` in
 * `node/sts-sdk.ts`; the browser-safe build has none, so no bundler puts the SDK in its bundles: the caller passes
 * `loadSdk`).
 * The attestation carries live AWS credentials: it is never logged and never part of an error message.
 * @packageDocumentation
 */
import {
  type CredentialProvider,
  createHttpClient,
  type HttpClient,
  IdentityError,
  registerSecret,
} from '@ecs-identity/core';
import type { AwsCredentials } from '@ecs-identity/ecs-metadata';
import { parseRoleArn } from '@ecs-identity/ecs-metadata';
import { AthenzError } from './errors.js';
import { validateDomain, validateInstanceId, validateService } from './names.js';
import { stsError, stsRequestHandler } from './sts-request-handler.js';
import { USER_AGENT, VERSION } from './version.js';

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
  /** The role to assume, as the context resolves it (siad's naming rules). */
  roleArn: string;
  /** The task's region (regional STS and SigV4 region). */
  region: string;
  /** Default `regional`. */
  stsEndpoint?: StsEndpoint | undefined;
  /**
   * Loads `@aws-sdk/client-sts` (on the first attestation). Default in Node: `import('@aws-sdk/client-sts')`. The
   * browser-safe build has no default (a bundler would put the SDK in every bundle of the entry): there, pass
   * `() => import('@aws-sdk/client-sts')`; without it, creating the attestor is `INVALID_CONFIG`.
   */
  loadSdk?: (() => Promise<typeof import('@aws-sdk/client-sts')>) | undefined;
  /** Source credentials (the task role): a provider (fresh credentials are asked for each time) or a value. */
  credentials: CredentialProvider<AwsCredentials> | AwsCredentials;
  /**
   * siad's `omit_domain`: the attestation's `role` is `<service>` (the IAM role assumed is then named `<service>`, as
   * siad names it); `commonName` stays `<domain>.<service>`. Default false.
   */
  omitDomain?: boolean | undefined;
  /** Default: the attestation role, `<domain>.<service>` (`<service>` with `omitDomain`); at most 64 characters of `[\w+=,.@-]`. */
  sessionName?: string | undefined;
  /** Lifetime of the assumed-role credentials. Default 900 (the STS minimum: they are used once, right away). */
  durationSeconds?: number | undefined;
  /** Per-request timeout. Default 5000 ms. */
  timeoutMs?: number | undefined;
  /**
   * The HTTP client the STS requests go through (core's `createHttpClient`): its URL policy, size cap and abort
   * apply. Default: one with `timeoutMs`, which refuses plain http except to loopback and the ECS link-local
   * addresses (pass a client made with `allowInsecureHttp` to opt in).
   */
  http?: HttpClient | undefined;
  signal?: AbortSignal | undefined;
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
 * @internal
 */
export function buildAttestationData(input: {
  domain: string;
  service: string;
  taskId: string;
  /** `role` is `<service>` instead of `<domain>.<service>` (siad's `omit_domain`). */
  omitDomain?: boolean | undefined;
  credentials: Pick<AwsCredentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;
}): string {
  const service = validateService(input.service);
  const principal = `${validateDomain(input.domain)}.${service}`;
  const c = input.credentials;
  if (!c?.accessKeyId || !c.secretAccessKey || !c.sessionToken) {
    throw new IdentityError(
      'ATTESTATION_FAILED',
      'attestation needs temporary credentials (access key id, secret access key and session token)',
    );
  }
  const data: AttestationData = {
    // ZTS (InstanceAWSProvider.confirmInstance) accepts <domain>.<service> or <service> here, and checks the attested
    // credentials' ARN against assumed-role/<role>/.
    role: input.omitDomain ? service : principal,
    commonName: principal,
    access: c.accessKeyId,
    secret: c.secretAccessKey,
    token: c.sessionToken,
    taskid: validateInstanceId(input.taskId, 'taskId'),
  };
  return JSON.stringify(data);
}

/** `RoleSessionName` rules: 2-64 characters of `[\w+=,.@-]`. @internal */
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

/** What one attestation needs besides the STS client: the names, the task and the role. @public */
export type AttestationRequest = Omit<
  AttestationOptions,
  'region' | 'stsEndpoint' | 'loadSdk' | 'credentials' | 'timeoutMs' | 'http'
>;

/** Settings of an {@link StsAttestor}: fixed for its life (one task, one credential source). @public */
export type StsAttestorOptions = Pick<
  AttestationOptions,
  'region' | 'stsEndpoint' | 'loadSdk' | 'credentials' | 'timeoutMs' | 'http'
>;

/**
 * One STS client kept for every attestation of a task (the providers make one each), so its set-up is paid once.
 * Every {@link StsAttestor.attest} call still asks the credential source afresh and makes a new `sts:AssumeRole`.
 * @public
 */
export interface StsAttestor {
  /** A new `sts:AssumeRole` with fresh source credentials, and the attestation JSON string (never log it). */
  attest(request: AttestationRequest): Promise<string>;
  /** Releases the client's sockets. */
  close(): void;
}

/**
 * STS client settings the SDK would otherwise look up on every new client (each a chain through the environment and
 * the shared config files, every link that finds nothing failing with an error and its stack trace), although none
 * can change what an attestation does: `maxAttempts` is 1 (so no retry mode applies), our request handler sets the
 * timeouts (what the defaults mode tunes besides the retry mode), and AssumeRole is signed with SigV4 only. FIPS and
 * dual-stack are still the SDK's to read: they decide whether the explicit endpoint is accepted.
 */
const FIXED_STS_CONFIG: Pick<
  import('@aws-sdk/client-sts').STSClientConfig,
  'retryMode' | 'defaultsMode' | 'authSchemePreference' | 'sigv4aSigningRegionSet'
> = {
  retryMode: 'standard',
  defaultsMode: 'legacy',
  authSchemePreference: ['sigv4'],
  sigv4aSigningRegionSet: [],
};

/** The `@aws-sdk/client-sts` module, as `import()` gives it. @internal */
export type StsModule = typeof import('@aws-sdk/client-sts');

function checkRegion(region: string | undefined): string {
  if (!/^[a-z0-9-]+$/.test(region ?? '')) {
    throw new IdentityError('INVALID_ARGUMENT', 'region must be an AWS region name such as us-west-2');
  }
  return region as string;
}

/**
 * The browser-safe build's answer when the caller gave no SDK loader: `INVALID_CONFIG` naming what to pass.
 * @internal
 */
export function noSdk(api: string, option: string): never {
  throw new AthenzError(
    'INVALID_CONFIG',
    `${api}: the browser-safe build does not load the AWS SDK by itself (a bundler would put it in every bundle): pass ${option}: () => import('@aws-sdk/client-sts') (Node's build loads it by default)`,
  );
}

/**
 * An {@link StsAttestor} whose SDK comes from `options.loadSdk`, else the build's `defaultLoad` (Node's: a lazy
 * `require`; the browser-safe build's: none, and then `INVALID_CONFIG`). The entries export it as `stsAttestor`.
 * @internal
 */
export function stsAttestorWith(
  defaultLoad: (() => Promise<StsModule>) | undefined,
  options: StsAttestorOptions,
): StsAttestor {
  const region = checkRegion(options.region);
  const load = options.loadSdk ?? defaultLoad ?? noSdk('stsAttestor', 'loadSdk');
  const credentials = options.credentials;
  const timeoutMs = options.timeoutMs ?? 5000;
  // Every STS request goes through core's transport: one network policy for the SDK's requests and ours.
  const requestHandler = stsRequestHandler(
    options.http ?? createHttpClient({ timeoutMs, userAgent: USER_AGENT }),
    timeoutMs,
  );
  // The client's region and URL depend on the partition of the role, known with the first request.
  let client: { key: string; sts: InstanceType<StsModule['STSClient']> } | undefined;
  let closed = false;
  // The source credentials of the attestations in flight, asked for once per attestation (the SDK asks for them more
  // than once while signing one request). Concurrent attestations share the answer: they have the same source.
  let pending: Promise<AwsCredentials> | undefined;
  let inFlight = 0;
  const source = (): Promise<AwsCredentials> =>
    isProvider(credentials) ? credentials.get() : Promise.resolve(credentials);

  async function clientFor(endpoint: { url: string; region: string }) {
    const { STSClient } = await load();
    const key = `${endpoint.region} ${endpoint.url}`;
    if (client?.key === key) return client.sts;
    client?.sts.destroy();
    // The source is asked at every signing, so each AssumeRole is signed with the current credentials: `memoized`
    // tells the SDK not to cache what it returns (our providers cache and refresh by themselves).
    const identity = Object.assign(
      async () => {
        const c = await (pending ?? source());
        return {
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
          ...(c.expiresAt ? { expiration: c.expiresAt } : {}),
        };
      },
      { memoized: true },
    );
    const sts = new STSClient({
      region: endpoint.region,
      endpoint: endpoint.url,
      credentials: identity,
      // One attempt: the callers retry with core's retry (its backoff, Retry-After cap and deadline), each time
      // with a fresh attestation.
      maxAttempts: 1,
      requestHandler,
      // The SDK's User-Agent, with ours appended (ecs-identity/<version>).
      customUserAgent: [['ecs-identity', VERSION]],
      ...FIXED_STS_CONFIG,
    });
    client = { key, sts };
    return sts;
  }

  async function attestOnce(request: AttestationRequest): Promise<string> {
    if (closed) throw new IdentityError('INVALID_ARGUMENT', 'the STS attestor is closed');
    const domain = validateDomain(request.domain);
    const service = validateService(request.service);
    const sessionName = validateSessionName(
      request.sessionName ?? (request.omitDomain ? service : `${domain}.${service}`),
    );
    const role = parseRoleArn(request.roleArn);
    if (role.kind !== 'role') {
      throw new IdentityError('INVALID_ARGUMENT', 'roleArn must be an IAM role ARN (…:role/…)');
    }
    const endpoint = stsEndpointFor(options.stsEndpoint ?? 'regional', region, role.partition);
    inFlight++;
    let assumed:
      | { AccessKeyId?: string | undefined; SecretAccessKey?: string | undefined; SessionToken?: string | undefined }
      | undefined;
    try {
      pending ??= source();
      // awaited before the SDK asks for them, so a failing source reports its own error, not an STS one
      await pending;
      const sts = await clientFor(endpoint);
      const { AssumeRoleCommand } = await load();
      if (request.signal?.aborted) throw new IdentityError('ABORTED', 'attestation was aborted');
      try {
        const out = await sts.send(
          new AssumeRoleCommand({
            RoleArn: role.arn,
            RoleSessionName: sessionName,
            DurationSeconds: request.durationSeconds ?? 900,
          }),
          request.signal ? { abortSignal: request.signal } : {},
        );
        assumed = out.Credentials;
      } catch (cause) {
        throw stsError(cause, role.arn, request.signal);
      }
    } finally {
      if (--inFlight === 0) pending = undefined;
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
      taskId: request.taskId,
      ...(request.omitDomain ? { omitDomain: true } : {}),
      credentials: {
        accessKeyId: assumed.AccessKeyId,
        secretAccessKey: assumed.SecretAccessKey,
        sessionToken: assumed.SessionToken,
      },
    });
  }

  return {
    attest: attestOnce,
    close() {
      closed = true;
      client?.sts.destroy();
      client = undefined;
    },
  };
}
