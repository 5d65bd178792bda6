// Every way a program prints an error, applied to an error and each link of its cause chain, searched for secrets.
import { format, inspect } from 'node:util';

/** An error printed the ways people print errors: inspect with hidden fields, `%o`, `%s`, JSON, String(). */
export function formattings(error: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
    if (seen.has(e)) break;
    seen.add(e);
    out.push(inspect(e, { showHidden: true, depth: null }));
    out.push(format('%o', e));
    out.push(format('%s', e));
    out.push(String(e));
    try {
      out.push(JSON.stringify(e) ?? '');
      out.push(JSON.stringify(e, Object.getOwnPropertyNames(e as object)) ?? '');
    } catch {
      // a cycle: inspect already covered it
    }
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

/** The secrets (at least 8 characters) found in any formatting of `error` or its causes; `[]` when none. */
export function leakedSecrets(error: unknown, secrets: Iterable<string | undefined>): string[] {
  const texts = formattings(error);
  const found = new Set<string>();
  for (const secret of secrets) {
    if (secret === undefined || secret.length < 8) continue;
    if (texts.some((t) => t.includes(secret))) found.add(`${secret.slice(0, 4)}… (${secret.length} chars)`);
  }
  return [...found];
}
