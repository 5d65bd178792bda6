/**
 * Header keys in Go's canonical MIME form. The Consul server decodes the bearer token's headers into a Go
 * `http.Header` straight from JSON (no canonicalisation) and then looks keys up by their canonical form, so a key
 * written any other way is invisible to it.
 * @packageDocumentation
 */
import { ConsulError } from './errors.js';

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
      throw new ConsulError('INVALID_ARGUMENT', `header ${canonical} given twice (keys differing only in case)`);
    out[canonical] = [value];
  }
  return Object.fromEntries(
    Object.keys(out)
      .sort()
      .map((k) => [k, out[k] as string[]]),
  );
}

/**
 * A fixed set of lower-case header keys, with their Go-canonical JSON key prefixes, in the order `toGoHeader` sorts
 * them. Built once per set of keys, so writing a header map costs no canonicalising, sorting or intermediate objects.
 * @internal
 */
export interface GoHeaderLayout {
  /** Lower-case keys, in sorted canonical order. */
  readonly keys: readonly string[];
  /** `"Canonical-Key":[`, one per key. */
  readonly prefixes: readonly string[];
}

/** @internal */
export function goHeaderLayout(lowerCaseKeys: readonly string[]): GoHeaderLayout {
  const sorted = lowerCaseKeys
    .map((key) => ({ key, canonical: canonicalHeaderKey(key) }))
    .filter(({ canonical }) => canonical !== 'Host')
    .sort((a, b) => (a.canonical < b.canonical ? -1 : a.canonical > b.canonical ? 1 : 0));
  return {
    keys: sorted.map(({ key }) => key),
    prefixes: sorted.map(({ canonical }) => `${JSON.stringify(canonical)}:[`),
  };
}

/**
 * `JSON.stringify(value)` for a string of printable ASCII, where `"` and `\` are the only characters JSON escapes.
 * Much cheaper than `JSON.stringify` on long values (it scans with `includes`, not character by character).
 */
function printableJsonString(value: string): string {
  if (!value.includes('"') && !value.includes('\\')) return `"${value}"`;
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * `JSON.stringify(toGoHeader(headers))`, byte for byte, written straight out when every key of `headers` but `host`
 * is in `layout` (the case for requests we build and sign ourselves). Any other key (a header a future signer might
 * add, or one differing only in case) takes the general `toGoHeader` path, so nothing is dropped and a case clash is
 * still refused. `printableAscii` is the caller's promise that every value is printable ASCII (U+0020..U+007E),
 * which lets values be escaped without `JSON.stringify`; a wrong promise gives wrong JSON, so pass `false` unless
 * the values' origin guarantees it.
 * @internal
 */
export function goHeaderJson(headers: Record<string, string>, layout: GoHeaderLayout, printableAscii: boolean): string {
  const { keys, prefixes } = layout;
  let json = '{';
  let written = 0;
  for (let i = 0; i < keys.length; i++) {
    const value = headers[keys[i] as string];
    if (value === undefined) continue;
    const quoted = printableAscii ? printableJsonString(value) : JSON.stringify(value);
    json += `${written === 0 ? '' : ','}${prefixes[i] as string}${quoted}]`;
    written++;
  }
  let present = 0;
  for (const key in headers) if (key !== 'host') present++;
  return present === written ? `${json}}` : JSON.stringify(toGoHeader(headers));
}
