// The fault matrix for the Athenz path: STS AssumeRole (attestation through the AWS SDK) and ZTS register, refresh,
// role certificates, access tokens and the JWKS, each through the provider that uses it.

import {
  type AccessToken,
  accessTokenProvider,
  createZtsClient,
  type RoleCertificateSet,
  roleCertificateProvider,
  type X509Identity,
  type ZtsClient,
} from '@ecs-identity/athenz-zts';
import { type AthenzIdentityProvider, athenzIdentityProvider } from '@ecs-identity/athenz-zts/node';
import type { RefreshingProvider } from '@ecs-identity/core';
import { startTaskEmulators, type ZtsFault } from '@ecs-identity/testkit';
import { afterAll, beforeAll } from 'vitest';
import { faultMatrix, type MatrixFault, type Upstream } from './harness.js';

const TIMEOUT_MS = 300; // per request to the upstream under fault (STS or ZTS)
// Per request to an upstream not under fault in the row: generous, so that a loaded machine cannot turn a healthy
// call into a timeout (a refresh's "next call" makes one attempt, its AssumeRole included).
const CALM_TIMEOUT_MS = 2000;
const FETCH_TIMEOUT_MS = 3000; // one whole provider fetch, its retries included

const issued: string[] = [];
const keys: string[] = [];
const start = () =>
  startTaskEmulators({
    consul: false,
    aws: { onIssue: (c) => void issued.push(c.secretAccessKey, c.sessionToken ?? '') },
    zts: { onToken: (t) => void issued.push(t) },
  });
let world: Awaited<ReturnType<typeof start>>;
let zts: ZtsClient;
let calmZts: ZtsClient;

beforeAll(async () => {
  world = await start();
  zts = createZtsClient({ url: world.zts.baseUrl, caBundle: world.zts.caPem, timeoutMs: TIMEOUT_MS });
  calmZts = createZtsClient({ url: world.zts.baseUrl, caBundle: world.zts.caPem, timeoutMs: CALM_TIMEOUT_MS });
});
afterAll(async () => {
  await zts.close();
  await calmZts.close();
  await world.close();
});

function secrets(): string[] {
  const env = world.env;
  return [
    ...issued,
    ...keys,
    env.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? '',
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI?.split('/').pop() ?? '',
  ];
}

/** The identity provider of a row: the short per-request timeout only towards the upstream under fault. */
function identity(faulted: 'sts' | 'zts'): AthenzIdentityProvider {
  const provider = athenzIdentityProvider({
    zts: faulted === 'zts' ? zts : calmZts,
    env: world.env,
    dnsSuffixes: [world.names.dnsSuffix],
    key: { type: 'ec' },
    sts: { endpoint: world.aws.url, timeoutMs: faulted === 'sts' ? TIMEOUT_MS : CALM_TIMEOUT_MS },
    retry: { initial: { maxAttempts: 3, baseDelayMs: 20, deadlineMs: FETCH_TIMEOUT_MS } },
    fetchTimeoutMs: FETCH_TIMEOUT_MS,
    refresh: { background: false },
  });
  provider.subscribe((id) => keys.push(id.privateKeyPem));
  return provider;
}

const ztsFault = (path: RegExp, fault: MatrixFault, times: number | undefined): ZtsFault => ({
  match: { path },
  ...(fault.status === undefined ? {} : { status: fault.status }),
  ...(fault.retryAfter === undefined ? {} : { retryAfterSeconds: Number(fault.retryAfter) }),
  ...(fault.hang ? { hang: true } : {}),
  ...(fault.resetMidBody ? { resetMidBody: true } : {}),
  ...(fault.truncate ? { truncate: true } : {}),
  ...(fault.malformed ? { malformed: true } : {}),
  ...(fault.padTo === undefined ? {} : { padTo: fault.padTo }),
  ...(times === undefined ? {} : { times }),
});

/** Open providers of the current case, closed in teardown. */
const open: { close(): Promise<void> }[] = [];
async function closeAll(): Promise<void> {
  for (const p of open.splice(0).reverse()) await p.close().catch(() => {});
}

let id: AthenzIdentityProvider | undefined;
const current = () => id as AthenzIdentityProvider;

/** An upstream reached by the identity provider's first get() (register, and the AssumeRole before it). */
function viaRegister(name: string, faulted: 'sts' | 'zts', inject: Upstream['inject'], clear: () => void): Upstream {
  return {
    name,
    via: 'athenzIdentityProvider().get()',
    retries: true,
    boundMs: FETCH_TIMEOUT_MS,
    async setup() {
      id = identity(faulted);
      open.push(id);
    },
    inject,
    clear,
    run: () => current().get(),
    teardown: closeAll,
  };
}

/**
 * An upstream reached with a registered identity: refresh, role certificates, tokens, JWKS. `retries: false` for a
 * call made while a valid credential is cached: the refresh policy makes one attempt per backoff then (no inner
 * retries while validity is long, so a fleet does not storm a recovering ZTS), and the next attempt recovers.
 */
function withIdentity(
  name: string,
  via: string,
  path: RegExp,
  make: () => RefreshingProvider<X509Identity | RoleCertificateSet | AccessToken> | undefined,
  run: (p: RefreshingProvider<X509Identity | RoleCertificateSet | AccessToken> | undefined) => Promise<unknown>,
  retries = true,
): Upstream {
  let provider: RefreshingProvider<X509Identity | RoleCertificateSet | AccessToken> | undefined;
  return {
    name,
    via,
    retries,
    boundMs: FETCH_TIMEOUT_MS,
    async setup() {
      id = identity('zts');
      open.push(id);
      await id.get();
      provider = make();
      if (provider) open.push(provider);
    },
    inject: (fault, times) => world.zts.setFault(ztsFault(path, fault, times)),
    clear: () => world.zts.setFault(),
    run: () => run(provider),
    teardown: closeAll,
  };
}

const tokenOptions = () => ({
  zts,
  identity: current(),
  retry: { initial: { maxAttempts: 3, baseDelayMs: 20, deadlineMs: FETCH_TIMEOUT_MS } },
  fetchTimeoutMs: FETCH_TIMEOUT_MS,
});

faultMatrix(
  'Athenz',
  [
    viaRegister(
      'STS AssumeRole',
      'sts',
      (fault, times) =>
        world.aws.setFault({ match: 'AssumeRole', ...fault, ...(times === undefined ? {} : { times }) }),
      () => world.aws.setFault(undefined),
    ),
    viaRegister(
      'ZTS register',
      'zts',
      (fault, times) => world.zts.setFault(ztsFault(/^\/instance$/, fault, times)),
      () => world.zts.setFault(),
    ),
    withIdentity(
      'ZTS refresh',
      'athenzIdentityProvider().get({ forceRefresh: true })',
      /^\/instance\/./,
      () => undefined,
      () => current().get({ forceRefresh: true }),
      false,
    ),
    withIdentity(
      'ZTS rolecert',
      'roleCertificateProvider().get()',
      /^\/rolecert$/,
      () => roleCertificateProvider({ ...tokenOptions(), roles: ['sports:role.readers'] }),
      (p) => (p as RefreshingProvider<RoleCertificateSet>).get(),
    ),
    withIdentity(
      'ZTS token',
      'accessTokenProvider().get()',
      /^\/oauth2\/token$/,
      () => accessTokenProvider({ ...tokenOptions(), scope: 'sports:domain' }),
      (p) => (p as RefreshingProvider<AccessToken>).get(),
    ),
    withIdentity(
      'ZTS JWKS',
      'accessTokenProvider({ verify }).get()',
      /^\/oauth2\/keys$/,
      () => accessTokenProvider({ ...tokenOptions(), scope: 'sports:domain', verify: { issuer: world.zts.issuer } }),
      (p) => (p as RefreshingProvider<AccessToken>).get(),
    ),
  ],
  secrets,
);
