/**
 * Header keys in Go's canonical MIME form. The Consul server decodes the bearer token's headers into a Go
 * `http.Header` straight from JSON (no canonicalisation) and then looks keys up by their canonical form, so a key
 * written any other way is invisible to it.
 * @packageDocumentation
 */
import { IdentityError } from '@ecs-identity/core';

// RFC 7230 token characters: Go leaves a key with anything else in it untouched, and so do we.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The canonical MIME form of a header key, as Go's `textproto.CanonicalMIMEHeaderKey` computes it: the first letter
 * and every letter after a hyphen upper-case, the rest lower-case (`x-consul-iam-serverid` →
 * `X-Consul-Iam-Serverid`).
 * @public
 */
export function canonicalHeaderKey(key: string): string {
  const known = memo.get(key);
  if (known !== undefined) return known;
  const canonical = TOKEN.test(key)
    ? key.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase())
    : key;
  // Header names (never values) repeat on every token; a small bounded memo keeps this off the signing hot path.
  if (memo.size < 256) memo.set(key, canonical);
  return canonical;
}

const memo = new Map<string, string>();

/**
 * Turns signed request headers into the `{ "Canonical-Key": ["value"] }` object Go's `json.Marshal(http.Header)`
 * produces: canonical keys, sorted, array values. `Host` is left out because Go keeps it outside the header map (the
 * server re-derives it from the URL). Two keys that differ only in case are a bug, not something to merge.
 * @internal
 */
export function toGoHeader(headers: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of Object.entries(headers)) {
    const canonical = canonicalHeaderKey(key);
    if (canonical === 'Host') continue;
    if (Object.hasOwn(out, canonical))
      throw new IdentityError('INVALID_ARGUMENT', `header ${canonical} given twice (keys differing only in case)`);
    out[canonical] = [value];
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k] as string[]]),
  );
}
