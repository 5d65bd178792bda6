/**
 * A loopback TCP proxy that holds every chunk half a round trip in each direction: a server on 127.0.0.1 that behaves,
 * for round trips, like one across a network. The TCP handshake, a TLS handshake over it and every request and answer
 * pay the round trip, in order (chunks leave in the order they came, each `rttMs / 2` after it arrived); bandwidth is
 * not limited. For the benchmarks only (the emulators answer at once on loopback, where the only waits are CPU).
 */
import { connect, createServer, type Socket } from 'node:net';

export interface LatencyProxy {
  /** `target` with its host and port replaced by the proxy's (path kept). */
  readonly url: string;
  close(): Promise<void>;
}

/** Forwards `from` to `to`, each chunk and the end `delay` ms late; a reset or close follows the data already held. */
function forward(from: Socket, to: Socket, delay: number): void {
  // Node runs timers of the same delay in the order they were set: the chunks stay in order.
  from.on('data', (chunk) => setTimeout(() => to.destroyed || to.write(chunk), delay));
  from.on('end', () => setTimeout(() => to.destroyed || to.end(), delay));
  from.on('error', () => setTimeout(() => to.destroy(), delay));
  from.on('close', () => setTimeout(() => to.destroy(), delay + 1));
}

/** Starts a proxy to `target` (an http or https URL on loopback) with round trip `rttMs`. */
export async function latencyProxy(target: string, rttMs: number): Promise<LatencyProxy> {
  const upstream = new URL(target);
  const delay = rttMs / 2;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const origin = connect(Number(upstream.port), upstream.hostname);
    for (const s of [client, origin]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    }
    forward(client, origin, delay);
    forward(origin, client, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('latency proxy: no port');
  const url = new URL(target);
  url.port = String(address.port);
  return {
    url: url.href.replace(/\/$/, ''),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
