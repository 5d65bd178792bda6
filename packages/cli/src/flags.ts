/**
 * A small Go-style flag parser (the `flag` package's syntax, which siad and the Consul CLI use): `-flag value`,
 * `-flag=value`, `--flag` as well; booleans `-flag` / `-flag=false`. Parsing stops at `--` or the first argument that
 * is not a flag. Values come from the arguments, else the first environment variable set, else the default.
 * Pure and browser-safe; `node:util`'s `parseArgs` is not used because it cannot read single-dash long flags.
 * @packageDocumentation
 */
import { IdentityError } from '@ecs-identity/core';

/**
 * What a flag holds: a string, a Go boolean, a decimal integer, a decimal number (`0.5`), or a repeatable string
 * (`-meta a=1 -meta b=2`).
 * @public
 */
export type FlagType = 'string' | 'bool' | 'int' | 'number' | 'list';

/** One flag. @public */
export interface FlagSpec {
  readonly type: FlagType;
  /** One line for the help text. */
  readonly help: string;
  /** The value's name in the help text (`-http-addr ADDR`). Default `VALUE` (`N` for integers). */
  readonly placeholder?: string | undefined;
  /** Environment variables read, in order, when the flag is not given. */
  readonly env?: readonly string[] | undefined;
  /** Value when neither the flag nor an environment variable is set (shown in the help text). */
  readonly default?: string | boolean | number | undefined;
  /** Other names accepted for the flag (siad and consul spellings). Not shown separately in the help. */
  readonly aliases?: readonly string[] | undefined;
  /** Smallest accepted integer or number. Default 0. */
  readonly min?: number | undefined;
}

/** Flags by name (the name without dashes). @public */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** A parsed value: string, boolean, number or list of strings; undefined when unset and without default. @public */
export type FlagValue = string | boolean | number | string[] | undefined;

/** The result of {@link parseFlags}. @public */
export interface ParsedFlags {
  /** Values by flag name (aliases resolved to the main name). */
  readonly values: Readonly<Record<string, FlagValue>>;
  /** Where each set value came from: `flag`, `env:<NAME>` or `default`. */
  readonly sources: Readonly<Record<string, string>>;
  /** Arguments after the flags. */
  readonly rest: readonly string[];
  /** True when `-h`, `-help` or `--help` was given (parsing stops there). */
  readonly help: boolean;
}

/**
 * A command-line mistake: exit status 2 and the usage text. Its code is `INVALID_ARGUMENT`.
 * @public
 */
export class UsageError extends IdentityError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'UsageError';
  }
}

// Go's strconv.ParseBool, which the flag package uses.
const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Parses a boolean the way Go's `strconv.ParseBool` does; undefined when it is not one. @public */
export function parseGoBool(text: string): boolean | undefined {
  if (TRUE.has(text)) return true;
  if (FALSE.has(text)) return false;
  return undefined;
}

function convert(spec: FlagSpec, raw: string, where: string): string | boolean | number {
  switch (spec.type) {
    case 'bool': {
      const b = parseGoBool(raw);
      if (b === undefined) throw new UsageError(`invalid boolean value ${JSON.stringify(raw)} for ${where}`);
      return b;
    }
    case 'int':
    case 'number': {
      // Plain decimals only (no exponent, hex or Infinity): `8443`; for numbers also `1.5`, `.25`.
      const integer = spec.type === 'int';
      const what = integer ? 'an integer' : 'a number';
      const text = raw.trim();
      if (!(integer ? /^[+-]?\d+$/ : /^[+-]?(?:\d+\.?\d*|\.\d+)$/).test(text)) {
        throw new UsageError(`invalid value ${JSON.stringify(raw)} for ${where}: not ${what}`);
      }
      const n = Number(text);
      const min = spec.min ?? 0;
      if (!(integer ? Number.isSafeInteger(n) : Number.isFinite(n)) || n < min) {
        throw new UsageError(`invalid value ${JSON.stringify(raw)} for ${where}: must be ${what} >= ${min}`);
      }
      return n;
    }
    default:
      return raw;
  }
}

function lookup(specs: FlagSpecs): Map<string, string> {
  const names = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    names.set(name, name);
    for (const alias of spec.aliases ?? []) names.set(alias, name);
  }
  return names;
}

/**
 * Parses `args` against `specs`, then fills unset flags from `env` (first variable set wins) and defaults.
 *
 * @example
 * ```ts
 * const { values, rest } = parseFlags(
 *   { 'http-addr': { type: 'string', help: 'Consul address', env: ['CONSUL_HTTP_ADDR'] },
 *     'aws-include-entity': { type: 'bool', help: 'embed GetRole', default: true } },
 *   ['-http-addr=127.0.0.1:8500', '-aws-include-entity=false'],
 *   process.env,
 * );
 * ```
 * @throws UsageError for an unknown flag, a missing or malformed value, or a repeated non-list flag
 * @public
 */
export function parseFlags(
  specs: FlagSpecs,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): ParsedFlags {
  const names = lookup(specs);
  const values: Record<string, FlagValue> = {};
  const sources: Record<string, string> = {};
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      i++;
      break;
    }
    if (arg.length < 2 || arg[0] !== '-' || (arg[1] === '-' && arg.length === 2)) break;
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) {
      throw new UsageError(`bad flag syntax: ${arg}`);
    }
    const eq = body.indexOf('=');
    const given = eq === -1 ? body : body.slice(0, eq);
    if (given === 'h' || given === 'help') return { values, sources, rest: args.slice(i + 1), help: true };
    const name = names.get(given);
    if (name === undefined) throw new UsageError(`flag provided but not defined: -${given}`);
    const spec = specs[name] as FlagSpec;
    let raw: string;
    if (eq !== -1) {
      raw = body.slice(eq + 1);
    } else if (spec.type === 'bool') {
      raw = 'true';
    } else {
      const next = args[i + 1];
      if (next === undefined) throw new UsageError(`flag needs an argument: -${given}`);
      raw = next;
      i++;
    }
    const value = convert(spec, raw, `-${given}`);
    if (spec.type === 'list') {
      const list = (values[name] as string[] | undefined) ?? [];
      list.push(value as string);
      values[name] = list;
    } else {
      // Go lets the last one win; a repeated value is far more often a mistake in a startup script.
      if (sources[name] === 'flag') throw new UsageError(`flag given twice: -${given}`);
      values[name] = value;
    }
    sources[name] = 'flag';
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (sources[name] !== undefined) continue;
    const variable = spec.env?.find((v) => env[v] !== undefined && env[v] !== '');
    if (variable !== undefined) {
      const raw = env[variable] as string;
      values[name] = spec.type === 'list' ? [raw] : convert(spec, raw, `environment variable ${variable}`);
      sources[name] = `env:${variable}`;
    } else if (spec.default !== undefined) {
      values[name] = spec.default;
      sources[name] = 'default';
    }
  }
  return { values, sources, rest: args.slice(i), help: false };
}

/** A list flag's values split at commas, trimmed, empty parts dropped (`-dnsdomains a,b`). @public */
export function splitList(value: FlagValue): string[] {
  const parts = Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
  return parts
    .flatMap((p) => p.split(','))
    .map((p) => p.trim())
    .filter((p) => p !== '');
}
