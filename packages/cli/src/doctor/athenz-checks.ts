/**
 * The Athenz checks: the service the task role names (`<domain>.<service>-service`), the IAM role attestation
 * assumes, the partition ZTS's validator accepts, and ZTS's reachability and TLS.
 * @packageDocumentation
 */
import {
  createZtsClient,
  type ResolvedService,
  resolveService,
  stsAttestor,
  ztsTransport,
} from '@ecs-identity/athenz-zts/node';
import type { CredentialProvider } from '@ecs-identity/core';
import type { AwsCredentials, TaskIdentity } from '@ecs-identity/ecs-metadata';
import { stsEndpointOf } from '../athenz-setup.js';
import type { CommandContext } from '../command.js';
import { unreachableHint, unreachableKind } from './reachability.js';
import { type CheckResult, errorText, failedWith, result } from './report.js';

const str = (values: CommandContext['values'], name: string): string | undefined => {
  const v = values[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/** Which Athenz service the task is, and the IAM role its attestation assumes: what `athenz post` would use. */
export function athenzServiceCheck(
  values: CommandContext['values'],
  rolePath: string | undefined,
  task: TaskIdentity | undefined,
  taskRoleArn: string | undefined,
): { check: CheckResult; service?: ResolvedService } {
  const name = 'athenz service';
  const domain = str(values, 'domain');
  const service = str(values, 'service');
  const iamRoleArn = str(values, 'iam-role-arn');
  if (domain === undefined && iamRoleArn === undefined && taskRoleArn === undefined) {
    return { check: result(name, 'skip', 'needs the task role (or -domain and -service, or -iam-role-arn)') };
  }
  try {
    const resolved = resolveService({
      ...(domain === undefined ? {} : { domain }),
      ...(service === undefined ? {} : { service }),
      ...(iamRoleArn === undefined ? {} : { iamRoleArn }),
      ...(domain === undefined && iamRoleArn === undefined && taskRoleArn !== undefined ? { taskRoleArn } : {}),
      ...(rolePath === undefined ? {} : { rolePath }),
      ...(values['omit-domain'] === true ? { omitDomain: true } : {}),
      ...(task === undefined ? {} : { partition: task.partition, accountId: task.accountId }),
    });
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
 * `sts:AssumeRole` into the attestation role with the task role's credentials, through the attestor the identity
 * provider uses. The assumed credentials are dropped at once.
 */
export async function attestationRoleCheck(
  values: CommandContext['values'],
  task: TaskIdentity | undefined,
  service: ResolvedService | undefined,
  credentials: CredentialProvider<AwsCredentials> | undefined,
  timeoutMs: number,
): Promise<CheckResult> {
  const name = 'athenz attestation';
  if (task === undefined || service === undefined || credentials === undefined) {
    return result(name, 'skip', 'needs the task metadata, the task role and the Athenz service');
  }
  const attestor = stsAttestor({
    region: task.region,
    credentials,
    stsEndpoint: stsEndpointOf(values, task.partition),
    timeoutMs,
  });
  try {
    await attestor.attest({
      domain: service.domain,
      service: service.service,
      taskId: task.taskId,
      roleArn: service.attestationRoleArn,
      ...(values['omit-domain'] === true ? { omitDomain: true } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return result(name, 'ok', `sts:AssumeRole into ${service.attestationRoleArn} works`);
  } catch (e) {
    return result(
      name,
      'fail',
      errorText(e),
      `create the IAM role ${service.attestationRoleArn} with a trust policy that lets the task role call sts:AssumeRole (siad's role_path: -role-path / ATHENZ_SIA_ROLE_PATH when the role lives under another path)`,
    );
  } finally {
    attestor.close();
  }
}

/** ZTS answers over TLS with the CA bundle given (its public JWKS: no client certificate needed). */
export async function ztsCheck(url: string, caBundle: string | undefined, timeoutMs: number): Promise<CheckResult> {
  const name = 'zts';
  const transport = ztsTransport({ ...(caBundle === undefined ? {} : { caBundle }), timeoutMs, keepAlive: false });
  try {
    const zts = createZtsClient({ url, transport, timeoutMs });
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
    transport.close();
  }
}
