// OpenTelemetry metrics of the Consul token provider and of a one-shot login, against the testkit's task deployment
// (ECS agent, strict fake AWS, Consul with an aws-iam method), read back through the real metrics SDK.
import { consulAclClient, consulLogin, consulTokenProvider } from '@ecs-identity/consul-login';
import { credentialMetrics, CREDENTIAL_METRICS as M } from '@ecs-identity/core';
import { ManualClock, startTaskEmulators } from '@ecs-identity/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { metricsHarness, metricValue, pointsOf } from '../../../test-support/otel.js';

const TAG = 'consul.hashicorp.com.service-name';
const TTL_METHOD = 'short-ttl';
const noRetry = { maxAttempts: 1 };

const start = () => startTaskEmulators({ zts: false, consulReplicationLagMs: 0 });
let world: Awaited<ReturnType<typeof start>>;
let harness = metricsHarness();

beforeAll(async () => {
  world = await start();
  world.consul.addAuthMethod({
    name: TTL_METHOD,
    maxTokenTtlMs: 120_000,
    config: {
      BoundIAMPrincipalARNs: [`arn:aws:iam::${world.names.accountId}:role${world.names.rolePath}*`],
      EnableIAMEntityDetails: true,
      IAMEntityTags: [TAG],
    },
  });
  world.consul.addBindingRule({ authMethod: TTL_METHOD, bindType: 'service', bindName: `\${entity_tags.${TAG}}` });
});
afterAll(() => world.close());
afterEach(async () => {
  world.consul.setFault(undefined);
  await harness.shutdown();
  harness = metricsHarness();
});

describe('consul token metrics', () => {
  it('time to expiry on the injected clock, attempts, failures by code, and each login timed', async () => {
    const clock = new ManualClock(Date.now());
    const metrics = credentialMetrics({ meter: harness.meter, credential: 'consul-token', clock });
    const provider = consulTokenProvider({
      env: world.env,
      authMethod: TTL_METHOD,
      retry: { initial: noRetry },
      clock,
      metrics,
      random: () => 0,
    });
    const cred = { [M.credentialAttribute]: 'consul-token' };
    const login = { ...cred, [M.operationAttribute]: 'login' };
    try {
      const token = await provider.get();
      let points = await harness.collect();
      expect(metricValue(points, M.refreshAttempts, cred)).toBe(1);
      const ttl = metricValue(points, M.timeToExpiry, cred) as number;
      expect(ttl).toBe(((token.expiresAt as Date).getTime() - clock.now()) / 1000);
      expect(ttl).toBeGreaterThan(100);
      // The manual clock started before the login, so this is 120 s plus however long the login took.
      expect(ttl).toBeLessThan(180);
      expect(metricValue(points, M.operationDuration, login)).toMatchObject({ count: 1 });

      // The gauge follows the injected clock: 30 s later, 30 s less (no refresh is due yet).
      await clock.advance(30_000);
      points = await harness.collect();
      expect(metricValue(points, M.timeToExpiry, cred)).toBe(ttl - 30);

      // Consul refuses the next login: one failed attempt, counted by its code, and the refused login timed too.
      world.consul.setFault({ match: '/v1/acl/login', status: 403, body: 'Permission denied', times: 1 });
      const error = await provider.get({ forceRefresh: true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'CONSUL_PERMISSION_DENIED' });
      points = await harness.collect();
      expect(metricValue(points, M.refreshAttempts, cred)).toBe(2);
      expect(metricValue(points, M.refreshFailures, { ...cred, [M.errorAttribute]: 'CONSUL_PERMISSION_DENIED' })).toBe(
        1,
      );
      expect(
        metricValue(points, M.operationDuration, { ...login, [M.errorAttribute]: 'CONSUL_PERMISSION_DENIED' }),
      ).toMatchObject({ count: 1 });
      // The still-valid token kept being served, and its expiry is still what the gauge says.
      expect(await provider.get()).toBe(token);
      expect(metricValue(points, M.timeToExpiry, cred)).toBe(ttl - 30);
    } finally {
      await provider.close();
      metrics.close();
    }
  });

  it('a one-shot login records its duration, at least the delay the server took', async () => {
    // No clock given: durations come from performance.now(). Only a lower bound is asserted (the injected delay).
    const metrics = credentialMetrics({ meter: harness.meter, credential: 'client-token' });
    world.consul.setFault({ match: '/v1/acl/login', delayMs: 200, times: 1 });
    const token = await consulLogin({
      env: world.env,
      retry: noRetry,
      metrics,
      aws: { serverIdHeaderValue: world.names.consulServerId },
    });
    const points = await harness.collect();
    const [point] = pointsOf(points, M.operationDuration, { [M.credentialAttribute]: 'client-token' });
    expect(point?.attributes[M.operationAttribute]).toBe('login');
    expect(point?.value).toMatchObject({ count: 1 });
    expect((point?.value as { sum: number } | undefined)?.sum).toBeGreaterThanOrEqual(0.2);
    // consulLogin alone counts no attempts: that is the provider's job.
    expect(pointsOf(points, M.refreshAttempts)).toEqual([]);
    await consulAclClient({ address: world.consul.url, env: {} }).logout(token);
  });
});
