/**
 * The Node transport for the ZTS client: the ZTS CA bundle and, for refresh / rolecert / token calls, the client
 * certificate, through core's `httpsAgent`. One agent per client certificate, kept while it is current, so calls
 * with the same identity reuse connections.
 * @packageDocumentation
 */
import type { Agent } from 'node:https';
import { createHttpClient, type HttpClient } from '@ecs-identity/core';
import { httpsAgent } from '@ecs-identity/core/node';
import { USER_AGENT } from '../version.js';
import type { ClientTls, ZtsTransport } from '../zts-client.js';

/** @public */
export interface ZtsTransportOptions {
  /** PEM CA bundle that signed the ZTS server certificate (siad's `/var/lib/sia/certs/ca.cert.pem` or the Athenz CA). Default: Node's roots. */
  caBundle?: string | string[] | undefined;
  /** Default per-request timeout (the client passes its own too). Default 10_000 ms. */
  timeoutMs?: number | undefined;
  /** Keep connections open between calls. Default true. */
  keepAlive?: boolean | undefined;
  /** Allow plain http to non-loopback hosts (never in production). */
  allowInsecureHttp?: boolean | undefined;
}

/** A {@link ZtsTransport} with a `close()` that releases its sockets. @public */
export interface NodeZtsTransport extends ZtsTransport {
  close(): void;
}

/**
 * Creates the Node transport.
 * @example
 * ```ts
 * const zts = createZtsClient({ url, transport: ztsTransport({ caBundle: await readFile(caPath, 'utf8') }) });
 * ```
 * @public
 */
export function ztsTransport(options: ZtsTransportOptions = {}): NodeZtsTransport {
  const keepAlive = options.keepAlive ?? true;
  const common = {
    userAgent: USER_AGENT,
    timeoutMs: options.timeoutMs ?? 10_000,
    ...(options.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
  };
  const ca = options.caBundle === undefined ? {} : { ca: options.caBundle };
  const plainAgent = httpsAgent({ ...ca, keepAlive });
  const plain = createHttpClient({ ...common, agent: plainAgent });
  // The current client certificate's agent and the one before it (a call made just before a rotation may still be
  // running on it); older ones are destroyed.
  const agents: { certPem: string; agent: Agent; http: HttpClient }[] = [];

  const transport = ((tls: ClientTls | undefined) => {
    if (!tls) return plain;
    const found = agents.find((a) => a.certPem === tls.certPem);
    if (found) return found.http;
    const agent = httpsAgent({ ...ca, key: tls.keyPem, cert: tls.certPem, keepAlive });
    const http = createHttpClient({ ...common, agent });
    agents.unshift({ certPem: tls.certPem, agent, http });
    for (const old of agents.splice(2)) old.agent.destroy();
    return http;
  }) as NodeZtsTransport;
  transport.close = () => {
    plainAgent.destroy();
    for (const a of agents.splice(0)) a.agent.destroy();
  };
  return transport;
}
