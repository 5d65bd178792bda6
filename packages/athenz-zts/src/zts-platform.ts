/**
 * What differs between the Node build of this package and its browser-safe build: how the ZTS client reaches ZTS.
 * In Node, an https agent per client certificate (core's `clientCertificateAgents`) trusting the ZTS CA bundle;
 * elsewhere, `fetch`, which can neither present a client certificate nor trust a custom CA, so asking for either is
 * a typed error naming what to pass instead.
 * @packageDocumentation
 */
import { createHttpClient } from '@ecs-identity/core';
import { AthenzError } from './errors.js';
import { USER_AGENT } from './version.js';
import type { ClientTls, ZtsTransport } from './zts-client.js';

/** What the default transport is made from. @internal */
export interface TransportSettings {
  caBundle: string | string[] | undefined;
  timeoutMs: number;
  keepAlive: boolean;
}

/** The runtime's part of making a ZTS client. @internal */
export interface ZtsPlatform {
  /**
   * The default transport, how to release it, and (where the runtime can) how to open a connection to ZTS ahead of
   * a request (see `ZtsClient.preconnect`).
   */
  transport(settings: TransportSettings): {
    transport: ZtsTransport;
    close(): void;
    preconnect?: (url: string, tls: ClientTls | undefined) => void;
  };
}

/** The browser-safe build: `fetch`, no client certificate, no custom CA. @internal */
export const browserZtsPlatform: ZtsPlatform = {
  transport({ caBundle, timeoutMs }) {
    if (caBundle !== undefined) {
      throw new AthenzError(
        'INVALID_CONFIG',
        'caBundle: trusting a custom CA needs Node (an https agent); in this runtime pass a transport that trusts ZTS',
      );
    }
    const http = createHttpClient({ timeoutMs, userAgent: USER_AGENT });
    const transport: ZtsTransport = (tls) => {
      if (tls) {
        throw new AthenzError(
          'INVALID_CONFIG',
          'ZTS calls with a client certificate need a transport that can present one: in Node the client does it itself; elsewhere pass transport',
        );
      }
      return http;
    };
    return { transport, close: () => {} };
  },
};
