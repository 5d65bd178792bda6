// The connection to ZTS is opened while the attestation runs: the register and the refresh of the identity provider
// arrive on a connection whose TCP and TLS handshakes were done before the AssumeRole was answered, not after it.
// Against the testkit's task deployment (ECS agent, strict fake AWS, ZTS over HTTPS), with the AssumeRole answer held
// back so that the order is plain in the servers' logs.
import 'reflect-metadata';
import { createZtsClient, type ZtsClient } from '@ecs-identity/athenz-zts';
import { athenzIdentityProvider } from '@ecs-identity/athenz-zts/node';
import { startTaskEmulators } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const start = () => startTaskEmulators({ consul: false });
let world: Awaited<ReturnType<typeof start>>;
beforeAll(async () => {
  world = await start();
});
afterAll(() => world.close());

/** How long the fake AWS holds each AssumeRole answer. */
const HELD_MS = 400;

/** An identity provider (P-256, no background refresh, one try per get) on `client`. */
function providerOf(client: ZtsClient) {
  const identity = athenzIdentityProvider({
    zts: client,
    env: world.env,
    sts: { endpoint: world.aws.url },
    dnsSuffixes: [world.names.dnsSuffix],
    key: { type: 'ec' },
    refresh: { background: false },
    retry: { initial: { maxAttempts: 1 } },
  });
  return { client, identity };
}

/** How long before the last call its connection's handshake was done (the fake ZTS's clock, ms). */
const lead = () => (world.zts.requests().at(-1)?.at ?? 0) - (world.zts.connections().at(-1)?.at ?? 0);

/** Waits (bounded) until the fake ZTS has no connection open, closing them first with `close`. */
async function closeAll(close = false): Promise<void> {
  if (close) world.zts.closeConnections();
  for (let i = 0; i < 200 && world.zts.openConnections() > 0; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('the identity provider opens its ZTS connection during the attestation', () => {
  it('register, then refresh (with the client certificate): each arrives on a connection made while AssumeRole was held', async () => {
    const { zts, aws } = world;
    const before = zts.connections().length;
    const { client, identity } = providerOf(
      createZtsClient({ url: zts.baseUrl, caBundle: zts.caPem, keepAlive: false }),
    );
    try {
      aws.setFault({ match: 'AssumeRole', delayMs: HELD_MS });
      const first = await identity.get();
      const second = await identity.get({ forceRefresh: true });
      expect(second.serialNumber).not.toBe(first.serialNumber);

      const calls = zts.requests().filter((r) => r.method === 'POST' && r.path.includes('/instance'));
      const [register, refresh] = calls.slice(-2);
      const connections = zts.connections().slice(before);
      expect(connections).toHaveLength(2); // one per call, none left over
      for (const [call, connection] of [
        [register, connections[0]],
        [refresh, connections[1]],
      ] as const) {
        expect([200, 201]).toContain(call?.status); // 201 Created for the register, 200 for the refresh
        expect(call?.connection).toBe(connection?.id);
        // The handshake was done while the AssumeRole answer was held, well before the call came.
        expect((call?.at ?? 0) - (connection?.at ?? 0)).toBeGreaterThanOrEqual(HELD_MS / 2);
      }
      // The refresh's connection presented the identity's certificate (made with the client certificate).
      expect(connections[0]?.clientCommonName).toBeUndefined();
      expect(connections[1]?.clientCommonName).toBe(`${world.names.athenzDomain}.${world.names.athenzService}`);
    } finally {
      aws.setFault(undefined);
      await identity.close();
      await client.close();
    }
  });

  it('a connection opened for a register that never comes is closed with the client; none while attestations fail', async () => {
    const { zts, aws } = world;
    const before = zts.connections().length;
    const { client, identity } = providerOf(createZtsClient({ url: zts.baseUrl, caBundle: zts.caPem }));
    aws.setFault({ match: 'AssumeRole', status: 403, delayMs: HELD_MS });
    try {
      await expect(identity.get()).rejects.toThrow(/AssumeRole/);
      // The connection was made during the attestation (the server saw its handshake) and no call came on it.
      expect(zts.connections().length).toBe(before + 1);
      // While the attestation keeps failing (an STS outage), the next tries open none: ZTS is spared a handshake per
      // retry of every task. (The waiting connection is closed first, as ZTS's idle timeout would, so that a try that
      // opened one could not have reused it.)
      await closeAll(true);
      await expect(identity.get()).rejects.toThrow(/AssumeRole/);
      await expect(identity.get()).rejects.toThrow(/AssumeRole/);
      expect(zts.connections().length).toBe(before + 1);
      // The try whose attestation succeeds registers on a connection opened after it; from then on connections are
      // opened ahead again (here the refresh's, during its attestation).
      aws.setFault({ match: 'AssumeRole', delayMs: HELD_MS });
      await identity.get();
      expect(zts.connections().length).toBe(before + 2);
      expect(zts.requests().at(-1)?.connection).toBe(before + 2);
      expect(lead()).toBeLessThan(HELD_MS / 2);
      await identity.get({ forceRefresh: true });
      expect(zts.connections().length).toBe(before + 3);
      expect(zts.requests().at(-1)?.connection).toBe(before + 3);
      expect(lead()).toBeGreaterThanOrEqual(HELD_MS / 2);
    } finally {
      aws.setFault(undefined);
      await identity.close();
      await client.close();
    }
    await closeAll(); // the client closed its connections; the fake's side sees it a moment later
    expect(zts.openConnections()).toBe(0);
  });
});
