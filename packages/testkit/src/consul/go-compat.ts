// Small re-implementations of the Go standard library behaviours the real server's checks depend on, so the fake
// rejects exactly what Consul rejects (header key canonicalisation, form parsing, %q / %v formatting).

/** `textproto.CanonicalMIMEHeaderKey`: `x-amz-date` → `X-Amz-Date`; keys with invalid bytes are returned unchanged. */
export function canonicalMimeKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  let upper = true;
  let out = '';
  for (const c of key) {
    out += upper ? c.toUpperCase() : c.toLowerCase();
    upper = c === '-';
  }
  return out;
}

/** Go's `%q` for a string (JSON escaping is the same for the printable ASCII we deal with). */
export const goQuote = (s: string): string => JSON.stringify(s);

/** Go's `%v` for a `[]string`: `[a b]`. */
export const goSlice = (values: readonly string[]): string => `[${values.join(' ')}]`;

function queryUnescape(s: string): string {
  // Go's QueryUnescape: `+` is a space, `%XX` must be two hex digits.
  const bad = /%(?![0-9A-Fa-f]{2})(.{0,2})/.exec(s);
  if (bad) throw new Error(`invalid URL escape ${goQuote(`%${bad[1] ?? ''}`)}`);
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

/** `url.ParseQuery`: an ordered multimap; throws Go's error text on bad escapes or `;` separators. */
export function parseGoQuery(body: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    if (pair.includes(';')) throw new Error('invalid semicolon separator in query');
    const eq = pair.indexOf('=');
    const key = queryUnescape(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : queryUnescape(pair.slice(eq + 1));
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** Go's `json.Marshal` of a `map[string]string`: keys sorted, `<`, `>`, `&` escaped. */
export function goJsonStringMap(map: Record<string, string>): string {
  const sorted: Record<string, string> = {};
  for (const k of Object.keys(map).sort()) sorted[k] = map[k]!;
  return JSON.stringify(sorted).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** `time.Duration.String()` for whole milliseconds: `1h0m0s`, `1m30s`, `500ms`. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** Standard base64 with padding, as Go's `base64.StdEncoding` requires; Go's error text otherwise. */
export function decodeStdBase64(text: string): string {
  const valid = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  if (!valid.test(text)) {
    let i = 0;
    while (i < text.length && /[A-Za-z0-9+/]/.test(text[i]!)) i++;
    // Go reports the first offending byte (or the length, for a truncated quantum).
    throw new Error(`illegal base64 data at input byte ${Math.min(i, text.length)}`);
  }
  return Buffer.from(text, 'base64').toString('utf8');
}
