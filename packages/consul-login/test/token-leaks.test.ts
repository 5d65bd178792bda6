/**
 * No leaked Consul tokens, counted on the testkit's fake Consul over real HTTP: after each scenario the tokens alive
 * on the server are exactly the tokens in use. A login the client gave up on still made its token on the server
 * (`answerDelayMs`: the server is done, its answer is late); a token a newer one replaced is still valid until
 * logged out.
 */
import { consulTokenProvider } from '@ecs-identity/consul-login';
import { startTaskEmulators, type TaskEmulators } from '@ecs-identity/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TokenLogoutEvent } from '../src/token-logouts.js';

let world: TaskEmulators<{ zts: false; consul: object }>;
let env: Record<string, string>;

beforeAll(async () => {
  world = await startTaskEmulators({ zts: false, consulReplicationLagMs: 0 });
  const { names } = world;
  const tag = 'consul.hashicorp.com.service-name';
  // Consul's shortest MaxTokenTTL: the provider logs in again well before the minute is over.
  world.consul.addAuthMethod({
    name: 'short-ttl',
    maxTokenTtlMs: 60_000,
    config: {
      BoundIAMPrincipalARNs: [`arn:aws:iam::${names.accountId}:role${names.rolePath}*`],
      EnableIAMEntityDetails: true,
      IAMEntityTags: [tag],
    },
  });
  world.consul.addBindingRule({ authMethod: 'short-ttl', bindType: 'service', bindName: `\${entity_tags.${tag}}` });
  env = { ...world.env };
});
afterAll(() => world?.close());
beforeEach(() => world.consul.setFault(undefined));

const live = () =>
  world.consul
    .liveTokens()
    .map((t) => t.accessorId)
    .sort();

/** Resolves with the first logout event that `match`es. */
function logoutSeen(events: TokenLogoutEvent[], match: (e: TokenLogoutEvent) => boolean, what: string) {
  return new Promise<TokenLogoutEvent>((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const poll = () => {
      const found = events.find(match);
      if (found) resolve(found);
      else if (Date.now() > deadline) reject(new Error(`no ${what} logout within 20 s`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

describe('no leaked Consul tokens', () => {
  it('a login answered after the client timed out: its token is logged out when the answer comes', async () => {
    const before = live();
    // The case: the server makes the token at once and answers 3 s later; the client waits 1 s, then retries.
    world.consul.setFault({ match: '/v1/acl/login', answerDelayMs: 3_000, times: 1 });
    const events: TokenLogoutEvent[] = [];
    const provider = consulTokenProvider({
      env,
      aws: { serverIdHeaderValue: world.names.consulServerId },
      acl: { timeoutMs: 1_000 },
      replication: false,
      onLogout: (e) => events.push(e),
    });
    try {
      const token = await provider.get();
      const logins = world.consul.requests.filter((r) => r.path === '/v1/acl/login' && r.status === 200);
      expect(logins.length).toBeGreaterThanOrEqual(2); // the abandoned one and the retry
      const late = await logoutSeen(events, (e) => e.reason === 'late-answer', 'late-answer');
      expect(late.error).toBeUndefined();
      expect(late.accessorId).not.toBe(token.accessorId);
      expect(live()).toEqual([...before, token.accessorId].sort());
    } finally {
      await provider.close();
    }
    expect(live()).toEqual(before);
  });

  it('close() during a slow login waits for its answer and logs that token out', async () => {
    const before = live();
    world.consul.setFault({ match: '/v1/acl/login', answerDelayMs: 1_000, times: 1 });
    const provider = consulTokenProvider({
      env,
      aws: { serverIdHeaderValue: world.names.consulServerId },
      acl: { timeoutMs: 5_000 },
      replication: false,
    });
    const pending = provider.get().catch((e: unknown) => e);
    const deadline = Date.now() + 10_000;
    while (live().length === before.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(live()).toHaveLength(before.length + 1); // made on the server, not yet answered
    await provider.close();
    expect(await pending).toMatchObject({ code: 'CLOSED' });
    expect(live()).toEqual(before);
  });

  it('a token replaced before its TTL ends is logged out after the grace period', async () => {
    const before = live();
    const events: TokenLogoutEvent[] = [];
    const handedOut: string[] = [];
    // A refresh is due one second into the token's minute; without the background timer it starts on the next get().
    const provider = consulTokenProvider({
      env,
      authMethod: 'short-ttl',
      replication: false,
      logout: { supersededGraceMs: 300 },
      onLogout: (e) => events.push(e),
      refresh: { spread: 0, latestFraction: 1 / 60, background: false },
    });
    provider.subscribe((t) => handedOut.push(t.accessorId));
    try {
      const first = await provider.get();
      await new Promise((r) => setTimeout(r, 1_100));
      expect(await provider.get()).toBe(first); // still valid: served while the new login runs
      const superseded = await logoutSeen(events, (e) => e.reason === 'superseded', 'superseded');
      expect(superseded).toEqual({ accessorId: first.accessorId, reason: 'superseded' });
      expect(handedOut).toHaveLength(2);
      expect(handedOut[0]).toBe(first.accessorId);
      expect(provider.peek()?.accessorId).toBe(handedOut[1]);
      expect(live()).toEqual([...before, handedOut[1]].sort());
    } finally {
      await provider.close();
    }
    expect(live()).toEqual(before);
  });
});
