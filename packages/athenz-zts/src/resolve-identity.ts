import { formatRoleArn, parseRoleArn, type RoleArn } from '@ecs-identity/ecs-metadata';
import { AthenzError } from './errors.js';
import { validateDomain, validateService } from './names.js';

/** @public */
export interface ResolveServiceInput {
  /** Explicit Athenz domain (with `service`, wins over everything else). */
  domain?: string | undefined;
  service?: string | undefined;
  /**
   * `ATHENZ_SIA_IAM_ROLE_ARN`: `arn:<partition>:iam::<account>:role/[<path>/]<domain>.<service>`. It names the service
   * (when `domain` / `service` are not given) and is the role assumed; with `omitDomain`, the role `<service>` beside
   * it (same account and path) is assumed instead, as siad does.
   */
  iamRoleArn?: string | undefined;
  /** The task role's ARN (from the container credentials): `role/[<path>/]<domain>.<service>-service`. */
  taskRoleArn?: string | undefined;
  /** Partition and account for the attestation role when only `domain` / `service` are given. */
  partition?: string | undefined;
  accountId?: string | undefined;
  /**
   * IAM path of the attestation role (siad's `role_path`, `ATHENZ_SIA_ROLE_PATH`): `ecs`, `/ecs` and `/ecs/` all mean
   * `/ecs/` (see {@link normalizeRolePath}). Default: `/` when the names come from the options, the task role's own
   * path when they come from the task role; an `iamRoleArn` carries its own path, which this must then equal.
   */
  rolePath?: string | undefined;
  /**
   * siad's `omit_domain` (`ATHENZ_SIA_OMIT_DOMAIN`): the IAM role is named `<service>`, not `<domain>.<service>`, and
   * the attestation's `role` and the STS session name are `<service>` too. ZTS accepts either form. Default false.
   */
  omitDomain?: boolean | undefined;
}

/** @public */
export interface ResolvedService {
  /** Lower-cased. */
  domain: string;
  service: string;
  /** Where the names came from. */
  source: 'options' | 'ATHENZ_SIA_IAM_ROLE_ARN' | 'task role';
  /**
   * The role the attestation assumes: `arn:<partition>:iam::<account>:role/[<path>/]<domain>.<service>`, or
   * `.../<service>` with `omitDomain`.
   */
  attestationRoleArn: string;
  /**
   * The attestation's `role` and the default STS session name: `<domain>.<service>`, or `<service>` with `omitDomain`.
   * ZTS requires the attested credentials' ARN to start with `assumed-role/<attestationRole>/`.
   */
  attestationRole: string;
}

const SERVICE_SUFFIX = '-service';
const MAX_PATH_LENGTH = 512;
// IAM's path rule (a slash, then segments of printable ASCII other than the slash, each ending with a slash).
const IAM_PATH = /^\/(?:[\x21-\x2e\x30-\x7e]+\/)*$/;

/**
 * Normalises siad's `role_path` the way siad reads it: `ecs`, `/ecs` and `/ecs/` all become `/ecs/`, `a/b` becomes
 * `/a/b/`, and an empty value or `/` is the root `/`. What cannot be an IAM path (spaces, `//`, characters outside
 * printable ASCII, more than 512 characters) is refused.
 * @example
 * ```ts
 * normalizeRolePath('/ecs'); // '/ecs/'
 * ```
 * @throws IdentityError `INVALID_CONFIG`, naming `field`
 * @public
 */
export function normalizeRolePath(path: string, field = 'rolePath'): string {
  if (typeof path !== 'string') {
    throw new AthenzError('INVALID_CONFIG', `${field} must be a string such as /ecs/ (an IAM path)`);
  }
  let p = path;
  if (!p.startsWith('/')) p = `/${p}`;
  if (!p.endsWith('/')) p = `${p}/`;
  if (p.length > MAX_PATH_LENGTH || !IAM_PATH.test(p)) {
    throw new AthenzError(
      'INVALID_CONFIG',
      `${field} ${JSON.stringify(path)} is not an IAM path: write it as ecs, /ecs or /ecs/ (segments of printable ASCII without spaces, separated by single slashes, at most ${MAX_PATH_LENGTH} characters)`,
    );
  }
  return p;
}

function splitPrincipal(name: string, field: string): { domain: string; service: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) {
    throw new AthenzError(
      'INVALID_CONFIG',
      `${field}: role name ${JSON.stringify(name)} is not <domain>.<service> (no dot to split at)`,
    );
  }
  return {
    domain: validateDomain(name.slice(0, dot), `${field} (domain part)`),
    service: validateService(name.slice(dot + 1), `${field} (service part)`),
  };
}

function iamRole(arnText: string, field: string): RoleArn & { kind: 'role' } {
  const arn = parseRoleArn(arnText);
  if (arn.kind !== 'role') throw new AthenzError('INVALID_CONFIG', `${field} must be an IAM role ARN (…:role/…)`);
  return arn as RoleArn & { kind: 'role' };
}

/**
 * The role to assume given an `iamRoleArn`: the ARN itself when it is named after the attestation role; with
 * `omitDomain`, an ARN named `<domain>.<service>` (siad's `ATHENZ_SIA_IAM_ROLE_ARN`) stands for the `<service>` role
 * beside it.
 */
function fromIamRoleArn(
  arn: RoleArn & { kind: 'role' },
  names: { domain: string; service: string },
  attestationRole: string,
  rolePath: string | undefined,
  field: string,
): string {
  const arnPath = arn.path ?? '/';
  if (rolePath !== undefined && rolePath !== arnPath) {
    throw new AthenzError(
      'INVALID_CONFIG',
      `the role path ${rolePath} and the path ${arnPath} of ${field} ${arn.arn} disagree: give one of them`,
    );
  }
  const name = arn.roleName.toLowerCase();
  if (name === attestationRole) return arn.arn;
  if (attestationRole === names.service && name === `${names.domain}.${names.service}`) {
    return formatRoleArn({
      partition: arn.partition,
      accountId: arn.accountId,
      roleName: names.service,
      path: arnPath,
    });
  }
  throw new AthenzError(
    'INVALID_CONFIG',
    `${field} ${arn.arn} names the role ${arn.roleName}, but ZTS checks the attestation against the role ${attestationRole}: name the role ${attestationRole}${attestationRole === names.service ? '' : ' (or set omitDomain for a role named <service>)'}`,
  );
}

/**
 * Resolves the Athenz domain and service and the attestation role.
 * @example
 * ```ts
 * resolveService({ taskRoleArn: 'arn:aws:iam::123456789012:role/sports.api-service' });
 * // { domain: 'sports', service: 'api', source: 'task role',
 * //   attestationRoleArn: 'arn:aws:iam::123456789012:role/sports.api', attestationRole: 'sports.api' }
 * resolveService({ domain: 'sports', service: 'api', accountId: '123456789012', partition: 'aws',
 *   rolePath: 'ecs', omitDomain: true }).attestationRoleArn;
 * // 'arn:aws:iam::123456789012:role/ecs/api'
 * ```
 * @throws IdentityError `INVALID_CONFIG` when nothing names the service or the role settings disagree,
 *   `INVALID_NAME` for bad names
 * @public
 */
export function resolveService(input: ResolveServiceInput): ResolvedService {
  if ((input.domain === undefined) !== (input.service === undefined)) {
    throw new AthenzError('INVALID_CONFIG', 'domain and service must be given together');
  }
  const rolePath = input.rolePath === undefined ? undefined : normalizeRolePath(input.rolePath);
  const omitDomain = input.omitDomain === true;
  const roleFor = (names: { domain: string; service: string }) =>
    omitDomain ? names.service : `${names.domain}.${names.service}`;

  if (input.domain !== undefined && input.service !== undefined) {
    const names = { domain: validateDomain(input.domain), service: validateService(input.service) };
    const attestationRole = roleFor(names);
    let attestationRoleArn: string;
    if (input.iamRoleArn !== undefined) {
      const arn = iamRole(input.iamRoleArn, 'iamRoleArn');
      attestationRoleArn = fromIamRoleArn(arn, names, attestationRole, rolePath, 'iamRoleArn');
    } else {
      const from = input.taskRoleArn === undefined ? undefined : parseRoleArn(input.taskRoleArn);
      const partition = input.partition ?? from?.partition;
      const accountId = input.accountId ?? from?.accountId;
      if (!partition || !accountId) {
        throw new AthenzError(
          'INVALID_CONFIG',
          'the attestation role needs an AWS partition and account: pass accountId (or a task role ARN)',
        );
      }
      attestationRoleArn = formatRoleArn({ partition, accountId, roleName: attestationRole, path: rolePath ?? '/' });
    }
    return { ...names, source: 'options', attestationRoleArn, attestationRole };
  }
  if (input.iamRoleArn !== undefined) {
    const arn = iamRole(input.iamRoleArn, 'ATHENZ_SIA_IAM_ROLE_ARN');
    const names = splitPrincipal(arn.roleName, 'ATHENZ_SIA_IAM_ROLE_ARN');
    const attestationRole = roleFor(names);
    return {
      ...names,
      source: 'ATHENZ_SIA_IAM_ROLE_ARN',
      attestationRoleArn: fromIamRoleArn(arn, names, attestationRole, rolePath, 'ATHENZ_SIA_IAM_ROLE_ARN'),
      attestationRole,
    };
  }
  if (input.taskRoleArn !== undefined) {
    const arn = parseRoleArn(input.taskRoleArn);
    if (arn.kind !== 'role' || !arn.roleName.endsWith(SERVICE_SUFFIX)) {
      throw new AthenzError(
        'INVALID_CONFIG',
        `the task role ${arn.roleName} is not named <domain>.<service>${SERVICE_SUFFIX}: set domain and service, or ATHENZ_SIA_IAM_ROLE_ARN`,
      );
    }
    const names = splitPrincipal(arn.roleName.slice(0, -SERVICE_SUFFIX.length), 'task role');
    const attestationRole = roleFor(names);
    return {
      ...names,
      source: 'task role',
      attestationRoleArn: formatRoleArn({
        partition: arn.partition,
        accountId: arn.accountId,
        roleName: attestationRole,
        path: rolePath ?? arn.path ?? '/',
      }),
      attestationRole,
    };
  }
  throw new AthenzError(
    'INVALID_CONFIG',
    'cannot tell which Athenz service this is: pass domain and service, set ATHENZ_SIA_IAM_ROLE_ARN, or give the task a role named <domain>.<service>-service',
  );
}
