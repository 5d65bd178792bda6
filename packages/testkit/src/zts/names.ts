/**
 * The ZTS schema patterns (core/zts RDL `Names.tdl`), used to reject malformed names before any rule runs.
 * @packageDocumentation
 */

const SIMPLE = '[a-zA-Z0-9_][a-zA-Z0-9_-]*';
const SIMPLE_NAME = new RegExp(`^${SIMPLE}$`);
const DOMAIN_NAME = new RegExp(`^(${SIMPLE}\\.)*${SIMPLE}$`);
const PATH_ELEMENT = /^[a-zA-Z0-9-._~=+@$,:]*$/;

/** `SimpleName`: one label (a service name). @public */
export function isSimpleName(value: string): boolean {
  return SIMPLE_NAME.test(value);
}

/** `DomainName` / `ServiceName`: dotted simple names (a domain, or a provider service). @public */
export function isDomainName(value: string): boolean {
  return DOMAIN_NAME.test(value);
}

/** `PathElement`: an instance id in a URL path. @public */
export function isPathElement(value: string): boolean {
  return PATH_ELEMENT.test(value);
}

/** `<domain>.<service>` split at the last dot, or undefined when there is no dot. @internal */
export function splitPrincipal(principal: string): { domain: string; service: string } | undefined {
  const idx = principal.lastIndexOf('.');
  if (idx <= 0 || idx === principal.length - 1) return undefined;
  return { domain: principal.slice(0, idx), service: principal.slice(idx + 1) };
}
