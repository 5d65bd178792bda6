/**
 * The ZTS AWS provider's attestation check (`InstanceAWSProvider.confirmInstance` / `refreshInstance`, ECS flavour):
 * the attestation JSON names the role `<domain>.<service>` (or `<service>`, siad's omit_domain) and carries temporary
 * credentials; the provider calls `sts:GetCallerIdentity` with them and requires
 * `arn:aws:sts::<account>:assumed-role/<role>/...` (`AWSStsCredentialsAttestationValidator.validateIdentity`; the
 * `aws` partition unless the fake is told otherwise).
 * @packageDocumentation
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';

/** The credentials an attestation carries. @public */
export interface AttestedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/**
 * Asks STS who the credentials belong to and returns the caller ARN; throws when STS refuses. Injectable so the ZTS
 * fake can run without the AWS fake; the default signs a real `GetCallerIdentity` and posts it to the AWS fake.
 * @public
 */
export type CallerIdentityFn = (credentials: AttestedCredentials, signingDate: Date) => Promise<string>;

/** The attestation JSON (what SIA sends as `attestationData`). Secret fields are never logged. @public */
export interface AwsAttestationData {
  role?: string;
  commonName?: string;
  access?: string;
  secret?: string;
  token?: string;
  taskid?: string;
  document?: string;
  signature?: string;
}

const STS_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

/**
 * A {@link CallerIdentityFn} that signs `GetCallerIdentity` with `@smithy/signature-v4` (service `sts`, the given
 * region) and POSTs it to `url` (the testkit AWS emulator), with a timeout.
 * @public
 */
export function stsCallerIdentity(url: string, region = 'us-east-1', timeoutMs = 5000): CallerIdentityFn {
  const target = new URL(url);
  return async (credentials, signingDate) => {
    const signer = new SignatureV4({
      service: 'sts',
      region,
      sha256: Sha256,
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
    });
    const path = target.pathname || '/';
    const signed = await signer.sign(
      {
        method: 'POST',
        protocol: target.protocol,
        hostname: target.hostname,
        ...(target.port ? { port: Number(target.port) } : {}),
        path,
        query: {},
        headers: {
          host: target.host,
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        },
        body: STS_BODY,
      },
      { signingDate },
    );
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers)) if (k.toLowerCase() !== 'host') headers[k] = v;
    const res = await fetch(new URL(path, target), {
      method: 'POST',
      headers,
      body: STS_BODY,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error(`GetCallerIdentity answered ${res.status}`);
    const doc = new XMLParser().parse(text) as {
      GetCallerIdentityResponse?: { GetCallerIdentityResult?: { Arn?: unknown } };
    };
    const arn = doc.GetCallerIdentityResponse?.GetCallerIdentityResult?.Arn;
    if (typeof arn !== 'string') throw new Error('GetCallerIdentity answer has no Arn');
    return arn;
  };
}

/** What the provider needs to know to check an attestation. @internal */
export interface AttestationContext {
  domain: string;
  service: string;
  /** The AWS account registered for the domain (ZMS `awsAccount`), if any. */
  awsAccount: string | undefined;
  /** The partitions the validator accepts (the stock one: `aws` only). */
  partitions: readonly string[];
  /** The provider's SAN DNS verdict (computed from the CSR by the caller). */
  sanDnsValid: boolean;
  /** Refresh asks the provider to `refreshInstance`, which first requires attestation data. */
  refresh: boolean;
  callerIdentity: CallerIdentityFn | undefined;
  signingDate: Date;
}

/**
 * Runs the provider's checks; resolves to undefined when the instance is confirmed, else to the provider's error text
 * (the endpoint answers 403 `unable to verify attestation data: <text>`).
 * @internal
 */
export async function confirmAwsInstance(
  attestation: string | undefined,
  ctx: AttestationContext,
): Promise<string | undefined> {
  // InstanceAWSProvider.refreshInstance: no attestation data on refresh
  if (ctx.refresh && !attestation) return 'No attestation data provided';
  let info: AwsAttestationData;
  try {
    const parsed: unknown = JSON.parse(attestation ?? '');
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
    info = parsed as AwsAttestationData;
  } catch {
    return 'Unable to parse attestation data';
  }
  // InstanceAWSProvider.confirmInstance / refreshInstance: the domain's AWS account (ZMS) is required
  if (!ctx.awsAccount) return 'Unable to extract AWS Account id';
  // ...and the attested role is <domain>.<service> or <service> (siad's omit_domain; the account pins the domain)
  const serviceName = `${ctx.domain}.${ctx.service}`;
  if (!(info.role === serviceName || info.role === ctx.service)) {
    return `Service name mismatch: ${info.role ?? 'null'} vs. ${serviceName}`;
  }
  // InstanceAWSProvider.validateSanDnsNames (InstanceUtils.validateCertRequestSanDnsNames)
  if (!ctx.sanDnsValid) return 'Unable to validate certificate request hostnames';
  // InstanceAWSProvider.verifyInstanceIdentity -> AWSStsCredentialsAttestationValidator.validateIdentity
  if (!(await identityVerified(info, ctx))) return 'Unable to verify instance identity credentials';
  return undefined;
}

/**
 * `AWSStsCredentialsAttestationValidator.validateIdentity`: all three credential parts present (`getInstanceClient`),
 * `GetCallerIdentity` answers, and its ARN starts with `arn:aws:sts::<account>:assumed-role/<attested role>/` (the
 * `aws` partition is written into the Java code; `partition` widens it here).
 */
async function identityVerified(info: AwsAttestationData, ctx: AttestationContext): Promise<boolean> {
  if (!info.access || !info.secret || !info.token || !ctx.callerIdentity) return false;
  try {
    const arn = await ctx.callerIdentity(
      { accessKeyId: info.access, secretAccessKey: info.secret, sessionToken: info.token },
      ctx.signingDate,
    );
    return ctx.partitions.some((p) => arn.startsWith(`arn:${p}:sts::${ctx.awsAccount}:assumed-role/${info.role}/`));
  } catch {
    return false;
  }
}
