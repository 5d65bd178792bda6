/**
 * The environment variables a provider reads its defaults from (`process.env` in Node), as one type and one lookup.
 * @packageDocumentation
 */

/** Environment variables, as `process.env` holds them. @public */
export type Environment = Readonly<Record<string, string | undefined>>;

/** `process.env` where there is one (Node), else an empty environment (browsers). @internal */
export function processEnv(): Environment {
  const proc = (globalThis as { process?: { env?: Environment } }).process;
  return proc?.env ?? {};
}
