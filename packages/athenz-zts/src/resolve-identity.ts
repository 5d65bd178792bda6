/**
 * Which Athenz service a task is, and which IAM role it assumes for attestation, the way siad on Fargate decides:
 * explicit options, else `ATHENZ_SIA_IAM_ROLE_ARN`, else the task role named `<domain>.<service>-service`.
 * @packageDocumentation
 */
import { IdentityError } from '@ecs-identity/core';
import { formatRoleArn, parseRoleArn } from '@ecs-identity/ecs-metadata';
import { validateDomain, validateService } from './names.js';

/** @public */
export interface ResolveServiceInput {
  /** Explicit Athenz domain (with `service`, wins over everything else). */
  domain?: string;
  service?: string;
  /** `ATHENZ_SIA_IAM_ROLE_ARN`: `arn:<partition>:iam::<account>:role/[<path>/]<domain>.<service>`. */
  iamRoleArn?: string;
  /** The task role's ARN (from the container credentials): `role/[<path>/]<domain>.<service>-service`. */
  taskRoleArn?: string;
  /** Partition and account for the attestation role when only `domain` / `service` are given. */
  partition?: string;
  accountId?: string;
  /** IAM path of the attestation role when only `domain` / `service` are given (`/` or `/a/b/`). Default `/`. */
  rolePath?: string;
}

/** @public */
export interface ResolvedService {
  /** Lower-cased. */
  domain: string;
  service: string;
  /** Where the names came from. */
  source: 'options' | 'ATHENZ_SIA_IAM_ROLE_ARN' | 'task role';
  /** The role the attestation assumes: `arn:<partition>:iam::<account>:role/[<path>/]<domain>.<service>`. */
  attestationRoleArn: string;
}

const SERVICE_SUFFIX = '-service';

function splitPrincipal(name: string, field: string): { domain: string; service: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) {
    throw new IdentityError(
      'INVALID_CONFIG',
      `${field}: role name ${JSON.stringify(name)} is not <domain>.<service> (no dot to split at)`,
    );
  }
  return {
    domain: validateDomain(name.slice(0, dot), `${field} (domain part)`),
    service: validateService(name.slice(dot + 1), `${field} (service part)`),
  };
}

/**
 * Resolves the Athenz domain and service and the attestation role.
 * @example
 * ```ts
 * resolveService({ taskRoleArn: 'arn:aws:iam::123456789012:role/sports.api-service' });
 * // { domain: 'sports', service: 'api', source: 'task role',
 * //   attestationRoleArn: 'arn:aws:iam::123456789012:role/sports.api' }
 * ```
 * @throws IdentityError `INVALID_CONFIG` when nothing names the service, `INVALID_NAME` for bad names
 * @public
 */
export function resolveService(input: ResolveServiceInput): ResolvedService {
  if ((input.domain === undefined) !== (input.service === undefined)) {
    throw new IdentityError('INVALID_CONFIG', 'domain and service must be given together');
  }
  if (input.domain !== undefined && input.service !== undefined) {
    const domain = validateDomain(input.domain);
    const service = validateService(input.service);
    let attestationRoleArn: string;
    if (input.iamRoleArn !== undefined) {
      attestationRoleArn = parseRoleArn(input.iamRoleArn).arn;
    } else {
      const from = input.taskRoleArn === undefined ? undefined : parseRoleArn(input.taskRoleArn);
      const partition = input.partition ?? from?.partition;
      const accountId = input.accountId ?? from?.accountId;
      if (!partition || !accountId) {
        throw new IdentityError(
          'INVALID_CONFIG',
          'the attestation role needs an AWS partition and account: pass accountId (or a task role ARN)',
        );
      }
      attestationRoleArn = formatRoleArn({
        partition,
        accountId,
        roleName: `${domain}.${service}`,
        path: input.rolePath ?? '/',
      });
    }
    return { domain, service, source: 'options', attestationRoleArn };
  }
  if (input.iamRoleArn !== undefined) {
    const arn = parseRoleArn(input.iamRoleArn);
    if (arn.kind !== 'role') {
      throw new IdentityError('INVALID_CONFIG', 'ATHENZ_SIA_IAM_ROLE_ARN must be an IAM role ARN (…:role/…)');
    }
    return {
      ...splitPrincipal(arn.roleName, 'ATHENZ_SIA_IAM_ROLE_ARN'),
      source: 'ATHENZ_SIA_IAM_ROLE_ARN',
      attestationRoleArn: arn.arn,
    };
  }
  if (input.taskRoleArn !== undefined) {
    const arn = parseRoleArn(input.taskRoleArn);
    if (arn.kind !== 'role' || !arn.roleName.endsWith(SERVICE_SUFFIX)) {
      throw new IdentityError(
        'INVALID_CONFIG',
        `the task role ${arn.roleName} is not named <domain>.<service>${SERVICE_SUFFIX}: set domain and service, or ATHENZ_SIA_IAM_ROLE_ARN`,
      );
    }
    const { domain, service } = splitPrincipal(arn.roleName.slice(0, -SERVICE_SUFFIX.length), 'task role');
    return {
      domain,
      service,
      source: 'task role',
      attestationRoleArn: formatRoleArn({
        partition: arn.partition,
        accountId: arn.accountId,
        roleName: arn.roleName.slice(0, -SERVICE_SUFFIX.length),
        path: arn.path ?? '/',
      }),
    };
  }
  throw new IdentityError(
    'INVALID_CONFIG',
    'cannot tell which Athenz service this is: pass domain and service, set ATHENZ_SIA_IAM_ROLE_ARN, or give the task a role named <domain>.<service>-service',
  );
}
