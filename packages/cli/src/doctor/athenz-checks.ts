/**
 * The Athenz checks: the service the task role names (`<domain>.<service>-service`), the IAM role attestation
 * assumes, the partition ZTS's validator accepts, and ZTS's reachability and TLS.
 * @packageDocumentation
 */
import {
  type AthenzContext,
  athenzContext,
  createZtsClient,
  type ResolvedAthenzContext,
} from '@ecs-identity/athenz-zts';
import type { CredentialProvider } from '@ecs-identity/core';
import type { AwsCredentials, TaskIdentity } from '@ecs-identity/ecs-metadata';
import { athenzNamesOf, stsEndpointOf } from '../athenz-setup.js';
import type { CommandContext } from '../command.js';
import { unreachableHint, unreachableKind } from './reachability.js';
import { type CheckResult, errorText, failedWith, result } from './report.js';

const str = (values: CommandContext['values'], name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/**
 * The Athenz context `athenz post` would use (athenz-zts's `athenzContext`: the task, the names from the flags, else
 * the task role), for the service and attestation checks. Undefined without the task metadata and credentials.
 */
export function doctorContext(
  values: CommandContext['values'],
  rolePath: string | undefined,
  task: TaskIdentity | undefined,
  credentials: CredentialProvider<AwsCredentials> | undefined,
  timeoutMs: number,
): AthenzContext | undefined {
  if (task === undefined || credentials === undefined) return undefined;
  return athenzContext({
    env: {},
    task,
    credentials,
    names: athenzNamesOf(values, rolePath),
    sts: { endpoint: stsEndpointOf(values, task.partition), timeoutMs },
  });
}

/** Which Athenz service the task is, and the IAM role its attestation assumes: what `athenz post` would use. */
export async function athenzServiceCheck(
  values: CommandContext['values'],
  context: AthenzContext | undefined,
  taskRoleArn: string | undefined,
): Promise<{ check: CheckResult; service?: ResolvedAthenzContext }> {
  const name = 'athenz service';
  const named = str(values, 'domain') !== undefined || str(values, 'iam-role-arn') !== undefined;
  if (context === undefined || (!named && taskRoleArn === undefined)) {
    return { check: result(name, 'skip', 'needs the task role (or -domain and -service, or -iam-role-arn)') };
  }
  try {
    const resolved = await context.resolve();
    const from = resolved.source === 'options' ? '-domain/-service' : resolved.source;
    return {
      check: result(
        name,
        'ok',
        `${resolved.domain}.${resolved.service} (from ${from}); attestation assumes ${resolved.attestationRoleArn}`,
      ),
      service: resolved,
    };
  } catch (e) {
    return failedWith(
      name,
      e,
      'name the task role <domain>.<service>-service (the Athenz convention siad reads), or pass -domain and -service, or set ATHENZ_SIA_IAM_ROLE_ARN=arn:aws:iam::<account>:role/<domain>.<service>',
    );
  }
}

/** ZTS's stock attestation validator accepts `arn:aws:sts::` identities only. */
export function athenzPartitionCheck(task: TaskIdentity | undefined): CheckResult {
  const name = 'athenz partition';
  if (task === undefined) return result(name, 'skip', 'needs the task metadata');
  if (task.partition === 'aws') return result(name, 'ok', 'aws: the partition ZTS attestation accepts');
  return result(
    name,
    'warn',
    `the task runs in ${task.partition}; ZTS's stock validator (AWSStsCredentialsAttestationValidator) accepts arn:aws:sts:: identities only`,
    `register and refresh work only with a ZTS whose attestation validator was built for ${task.partition}`,
  );
}

/**
 * `sts:AssumeRole` into the attestation role with the task role's credentials, through the context's attestor (the one
 * the identity provider uses). The assumed credentials are dropped at once.
 */
export async function attestationRoleCheck(
  service: ResolvedAthenzContext | undefined,
  timeoutMs: number,
): Promise<CheckResult> {
  const name = 'athenz attestation';
  if (service === undefined) {
    return result(name, 'skip', 'needs the task metadata, the task role and the Athenz service');
  }
  try {
    await service.attest(AbortSignal.timeout(timeoutMs));
    return result(name, 'ok', `sts:AssumeRole into ${service.attestationRoleArn} works`);
  } catch (e) {
    return result(
      name,
      'fail',
      errorText(e),
      `create the IAM role ${service.attestationRoleArn} with a trust policy that lets the task role call sts:AssumeRole (siad's role_path: -role-path / ATHENZ_SIA_ROLE_PATH when the role lives under another path)`,
    );
  }
}

/** ZTS answers over TLS with the CA bundle given (its public JWKS: no client certificate needed). */
export async function ztsCheck(url: string, caBundle: string | undefined, timeoutMs: number): Promise<CheckResult> {
  const name = 'zts';
  const zts = createZtsClient({ url, caBundle, timeoutMs, keepAlive: false });
  try {
    // The transport's per-request timeout is the deadline (a TIMEOUT, not an ABORTED, when it passes).
    const jwks = await zts.jwks();
    const keys = jwks.keys.length;
    return result(name, 'ok', `${url} answered over TLS (${keys} signing key${keys === 1 ? '' : 's'})`);
  } catch (e) {
    const kind = unreachableKind(e);
    return result(
      name,
      'fail',
      errorText(e),
      unreachableHint(kind, `ZTS at ${url}`, '-ztscacert FILE', '-zts and -ztsport', timeoutMs),
    );
  } finally {
    await zts.close();
  }
}
