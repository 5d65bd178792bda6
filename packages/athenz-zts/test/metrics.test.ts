// OpenTelemetry metrics of the Athenz identity provider against the testkit's task deployment (ECS agent, strict
// fake AWS for attestation, ZTS over HTTPS with its record rules), read back through the real metrics SDK.
import 'reflect-metadata';
import { createZtsClient } from '@ecs-identity/athenz-zts';
import { athenzIdentityProvider } from '@ecs-identity/athenz-zts/node';
import { credentialMetrics, CREDENTIAL_METRICS as M } from '@ecs-identity/core';
import { ManualClock, startTaskEmulators } from '@ecs-identity/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsHarness, metricValue } from '../../../test-support/otel.js';

const start = () => startTaskEmulators({ consul: false });
let world: Awaited<ReturnType<typeof start>>;
beforeAll(async () => {
  world = await start();
});
afterAll(() => world.close());

describe('athenz identity metrics', () => {
  it('register and refresh timed, the certificate expiry on the injected clock, a refused refresh by code', async () => {
    const harness = metricsHarness();
    const clock = new ManualClock(Date.now());
    const metrics = credentialMetrics({ meter: harness.meter, credential: 'athenz-identity', clock });
    const zts = createZtsClient({ url: world.zts.baseUrl, caBundle: world.zts.caPem });
    const identity = athenzIdentityProvider({
      zts,
      env: world.env,
      sts: { endpoint: world.aws.url },
      dnsSuffixes: [world.names.dnsSuffix],
      key: { type: 'ec' },
      instance: { reRegister: false },
      retry: { initial: { maxAttempts: 1 } },
      clock,
      random: () => 0,
      metrics,
    });
    const cred = { [M.credentialAttribute]: 'athenz-identity' };
    const op = (operation: string) => ({ ...cred, [M.operationAttribute]: operation });
    try {
      const first = await identity.get();
      let points = await harness.collect();
      expect(metricValue(points, M.operationDuration, op('register'))).toMatchObject({ count: 1 });
      expect(metricValue(points, M.refreshAttempts, cred)).toBe(1);
      const ttl = metricValue(points, M.timeToExpiry, cred) as number;
      expect(ttl).toBe((first.expiresAt.getTime() - clock.now()) / 1000);
      expect(Math.abs(ttl - 7 * 24 * 3600)).toBeLessThan(120); // ZTS's 7 days, measured from our clock

      await clock.advance(3600_000);
      points = await harness.collect();
      expect(metricValue(points, M.timeToExpiry, cred)).toBe(ttl - 3600);

      const second = await identity.get({ forceRefresh: true });
      expect(second.serialNumber).not.toBe(first.serialNumber);
      points = await harness.collect();
      expect(metricValue(points, M.operationDuration, op('refresh'))).toMatchObject({ count: 1 });
      expect(metricValue(points, M.refreshAttempts, cred)).toBe(2);
      expect(metricValue(points, M.timeToExpiry, cred)).toBe((second.expiresAt.getTime() - clock.now()) / 1000);

      // ZTS revokes the record: the next refresh is refused, counted by its code, and that refresh call is timed.
      expect(world.zts.revoke(world.agent.taskId)).toBeGreaterThan(0);
      const error = await identity.get({ forceRefresh: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ZTS_REVOKED' });
      points = await harness.collect();
      expect(metricValue(points, M.refreshAttempts, cred)).toBe(3);
      expect(metricValue(points, M.refreshFailures, { ...cred, [M.errorAttribute]: 'ZTS_REVOKED' })).toBe(1);
      expect(
        metricValue(points, M.operationDuration, { ...op('refresh'), [M.errorAttribute]: 'ZTS_REVOKED' }),
      ).toMatchObject({ count: 1 });
    } finally {
      await identity.close();
      metrics.close();
      await zts.close();
      await harness.shutdown();
    }
  });
});
