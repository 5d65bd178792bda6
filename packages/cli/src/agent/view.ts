/**
 * What a template sees: `task`, `env`, and each credential under its key (`consul.<name>`, `athenz.identity`,
 * `athenz.roleCertificates.<name>`, `athenz.accessTokens.<name>`). Each credential is a getter that notes its key
 * when read, so a render knows which credentials the template used, and only a change of one of those renders it
 * again: a secret reaches only the files whose template names it.
 * @packageDocumentation
 */

/** A credential's fields as a template reads them (strings; absent optional fields are `undefined`). @internal */
export type CredentialFields = Readonly<Record<string, string | undefined>>;

/** The current fields of one credential, or undefined before it is first obtained. @internal */
export type CredentialView = () => CredentialFields | undefined;

/** What templates render from. @internal */
export interface ViewSources {
  readonly task: CredentialFields;
  readonly env: Readonly<Record<string, string>>;
  /** By key, e.g. `consul.client` or `athenz.roleCertificates.readers`. */
  readonly credentials: ReadonlyMap<string, CredentialView>;
}

type Node = Record<string, unknown>;

/**
 * The object a template renders against. Every credential read is added to `used` (by key). The object is built per
 * render, so each render records only what it read.
 * @internal
 */
export function buildView(sources: ViewSources, used: Set<string>): Node {
  const root: Node = { task: sources.task, env: sources.env };
  for (const [key, current] of sources.credentials) {
    const parts = key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Node;
    }
    Object.defineProperty(node, parts.at(-1) as string, {
      enumerable: true,
      get: () => {
        used.add(key);
        return current();
      },
    });
  }
  return root;
}

/** Milliseconds to ISO 8601, for the `expiresAt` / `notBefore` fields. @internal */
export function iso(date: Date | undefined): string | undefined {
  return date?.toISOString();
}
