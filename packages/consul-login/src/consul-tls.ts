/**
 * The https agent for Consul from the CLI's TLS environment (`CONSUL_CACERT`, `CONSUL_CLIENT_CERT`,
 * `CONSUL_CLIENT_KEY`) or explicit PEM / files (Node).
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import { IdentityError } from '@ecs-identity/core';
import { httpsAgent } from '@ecs-identity/core/node';
import { type Env, processEnv } from './consul-address.js';

/** @public */
export interface ConsulTlsOptions {
  /** CA bundle file. Default `CONSUL_CACERT`. */
  caFile?: string | undefined;
  /** CA bundle PEM (instead of a file). */
  caPem?: string | undefined;
  /** Client certificate and key files, for servers that verify clients. Default `CONSUL_CLIENT_CERT` / `_KEY`. */
  certFile?: string | undefined;
  keyFile?: string | undefined;
  env?: Env | undefined;
}

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    throw new IdentityError(
      'FILE_IO',
      `cannot read the ${what} ${path}${typeof code === 'string' ? ` (${code})` : ''}`,
      {
        cause: e,
      },
    );
  }
}

/**
 * An `https.Agent` trusting the Consul CA (and presenting a client certificate when one is configured), or
 * undefined when nothing is configured (the system CAs then apply). Files are read once, here.
 *
 * @example
 * ```ts
 * const acl = consulAclClient({ agent: consulTlsAgent({ caFile: '/consul/ca.pem' }) });
 * ```
 * @public
 */
export function consulTlsAgent(options: ConsulTlsOptions = {}): Agent | undefined {
  const env = options.env ?? processEnv();
  const caFile = options.caFile ?? (env.CONSUL_CACERT || undefined);
  const certFile = options.certFile ?? (env.CONSUL_CLIENT_CERT || undefined);
  const keyFile = options.keyFile ?? (env.CONSUL_CLIENT_KEY || undefined);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new IdentityError(
      'INVALID_CONFIG',
      'a Consul client certificate needs both CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY',
    );
  }
  const ca = options.caPem ?? (caFile === undefined ? undefined : read(caFile, 'Consul CA file (CONSUL_CACERT)'));
  if (ca === undefined && certFile === undefined) return undefined;
  return httpsAgent({
    ...(ca === undefined ? {} : { ca }),
    ...(certFile === undefined || keyFile === undefined
      ? {}
      : { cert: read(certFile, 'Consul client certificate'), key: read(keyFile, 'Consul client key') }),
  });
}
