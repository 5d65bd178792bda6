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

import { type CoreErrorCode, errorClass } from './errors.js';

const CoreError = errorClass<CoreErrorCode>();

/** What a secret shows as. @public */
export const REDACTED = '[REDACTED]' as const;

/**
 * Values shorter than this are hidden from views but not registered for scrubbing: replacing every occurrence of
 * a 3-character string would mangle unrelated text, and real secrets (keys, tokens, UUIDs, PEM) are much longer.
 * @public
 */
export const MIN_SCRUBBED_SECRET_LENGTH = 8;

const INSPECT = Symbol.for('nodejs.util.inspect.custom');

// Objects passed through defineSecrets, with their secret keys (used by redact() and the logger).
const holders = new WeakMap<object, readonly PropertyKey[]>();

// ---- the registry: which values are scrubbed, and for how long ----
//
// A value registered with an owner (defineSecrets registers each secret field with its credential object) stays
// registered while any of its owners is reachable: a provider that is open holds its credential, so its secrets are
// always scrubbed, however many credentials the process has made. When the last owner is garbage collected the value
// is released. A value registered without an owner stays for the life of the process.

interface Entry {
  /** The forms the value may take in text: as-is, JSON-escaped, URL-encoded, form-encoded. */
  readonly forms: readonly string[];
  /** Owners still alive. */
  owners: number;
  /** Registered without an owner: never released. */
  permanent: boolean;
}

const entries = new Map<string, Entry>();
// Which values each owner registered, so an owner counts once per value.
const ownedBy = new WeakMap<object, Set<string>>();
const finalizer =
  typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<string>((value) => release(value)) : undefined;

function formsOf(value: string): string[] {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1)]);
  try {
    forms.add(encodeURIComponent(value));
    forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  } catch {
    // lone surrogates (URIError): such a value has no URL-encoded form; the other forms are enough
  }
  return [...forms];
}

function release(value: string): void {
  const entry = entries.get(value);
  if (entry === undefined) return;
  entry.owners--;
  if (entry.owners > 0 || entry.permanent) return;
  entries.delete(value);
  for (const form of entry.forms) index.remove(form);
}

/**
 * Registers a secret value so error messages and logs scrub it (every form: as-is, JSON-escaped, URL-encoded).
 * With an `owner` (a credential object), the value stays registered while the owner is reachable; without one, for
 * the life of the process. Values shorter than 8 characters are ignored.
 * @public
 */
export function registerSecret(value: string, owner?: object): void {
  if (typeof value !== 'string' || value.length < MIN_SCRUBBED_SECRET_LENGTH) return;
  let entry = entries.get(value);
  if (entry === undefined) {
    entry = { forms: formsOf(value), owners: 0, permanent: false };
    entries.set(value, entry);
    for (const form of entry.forms) index.add(form);
  }
  if (owner === undefined || owner === null || typeof owner !== 'object' || finalizer === undefined) {
    entry.permanent = true;
    return;
  }
  let values = ownedBy.get(owner);
  if (values === undefined) {
    values = new Set();
    ownedBy.set(owner, values);
  }
  if (values.has(value)) return;
  values.add(value);
  entry.owners++;
  finalizer.register(owner, value);
}

/**
 * Finds registered forms in text in one pass, whatever their number: each form is filed under a hash of its first
 * 8 characters, a rolling hash of the text is computed at every position, and a
 * bitset over those hashes (small enough to stay in the CPU cache, at least 16 bits per form) rules out almost every
 * position before a map lookup. The cost per scrubbed string is linear in its length, not in how many secrets exist.
 */
// The anchor length, and B^(K-1) mod 2^32 for the rolling hash (B = 31). Module constants rather than static class
// fields: the compiled class would read its own static fields during its static initialisation before they exist.
const ANCHOR = MIN_SCRUBBED_SECRET_LENGTH;
const ROLL_TOP = (() => {
  let x = 1;
  for (let i = 1; i < ANCHOR; i++) x = Math.imul(x, 31);
  return x;
})();
const MIN_INDEX_BITS = 1 << 12;

class FormIndex {
  /** Anchor hash -> the forms starting with such an anchor, with how many entries hold each. */
  readonly #buckets = new Map<number, Map<string, number>>();
  /** Bit i is set when some bucket's hash falls in slot i; `#slotBuckets` counts them, for removal. */
  #bits = new Uint32Array(MIN_INDEX_BITS / 32);
  #mask = MIN_INDEX_BITS - 1;
  #slotBuckets = new Map<number, number>();
  #forms = 0;

  static #hashAt(text: string, at: number): number {
    let h = 0;
    for (let j = 0; j < ANCHOR; j++) h = (Math.imul(h, 31) + text.charCodeAt(at + j)) | 0;
    return h;
  }

  static #slot(h: number, mask: number): number {
    return (h ^ (h >>> 15)) & mask;
  }

  add(form: string): void {
    const h = FormIndex.#hashAt(form, 0);
    let bucket = this.#buckets.get(h);
    if (bucket === undefined) {
      bucket = new Map();
      this.#buckets.set(h, bucket);
      this.#mark(h, 1);
    }
    const n = bucket.get(form) ?? 0;
    bucket.set(form, n + 1);
    if (n > 0) return;
    this.#forms++;
    if (this.#forms * 16 > this.#mask + 1) this.#resize((this.#mask + 1) * 4);
  }

  remove(form: string): void {
    const h = FormIndex.#hashAt(form, 0);
    const bucket = this.#buckets.get(h);
    const n = bucket?.get(form);
    if (bucket === undefined || n === undefined) return;
    if (n > 1) {
      bucket.set(form, n - 1);
      return;
    }
    bucket.delete(form);
    this.#forms--;
    if (bucket.size > 0) return;
    this.#buckets.delete(h);
    this.#mark(h, -1);
  }

  /** Counts a bucket in (or out of) its slot, setting or clearing the slot's bit. */
  #mark(h: number, delta: 1 | -1): void {
    const slot = FormIndex.#slot(h, this.#mask);
    const n = (this.#slotBuckets.get(slot) ?? 0) + delta;
    if (n > 0) this.#slotBuckets.set(slot, n);
    else this.#slotBuckets.delete(slot);
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    this.#bits[word] = n > 0 ? (this.#bits[word] ?? 0) | bit : (this.#bits[word] ?? 0) & ~bit;
  }

  #resize(bits: number): void {
    this.#bits = new Uint32Array(bits / 32);
    this.#mask = bits - 1;
    this.#slotBuckets = new Map();
    for (const h of this.#buckets.keys()) this.#mark(h, 1);
  }

  /** The [start, end) ranges of every registered form in `text`, in order of start. */
  find(text: string): [number, number][] | undefined {
    const K = ANCHOR;
    if (this.#forms === 0 || text.length < K) return undefined;
    const top = ROLL_TOP;
    const bits = this.#bits;
    const mask = this.#mask;
    let found: [number, number][] | undefined;
    let h = FormIndex.#hashAt(text, 0);
    for (let i = 0; ; i++) {
      const slot = (h ^ (h >>> 15)) & mask;
      if (((bits[slot >>> 5] as number) & (1 << (slot & 31))) !== 0) {
        const bucket = this.#buckets.get(h);
        if (bucket !== undefined) {
          for (const form of bucket.keys()) {
            if (!text.startsWith(form, i)) continue;
            found ??= [];
            found.push([i, i + form.length]);
          }
        }
      }
      if (i + K >= text.length) break;
      h = (Math.imul(h - Math.imul(text.charCodeAt(i), top), 31) + text.charCodeAt(i + K)) | 0;
    }
    return found;
  }
}

const index = new FormIndex();

/**
 * Replaces every registered secret in `text` with REDACTED. Overlapping matches (one secret inside or across another)
 * are redacted as one span, so no part of either is left.
 * @public
 */
export function scrubSecrets(text: string): string {
  if (typeof text !== 'string') return text;
  const found = index.find(text);
  if (found === undefined) return text;
  let out = '';
  let from = 0;
  let i = 0;
  while (i < found.length) {
    const [start, firstEnd] = found[i] as [number, number];
    let end = firstEnd;
    // merge every range that overlaps this one
    for (i++; i < found.length && (found[i] as [number, number])[0] < end; i++) {
      end = Math.max(end, (found[i] as [number, number])[1]);
    }
    out += text.slice(from, start) + REDACTED;
    from = end;
  }
  return out + text.slice(from);
}

/** How many secret values are registered now (for tests and diagnostics). @internal */
export function registeredSecretCount(): number {
  return entries.size;
}

/**
 * Marks fields of a credential object as secret, in place, and returns it: the fields stay readable
 * (`cred.secretAccessKey`), but `util.inspect`, `console.log`, `JSON.stringify` and `String()` show them as
 * REDACTED, and their values are registered so error messages and safeLogger scrub them, for as long as the
 * credential object is reachable.
 *
 * The secret fields become non-enumerable, so `Object.keys`, spreading (`{ ...cred }`) and `structuredClone`
 * leave them out; read them by name. Assigning a new value to a secret field registers the new value too.
 * Non-string secrets (a `CryptoKey`) are hidden the same way but not registered for text scrubbing.
 * @public
 */
export function defineSecrets<T extends object>(credential: T, keys: readonly (keyof T)[]): T {
  if (credential === null || typeof credential !== 'object') {
    throw new CoreError('INVALID_ARGUMENT', 'defineSecrets: credential must be an object');
  }
  if (!Array.isArray(keys)) throw new CoreError('INVALID_ARGUMENT', 'defineSecrets: keys must be an array');
  const secretKeys = new Set<PropertyKey>([...(holders.get(credential) ?? []), ...(keys as readonly PropertyKey[])]);
  for (const key of keys as readonly PropertyKey[]) {
    let current: unknown = (credential as Record<PropertyKey, unknown>)[key];
    // Registered for as long as the credential object lives (a provider that is open holds its credential).
    if (typeof current === 'string') registerSecret(current, credential);
    Object.defineProperty(credential, key, {
      enumerable: false,
      configurable: true,
      get: () => current,
      set: (next: unknown) => {
        if (typeof next === 'string') registerSecret(next, credential);
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
