/**
 * The Node build's ZTS transport: the ZTS CA bundle and, for refresh / rolecert / token calls, the client certificate,
 * through core's one client-certificate rotation mechanism (`clientCertificateAgents`): an agent per client
 * certificate, kept while it is the newest, so calls with the same identity reuse connections, and a replaced one
 * retired once the calls made just before the rotation have finished.
 * @packageDocumentation
 */
import { createHttpClient } from '@ecs-identity/core';
import { clientCertificateAgents } from '@ecs-identity/core/node';
import { USER_AGENT } from '../version.js';
import type { ClientTls, ZtsTransport } from '../zts-client.js';
import type { ZtsPlatform } from '../zts-platform.js';

/** @internal */
export const nodeZtsPlatform: ZtsPlatform = {
  transport({ caBundle, timeoutMs, keepAlive }) {
    const agents = clientCertificateAgents({ ca: caBundle, keepAlive });
    const material = (tls: ClientTls | undefined) =>
      tls === undefined ? undefined : { key: tls.keyPem, cert: tls.certPem };
    const transport: ZtsTransport = (tls) =>
      createHttpClient({ userAgent: USER_AGENT, timeoutMs, agent: agents.agentFor(material(tls)) });
    return {
      transport,
      close: () => agents.close(),
      preconnect: (url, tls) => agents.preconnect(url, material(tls)),
    };
  },
};
