import type { AuthMethodSpec } from './auth-method.js';
import type { IdentityDetails } from './aws-iam-validator.js';
import { validatorError } from './errors.js';

/**
 * A Consul ACL binding rule. `bindName` is a template over the auth method's variables
 * (`${entity_name}`, `${entity_id}`, `${account_id}`, and with entity details `${entity_path}` and
 * `${entity_tags.<tag>}`).
 * @public
 */
export interface BindingRuleSpec {
  authMethod: string;
  /**
   * Which identities the rule applies to: empty (all), a function over the selectable fields, or a small subset of
   * Consul's bexpr: clauses `<field> == "<value>"` / `<field> != "<value>"` joined by `and`, where a field is
   * `entity_name`, `entity_id`, `account_id`, `entity_path` or `entity_tags.<tag>`.
   */
  selector?: string | ((fields: Readonly<Record<string, string>>) => boolean);
  bindType: 'service' | 'node' | 'role';
  bindName: string;
}

/** What a login binds to. */
export interface Bindings {
  serviceIdentities: { ServiceName: string }[];
  nodeIdentities: { NodeName: string; Datacenter: string }[];
  roles: { ID: string; Name: string }[];
}

const SERVICE_OR_NODE_NAME = /^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$/;
const ROLE_NAME = /^[A-Za-z0-9\-_]{1,256}$/;
const CLAUSE = /^\s*([A-Za-z_][\w.-]*)\s*(==|!=)\s*"((?:[^"\\]|\\.)*)"\s*$/;

/** The projected variables (`ProjectedVars`) of an aws-iam identity. */
export function projectedVars(method: AuthMethodSpec, d: IdentityDetails): Record<string, string> {
  const vars: Record<string, string> = {
    entity_name: d.entityName,
    entity_id: d.entityId,
    account_id: d.accountId,
  };
  if (method.config.EnableIAMEntityDetails) {
    vars.entity_path = d.entityPath ?? '';
    for (const tag of method.config.IAMEntityTags ?? []) vars[`entity_tags.${tag}`] = d.entityTags?.[tag] ?? '';
  }
  return vars;
}

/** Compiles a selector at configuration time, so a typo fails the test setup rather than every login. */
export function compileSelector(selector: BindingRuleSpec['selector']): (fields: Record<string, string>) => boolean {
  if (selector === undefined || selector === '') return () => true;
  if (typeof selector === 'function') return selector;
  const clauses = selector.split(/\s+and\s+/).map((c) => {
    const m = CLAUSE.exec(c);
    if (!m) throw new TypeError(`binding rule selector not supported by the fake Consul: ${JSON.stringify(c)}`);
    return { field: m[1]!, op: m[2]!, value: JSON.parse(`"${m[3]!}"`) as string };
  });
  return (fields) =>
    clauses.every(({ field, op, value }) => (op === '==' ? fields[field] === value : fields[field] !== value));
}

/** HIL-style `${var}` interpolation; an unknown variable is an error, as in Consul. */
function interpolate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    const key = name.trim();
    if (!(key in vars)) throw new Error(`unknown variable accessed: ${key}`);
    return vars[key]!;
  });
}

/**
 * Evaluates the method's binding rules for an identity, like Consul's binder: matching rules in order, bind names
 * computed from the variables and validated; a role binding to a role that does not exist is skipped.
 */
export function evaluateBindings(
  rules: readonly (BindingRuleSpec & { match: (f: Record<string, string>) => boolean })[],
  method: AuthMethodSpec,
  details: IdentityDetails,
  datacenter: string,
  roleIds: ReadonlyMap<string, string>,
): Bindings {
  const vars = projectedVars(method, details);
  const bindings: Bindings = { serviceIdentities: [], nodeIdentities: [], roles: [] };
  for (const rule of rules) {
    if (rule.authMethod !== method.name || !rule.match(vars)) continue;
    let name: string;
    try {
      name = interpolate(rule.bindName, vars);
    } catch (e) {
      throw validatorError(
        `cannot compute ${JSON.stringify(rule.bindType)} bind name for bind target: ${(e as Error).message}`,
      );
    }
    const valid = rule.bindType === 'role' ? ROLE_NAME.test(name) : SERVICE_OR_NODE_NAME.test(name);
    if (!valid) {
      throw validatorError(
        `cannot compute ${JSON.stringify(rule.bindType)} bind name for bind target: invalid bind name: ${JSON.stringify(name)}`,
      );
    }
    if (rule.bindType === 'service') bindings.serviceIdentities.push({ ServiceName: name });
    else if (rule.bindType === 'node') bindings.nodeIdentities.push({ NodeName: name, Datacenter: datacenter });
    else {
      const id = roleIds.get(name);
      if (id !== undefined) bindings.roles.push({ ID: id, Name: name });
    }
  }
  return bindings;
}
