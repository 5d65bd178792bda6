import { AthenzError } from './errors.js';

// The ZTS RDL patterns (core/zts/src/main/rdl/Names.tdl): SimpleName, CompoundName / DomainName, PathElement.
const SIMPLE = '[a-zA-Z0-9_][a-zA-Z0-9_-]*';
const COMPOUND_RE = new RegExp(`^(?:${SIMPLE}\\.)*${SIMPLE}$`);
const SIMPLE_RE = new RegExp(`^${SIMPLE}$`);
const PATH_ELEMENT_RE = /^[a-zA-Z0-9\-._~=+@$,:]*$/;

/** True when `name` matches the ZTS SimpleName pattern `[a-zA-Z0-9_][a-zA-Z0-9_-]*`. @public */
export function isSimpleName(name: string): boolean {
  return SIMPLE_RE.test(name);
}

/** True when `name` matches the ZTS DomainName / ServiceName pattern (dot-separated SimpleNames: a domain, a provider). @public */
export function isCompoundName(name: string): boolean {
  return COMPOUND_RE.test(name);
}

/** True when `id` is a non-empty ZTS PathElement (`[a-zA-Z0-9-._~=+@$,:]+`). @public */
export function isInstanceId(id: string): boolean {
  return id.length > 0 && PATH_ELEMENT_RE.test(id);
}

function check(field: string, value: unknown, ok: (v: string) => boolean, pattern: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AthenzError('INVALID_NAME', `${field} is required (a non-empty string)`);
  }
  if (!ok(value)) {
    // Names are not secrets; showing the value is what lets the caller fix it.
    throw new AthenzError(
      'INVALID_NAME',
      `${field} ${JSON.stringify(value)} does not match the ZTS pattern ${pattern}`,
    );
  }
  return value;
}

const COMPOUND_PATTERN = '(SimpleName.)*SimpleName, SimpleName = [a-zA-Z0-9_][a-zA-Z0-9_-]*';

/**
 * Validates an Athenz domain and returns it lower-cased (ZTS lower-cases provider, domain and service).
 * @throws IdentityError `INVALID_NAME`
 * @public
 */
export function validateDomain(domain: unknown, field = 'domain'): string {
  return check(field, domain, isCompoundName, COMPOUND_PATTERN).toLowerCase();
}

const SIMPLE_PATTERN = 'SimpleName [a-zA-Z0-9_][a-zA-Z0-9_-]*';

/** Validates a SimpleName (a SPIFFE namespace, say) and returns it lower-cased. @throws IdentityError `INVALID_NAME` @internal */
export function validateSimpleName(name: unknown, field: string): string {
  return check(field, name, isSimpleName, SIMPLE_PATTERN).toLowerCase();
}

/**
 * Validates an Athenz service name and returns it lower-cased. A service is a SimpleName (ZTS `Instance.rdli` and
 * `ZTSImpl` validate it so on register and refresh): `api.v1` is refused here, as ZTS would refuse it with a 400.
 * @throws IdentityError `INVALID_NAME`
 * @public
 */
export function validateService(service: unknown, field = 'service'): string {
  return check(field, service, isSimpleName, `${SIMPLE_PATTERN} (a service name has no dots)`).toLowerCase();
}

/** Validates a provider service name (`<prefix>.<region>`) and returns it lower-cased. @public */
export function validateProvider(provider: unknown, field = 'provider'): string {
  return check(field, provider, isCompoundName, COMPOUND_PATTERN).toLowerCase();
}

/**
 * Validates a role name (the part after `:role.`) and returns it lower-cased (Athenz stores names in lower case).
 * @public
 */
export function validateRole(role: unknown, field = 'role'): string {
  return check(field, role, isCompoundName, COMPOUND_PATTERN).toLowerCase();
}

/** Validates an instance id (on ECS: the task id). Empty ids are refused: ZTS rejects them. @public */
export function validateInstanceId(id: unknown, field = 'instanceId'): string {
  return check(field, id, isInstanceId, '[a-zA-Z0-9-._~=+@$,:]+');
}

/**
 * The DNS label form of a domain: dots become dashes (`sports.prod` → `sports-prod`), as in the service SAN
 * `<service>.<dashed-domain>.<dnsSuffix>`.
 * @public
 */
export function dashedDomain(domain: string): string {
  return validateDomain(domain).replaceAll('.', '-');
}

/** `<domain>.<service>`, the principal and service-cert CN. @public */
export function principalName(domain: string, service: string): string {
  return `${validateDomain(domain)}.${validateService(service)}`;
}

/** `<domain>:role.<role>`, the role-cert CN and access-token scope element. @public */
export function roleResourceName(domain: string, role: string): string {
  return `${validateDomain(domain, 'roleDomain')}:role.${validateRole(role)}`;
}

/** Default provider prefix for ECS / Fargate tasks (siad's `athenz.aws-ecs`). @public */
export const DEFAULT_PROVIDER_PREFIX = 'athenz.aws-ecs';

/**
 * The ZTS provider for a task: `<prefix>.<region>` (e.g. `athenz.aws-ecs.us-west-2`).
 * @public
 */
export function providerName(region: string, prefix: string = DEFAULT_PROVIDER_PREFIX): string {
  if (!/^[a-z0-9-]+$/.test(region)) {
    throw new AthenzError('INVALID_NAME', `region ${JSON.stringify(region)} is not an AWS region name`);
  }
  return validateProvider(`${prefix}.${region}`);
}

/**
 * A DNS suffix for SAN names: lower-case labels separated by dots, no leading dot.
 * @public
 */
export function validateDnsSuffix(suffix: unknown, field = 'dnsSuffix'): string {
  if (typeof suffix !== 'string' || suffix.length === 0) {
    throw new AthenzError('INVALID_NAME', `${field} is required (a non-empty string)`);
  }
  const s = suffix.toLowerCase();
  // Underscores are allowed because Athenz service and domain names may carry them into SAN labels.
  const label = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
  if (s.length > 253 || !new RegExp(`^${label}(?:\\.${label})*$`).test(s)) {
    throw new AthenzError('INVALID_NAME', `${field} ${JSON.stringify(suffix)} is not a DNS name (no leading dot)`);
  }
  return s;
}

/** A full DNS host name (optionally a `*.` wildcard) for SAN entries. @public */
export function validateDnsName(name: unknown, field = 'dnsName'): string {
  if (typeof name === 'string' && name.startsWith('*.')) return `*.${validateDnsSuffix(name.slice(2), field)}`;
  return validateDnsSuffix(name, field);
}
