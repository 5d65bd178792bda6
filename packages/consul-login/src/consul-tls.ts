/**
 * The Node build's Consul TLS: an `https.Agent` from the `tls` options, else from the Consul CLI's environment
 * (`CONSUL_CACERT`, `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY`).
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import type { Agent } from 'node:https';
import type { Environment } from '@ecs-identity/core/internal';
import { httpsAgent } from '@ecs-identity/core/node';
import { ConsulError } from './errors.js';
import type { ConsulTlsOptions, Platform } from './platform.js';

function read(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: unknown } | null)?.code;
    throw new ConsulError('FILE_IO', `cannot read the ${what} ${path}${typeof code === 'string' ? ` (${code})` : ''}`, {
      cause: e,
    });
  }
}

/**
 * An `https.Agent` trusting the Consul CA (and presenting a client certificate when one is configured), or undefined
 * when nothing is configured (the system CAs then apply). Files are read once, here.
 * @internal
 */
export function consulTlsAgent(tls: ConsulTlsOptions = {}, env: Environment = {}): Agent | undefined {
  const caFile = tls.caFile ?? (env.CONSUL_CACERT || undefined);
  const certFile = tls.certFile ?? (env.CONSUL_CLIENT_CERT || undefined);
  const keyFile = tls.keyFile ?? (env.CONSUL_CLIENT_KEY || undefined);
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new ConsulError(
      'INVALID_CONFIG',
      'a Consul client certificate needs both a certificate and a key (tls.certFile and tls.keyFile, or CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY)',
    );
  }
  const ca = tls.caPem ?? (caFile === undefined ? undefined : read(caFile, 'Consul CA file (CONSUL_CACERT)'));
  if (ca === undefined && certFile === undefined) return undefined;
  return httpsAgent({
    ca,
    cert: certFile === undefined ? undefined : read(certFile, 'Consul client certificate'),
    key: keyFile === undefined ? undefined : read(keyFile, 'Consul client key'),
  });
}

/** The Node build's platform. @internal */
export const nodePlatform: Platform = { consulAgent: consulTlsAgent };
