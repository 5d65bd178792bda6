/**
 * The Consul HTTP address, from options or the environment the Consul CLI reads (`CONSUL_HTTP_ADDR`,
 * `CONSUL_HTTP_SSL`). Browser-safe: the environment is read only where `process.env` exists.
 * @packageDocumentation
 */
import { ConsulError } from './errors.js';

/** Environment variables, as `process.env` holds them. @public */
export type Env = Readonly<Record<string, string | undefined>>;

/** The Consul CLI's default address. @public */
export const DEFAULT_CONSUL_ADDRESS = '127.0.0.1:8500';

/** `process.env` where there is one (Node), else an empty environment (browsers). @internal */
export function processEnv(): Env {
  const proc = (globalThis as { process?: { env?: Env } }).process;
  return proc?.env ?? {};
}

// Go's strconv.ParseBool, which the Consul CLI uses for CONSUL_HTTP_SSL.
function parseGoBool(value: string, name: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw new ConsulError('INVALID_CONFIG', `${name}=${JSON.stringify(value.slice(0, 20))} is not a boolean`);
}

/**
 * Resolves the Consul base URL like the Consul CLI: `address` (or `CONSUL_HTTP_ADDR`, default `127.0.0.1:8500`),
 * `http://` / `https://` taken as given, otherwise https when `CONSUL_HTTP_SSL` is true. `unix://` sockets are not
 * supported. Returns the origin (`https://consul.example:8501`).
 *
 * @example
 * ```ts
 * consulAddress(undefined, { CONSUL_HTTP_ADDR: 'consul.service:8501', CONSUL_HTTP_SSL: 'true' });
 * // 'https://consul.service:8501'
 * ```
 * @public
 */
export function consulAddress(address?: string, env: Env = processEnv()): string {
  const fromEnv = env.CONSUL_HTTP_ADDR;
  const source = address !== undefined ? 'address' : fromEnv ? 'CONSUL_HTTP_ADDR' : 'the default';
  const raw = (address ?? (fromEnv || DEFAULT_CONSUL_ADDRESS)).trim();
  if (raw === '') throw new ConsulError('INVALID_CONFIG', `${source}: the Consul address is empty`);
  if (raw.startsWith('unix://')) {
    throw new ConsulError('INVALID_CONFIG', `${source}: unix sockets are not supported, use http(s)://host:port`);
  }
  let withScheme = raw;
  if (!/^https?:\/\//i.test(raw)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
      throw new ConsulError('INVALID_CONFIG', `${source}: the Consul address must use http:// or https://`);
    }
    const ssl = env.CONSUL_HTTP_SSL ? parseGoBool(env.CONSUL_HTTP_SSL, 'CONSUL_HTTP_SSL') : false;
    withScheme = `${ssl ? 'https' : 'http'}://${raw}`;
  }
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConsulError(
      'INVALID_CONFIG',
      `${source}: ${JSON.stringify(raw.slice(0, 100))} is not a host:port or URL`,
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '' || url.pathname !== '/') {
    throw new ConsulError(
      'INVALID_CONFIG',
      `${source}: the Consul address must be scheme://host:port, without path, query or credentials`,
    );
  }
  return url.origin;
}
