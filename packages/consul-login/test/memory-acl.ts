/**
 * Test helper: an in-memory ConsulAclClient that records calls and answers from a script, plus a fixed credentials
 * provider. For unit tests of consulLogin / the provider, where time is a ManualClock; the e2e tests use the
 * testkit's fake Consul over HTTP instead.
 */
import type { CredentialProvider } from '@ecs-identity/core';
import { IdentityError, sleep } from '@ecs-identity/core';
import type { AwsCredentials } from '@ecs-identity/ecs-metadata';
import type { ManualClock } from '@ecs-identity/testkit';
import type { ConsulAclClient, LoginParams } from '../src/acl-client.js';
import { parseConsulToken } from '../src/consul-token.js';

export interface MemoryAcl extends ConsulAclClient {
  /** Set it to make logins listen late (see late-login.ts); absent, like a client that does not say. */
  timeoutMs?: number;
  logins: LoginParams[];
  /** The next logins take this long on the clock (consumed in order); the token exists once the time has passed. */
  loginDelaysMs: number[];
  logouts: string[];
  selfReads: number;
  /** Throw this from the next login calls (consumed in order). */
  loginErrors: unknown[];
  /** Answer `ACL not found` to this many self-reads first. */
  lagReads: number;
  logoutError?: unknown;
  /** Issued tokens expire this long after issue (ms), if set. */
  ttlMs?: number;
}

export function memoryAcl(clock?: ManualClock): MemoryAcl {
  let n = 0;
  const acl: MemoryAcl = {
    address: 'http://127.0.0.1:8500',
    logins: [],
    loginDelaysMs: [],
    logouts: [],
    selfReads: 0,
    loginErrors: [],
    lagReads: 0,
    async login(params) {
      acl.logins.push(params);
      const delay = acl.loginDelaysMs.shift();
      if (delay !== undefined) await sleep(delay, undefined, clock);
      const error = acl.loginErrors.shift();
      if (error !== undefined) throw error;
      n++;
      const now = clock?.now() ?? Date.now();
      return parseConsulToken({
        AccessorID: `accessor-${n}`,
        SecretID: `secret-${n}-0123456789`,
        AuthMethod: params.authMethod,
        ...(acl.ttlMs === undefined ? {} : { ExpirationTime: new Date(now + acl.ttlMs).toISOString() }),
      });
    },
    async logout(token) {
      const secret = typeof token === 'string' ? token : token.secretId;
      if (acl.logoutError !== undefined) throw acl.logoutError;
      acl.logouts.push(secret);
    },
    async readSelf(token) {
      acl.selfReads++;
      if (acl.lagReads > 0) {
        acl.lagReads--;
        throw new IdentityError('CONSUL_TOKEN_NOT_FOUND', 'self-read answered 403: ACL not found', { status: 403 });
      }
      return typeof token === 'string' ? parseConsulToken({ AccessorID: 'x', SecretID: token }) : token;
    },
  };
  return acl;
}

export const taskRoleArn = 'arn:aws:iam::123456789012:role/ecs/web-task';

/** A credentials provider handing out a new fixed credential per get(), counting calls and forced refreshes. */
export function countingCredentials(): CredentialProvider<AwsCredentials> & { gets: number; forced: number } {
  const provider = {
    gets: 0,
    forced: 0,
    async get(options?: { forceRefresh?: boolean }) {
      provider.gets++;
      if (options?.forceRefresh) provider.forced++;
      return {
        accessKeyId: `ASIATESTKEY${String(provider.gets).padStart(9, '0')}`,
        secretAccessKey: 'test/secret/key/for/unit/tests/000000000',
        sessionToken: `session-token-${provider.gets}`,
        roleArn: taskRoleArn,
      };
    },
    subscribe: () => () => {},
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
  return provider;
}

/** Advances a ManualClock in steps until `promise` settles (bounded). */
export async function drive<T>(clock: ManualClock, promise: Promise<T>, stepMs = 50, maxSteps = 2000): Promise<T> {
  let settled = false;
  const watched = promise.finally(() => {
    settled = true;
  });
  watched.catch(() => undefined);
  for (let i = 0; i < maxSteps && !settled; i++) await clock.advance(stepMs);
  if (!settled) throw new Error(`did not settle within ${maxSteps} steps of ${stepMs} ms`);
  return watched;
}
