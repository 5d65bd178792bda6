/**
 * What differs between the Node build of this package and its browser-safe build: the Consul client's TLS. In Node,
 * the CA and client certificate (`tls` options, else `CONSUL_CACERT`, `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY`) make
 * an https agent; elsewhere nothing can use them, so asking for them is a typed error naming what to pass instead.
 * @packageDocumentation
 */
import type { Environment } from '@ecs-identity/core/internal';
import { ConsulError } from './errors.js';

/** The Consul client's TLS beyond the system CAs (Node). @public */
export interface ConsulTlsOptions {
  /** CA bundle file. Default `CONSUL_CACERT`. */
  caFile?: string | undefined;
  /** CA bundle PEM (instead of a file). */
  caPem?: string | undefined;
  /** Client certificate and key files, for servers that verify clients. Default `CONSUL_CLIENT_CERT` / `_KEY`. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
}

/** The runtime's part of making a Consul client. @internal */
export interface Platform {
  /** The Node `https.Agent` for `tls` (or the `CONSUL_*` TLS variables), or undefined when nothing is configured. */
  consulAgent(tls: ConsulTlsOptions | undefined, env: Environment): unknown;
}

const TLS_VARIABLES = ['CONSUL_CACERT', 'CONSUL_CLIENT_CERT', 'CONSUL_CLIENT_KEY'] as const;

/** The browser-safe build: no https agent, and a TLS setting it cannot honour is an error, never ignored. @internal */
export const browserPlatform: Platform = {
  consulAgent(tls, env) {
    const given = Object.entries(tls ?? {}).filter(([, v]) => v !== undefined);
    const fromEnv = TLS_VARIABLES.filter((name) => env[name]);
    if (given.length === 0 && fromEnv.length === 0) return undefined;
    const what = [...given.map(([k]) => `tls.${k}`), ...fromEnv].join(', ');
    throw new ConsulError(
      'INVALID_CONFIG',
      `${what}: a Consul CA or client certificate needs Node (an https agent); in this runtime pass acl.http or acl.fetch that trusts the Consul servers`,
    );
  },
};
