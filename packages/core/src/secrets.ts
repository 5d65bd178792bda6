/**
 * Keeps credential secrets out of everything that prints: `util.inspect` / `console.log`, `JSON.stringify`,
 * `String()`, error messages and log lines. Browser-safe: the Node inspect hook is only a well-known symbol.
 *
 * @example
 * ```ts
 * const cred = defineSecrets({ accessKeyId: 'AKIA…', secretAccessKey: 's3cr3t…' }, ['secretAccessKey']);
 * cred.secretAccessKey;      // still readable
 * JSON.stringify(cred);      // {"accessKeyId":"AKIA…","secretAccessKey":"[REDACTED]"}
 * scrubSecrets(`oops ${cred.secretAccessKey}`); // "oops [REDACTED]"
 * ```
 * @packageDocumentation
 */

import { IdentityError } from './errors.js';

/** What a secret shows as. @public */
export const REDACTED = '[REDACTED]' as const;

/**
 * How many secret values the registry remembers (the most recently registered win). A process holds a handful of
 * live credentials at a time; the bound only stops a long-running process that refreshes every few minutes from
 * growing the set forever.
 * @public
 */
export const MAX_REGISTERED_SECRETS = 1024;

/**
 * Values shorter than this are hidden from views but not registered for scrubbing: replacing every occurrence of
 * a 3-character string would mangle unrelated text, and real secrets (keys, tokens, UUIDs, PEM) are much longer.
 * @public
 */
export const MIN_SCRUBBED_SECRET_LENGTH = 8;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

// secret value -> the forms it may take in text (as-is, JSON-escaped, URL-encoded). Map keeps insertion order,
// which makes eviction of the oldest entry O(1).
const registry = new Map<string, string[]>();

// Objects passed through defineSecrets, with their secret keys (used by redact() and the logger).
const holders = new WeakMap<object, readonly PropertyKey[]>();

/** Registers a secret value (bounded set) so error messages and logs scrub it. @public */
export function registerSecret(value: string): void {
  if (typeof value !== 'string' || value.length < MIN_SCRUBBED_SECRET_LENGTH) return;
  if (registry.has(value)) {
    // Refresh its place so a secret still in use is not the next one evicted.
    const forms = registry.get(value) as string[];
    registry.delete(value);
    registry.set(value, forms);
    return;
  }
  const forms = new Set([value, JSON.stringify(value).slice(1, -1)]);
  try {
    forms.add(encodeURIComponent(value));
    forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  } catch {
    // lone surrogates (URIError): such a value has no URL-encoded form; the other forms are enough
  }
  registry.set(value, [...forms]);
  sortedForms = undefined;
  while (registry.size > MAX_REGISTERED_SECRETS) {
    const oldest = registry.keys().next().value as string;
    registry.delete(oldest);
  }
}

// Every form of every registered secret, longest first, so that when one secret is a prefix of another the longer
// one is replaced whole (else its tail would stay visible). Rebuilt lazily after the registry changes.
let sortedForms: string[] | undefined;

/** Replaces every registered secret in `text` with REDACTED. @public */
export function scrubSecrets(text: string): string {
  if (typeof text !== 'string' || text.length < MIN_SCRUBBED_SECRET_LENGTH || registry.size === 0) return text;
  sortedForms ??= [...new Set([...registry.values()].flat())].sort((a, b) => b.length - a.length);
  let out = text;
  for (const form of sortedForms) {
    if (form.length <= out.length && out.includes(form)) out = out.split(form).join(REDACTED);
  }
  return out;
}

/**
 * Marks fields of a credential object as secret, in place, and returns it: the fields stay readable
 * (`cred.secretAccessKey`), but `util.inspect`, `console.log`, `JSON.stringify` and `String()` show them as
 * REDACTED, and their values are registered so error messages and safeLogger scrub them.
 *
 * The secret fields become non-enumerable, so `Object.keys`, spreading (`{ ...cred }`) and `structuredClone`
 * leave them out; read them by name. Assigning a new value to a secret field registers the new value too.
 * Non-string secrets (a `CryptoKey`) are hidden the same way but not registered for text scrubbing.
 * @public
 */
export function defineSecrets<T extends object>(credential: T, keys: readonly (keyof T)[]): T {
  if (credential === null || typeof credential !== 'object') {
    throw new IdentityError('INVALID_ARGUMENT', 'defineSecrets: credential must be an object');
  }
  if (!Array.isArray(keys)) throw new IdentityError('INVALID_ARGUMENT', 'defineSecrets: keys must be an array');
  const secretKeys = new Set<PropertyKey>([...(holders.get(credential) ?? []), ...(keys as readonly PropertyKey[])]);
  for (const key of keys as readonly PropertyKey[]) {
    let current: unknown = (credential as Record<PropertyKey, unknown>)[key];
    if (typeof current === 'string') registerSecret(current);
    Object.defineProperty(credential, key, {
      enumerable: false,
      configurable: true,
      get: () => current,
      set: (next: unknown) => {
        if (typeof next === 'string') registerSecret(next);
        current = next;
      },
    });
  }
  holders.set(credential, [...secretKeys]);
  const hidden = (name: PropertyKey, value: unknown) =>
    Object.defineProperty(credential, name, { value, enumerable: false, configurable: true, writable: true });
  hidden('toJSON', function redactedJson(this: T) {
    return redactedView(this);
  });
  hidden('toString', function redactedString(this: T) {
    return summary(this);
  });
  hidden(INSPECT, function redactedInspect(this: T, _depth: number, options: unknown, nodeInspect?: InspectFn) {
    const view = namedView(this);
    // Node passes its own inspect as the third argument (v16.14+); fall back to the plain view elsewhere.
    return typeof nodeInspect === 'function' ? nodeInspect(view, options) : view;
  });
  return credential;
}

type InspectFn = (value: unknown, options: unknown) => string;

/** True when `value` went through {@link defineSecrets}. @public */
export function hasSecrets(value: unknown): boolean {
  return value !== null && typeof value === 'object' && holders.has(value);
}

/** The object's enumerable own fields plus each secret field as REDACTED (what toJSON returns). */
function redactedView(obj: object): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) view[k] = v;
  for (const key of holders.get(obj) ?? []) {
    if (typeof key === 'string') view[key] = REDACTED;
  }
  return view;
}

/** Like redactedView, but keeps the class name so `util.inspect` still says `AwsCredentials { … }`. */
function namedView(obj: object): object {
  const name = obj.constructor?.name;
  const view = redactedView(obj);
  if (!name || name === 'Object') return view;
  const Named = { [name]: class {} }[name] as new () => object;
  return Object.assign(new Named(), view);
}

function summary(obj: object): string {
  const name = obj.constructor?.name && obj.constructor.name !== 'Object' ? obj.constructor.name : 'Credential';
  const parts = Object.entries(redactedView(obj)).map(([k, v]) => {
    if (v instanceof Date) return `${k}=${Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()}`;
    if (v === null || ['string', 'number', 'boolean', 'undefined'].includes(typeof v)) return `${k}=${String(v)}`;
    return `${k}=[${Array.isArray(v) ? 'Array' : typeof v}]`;
  });
  return `${name}{${parts.join(', ')}}`;
}

const MAX_REDACT_DEPTH = 8;

/**
 * A copy of `value` that is safe to log: registered secrets scrubbed from every string, credential objects
 * replaced by their redacted view, Errors copied with scrubbed message / stack / cause, cycles cut. Never throws.
 * @public
 */
export function redact(value: unknown): unknown {
  return redactInner(value, 0, new WeakSet());
}

function redactInner(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return scrubSecrets(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_REDACT_DEPTH) return '[Object]';
  seen.add(value);
  try {
    if (holders.has(value)) return redactInner(redactedView(value), depth + 1, seen);
    if (value instanceof Date) return value;
    if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
    if (typeof URL !== 'undefined' && value instanceof URL) return scrubSecrets(value.href);
    if (Array.isArray(value)) return value.map((v) => redactInner(v, depth + 1, seen));
    if (value instanceof Error) return redactError(value, depth, seen);
    if (value instanceof Map) {
      return Object.fromEntries([...value].map(([k, v]) => [String(k), redactInner(v, depth + 1, seen)]));
    }
    if (value instanceof Set) return [...value].map((v) => redactInner(v, depth + 1, seen));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactInner(v, depth + 1, seen);
    return out;
  } catch {
    return '[Unloggable]';
  } finally {
    seen.delete(value);
  }
}

function redactError(err: Error, depth: number, seen: WeakSet<object>): Error {
  // Same prototype, so `instanceof` and pino's error serializer still recognise it.
  const copy = Object.create(Object.getPrototypeOf(err)) as Error;
  const own = (name: string, v: unknown) =>
    Object.defineProperty(copy, name, { value: v, enumerable: false, configurable: true, writable: true });
  own('name', err.name);
  own('message', scrubSecrets(String(err.message)));
  if (typeof err.stack === 'string') own('stack', scrubSecrets(err.stack));
  if (err.cause !== undefined) own('cause', redactInner(err.cause, depth + 1, seen));
  for (const [k, v] of Object.entries(err)) {
    Object.defineProperty(copy, k, {
      value: redactInner(v, depth + 1, seen),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return copy;
}
