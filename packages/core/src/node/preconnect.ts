/**
 * Connections opened ahead of their request: an `https.Agent` whose next request to an origin takes the connection
 * opened for it, its TCP and TLS handshakes done while the caller was still preparing the request (the ZTS register
 * while the attestation runs). Against a server across a network that is two round trips off the request's path.
 * @packageDocumentation
 */
import type * as NodeHttps from 'node:https';
import type { Agent, AgentOptions, RequestOptions } from 'node:https';
import type * as NodeNet from 'node:net';
import type { Duplex } from 'node:stream';
import { type Clock, systemClock } from '../clock.js';

/**
 * How long a connection opened ahead waits for its request before it is closed. Servers close idle connections
 * after a while (ZTS's Jetty after 30 s): a connection handed to a request just as the server closes it would fail
 * that request, so one that waited this long is not used.
 */
export const PRECONNECT_IDLE_MS = 10_000;

/** An https.Agent that can open a connection before its request. @internal */
export interface PreconnectingAgent extends Agent {
  /**
   * Opens a connection to the origin of `url` (https only) for the next request there, unless the agent has a free
   * kept-alive one or is opening one already. A connection that fails, or waits longer than
   * {@link PRECONNECT_IDLE_MS}, is closed quietly: the request then opens its own, and reports its own error.
   */
  preconnect(url: URL): void;
}

interface Waiting {
  readonly socket: Duplex;
  /** The TLS server name it was opened with: only a request for the same one may take it. */
  readonly servername: string;
  readonly timer: unknown;
  readonly drop: () => void;
}

type AgentClass = new (options: AgentOptions, clock: Clock) => PreconnectingAgent;
let agentClass: AgentClass | undefined;

/**
 * A new agent, whose waiting connections are timed by `clock` (its timers never keep the process alive). `node:https`
 * is loaded on first use, as in tls.ts.
 * @internal
 */
export function preconnectingAgent(options: AgentOptions, clock: Clock = systemClock): PreconnectingAgent {
  agentClass ??= makeAgentClass();
  return new agentClass(options, clock);
}

const originKey = (host: unknown, port: unknown): string => `${String(host)}:${String(port)}`;

function makeAgentClass(): AgentClass {
  const https = process.getBuiltinModule('node:https') as typeof NodeHttps;
  const net = process.getBuiltinModule('node:net') as typeof NodeNet;

  return class extends https.Agent implements PreconnectingAgent {
    readonly #waiting = new Map<string, Waiting>();
    readonly #clock: Clock;

    constructor(options: AgentOptions, clock: Clock) {
      super(options);
      this.#clock = clock;
    }

    preconnect(url: URL): void {
      if (url.protocol !== 'https:') return;
      // What http.request makes of a URL: the host without IPv6 brackets, the port as a number.
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const port = url.port === '' ? 443 : Number(url.port);
      const key = originKey(host, port);
      if (this.#waiting.has(key)) return;
      // The server name the agent gives a request to this origin (none for an IP address, as Node does).
      const servername = net.isIP(host) === 0 ? host : '';
      // The agent's own options (its secure context above all), as it merges them into every connection it opens.
      const options: RequestOptions = { ...this.options, host, port, servername };
      if ((this.freeSockets[this.getName(options)]?.length ?? 0) > 0) return;
      const socket = super.createConnection(options);
      if (!socket) return;
      const drop = (): void => {
        const waiting = this.#waiting.get(key);
        if (waiting?.socket === socket) {
          this.#waiting.delete(key);
          this.#clock.clearTimeout(waiting.timer);
        }
        socket.destroy();
      };
      socket.on('error', drop);
      socket.once('close', drop);
      const timer = this.#clock.setTimeout(drop, PRECONNECT_IDLE_MS);
      this.#waiting.set(key, { socket, servername, timer, drop });
    }

    override createConnection(
      options: RequestOptions,
      callback?: (err: Error | null, stream: Duplex) => void,
    ): Duplex | null | undefined {
      const key = originKey(options.host, options.port);
      const waiting = this.#waiting.get(key);
      if (waiting !== undefined && waiting.servername === (options.servername ?? '') && !waiting.socket.destroyed) {
        this.#waiting.delete(key);
        this.#clock.clearTimeout(waiting.timer);
        // From here on the request's listeners report what happens to it.
        waiting.socket.off('error', waiting.drop);
        waiting.socket.off('close', waiting.drop);
        return waiting.socket;
      }
      return super.createConnection(options, callback);
    }

    override destroy(): void {
      for (const waiting of [...this.#waiting.values()]) waiting.drop();
      super.destroy();
    }
  };
}
