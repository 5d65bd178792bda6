// The fault matrix for the Consul path: the STS GetCallerIdentity call the client makes (role ARN unknown), the ACL
// login, the stale self-read of the replication wait, and the logout.
import { type ConsulToken, consulAclClient, consulLogin } from '@ecs-identity/consul-login';
import { type CredentialProvider, IdentityError } from '@ecs-identity/core';
import { type AwsCredentials, awsCredentials, getTaskIdentity, type TaskFacts } from '@ecs-identity/ecs-metadata';
import { startTaskEmulators } from '@ecs-identity/testkit';
import { afterAll, beforeAll, expect } from 'vitest';
import { faultMatrix, type MatrixFault, type Upstream } from './harness.js';

const TIMEOUT_MS = 300; // per request (Consul and STS)
const LOGIN_BOUND_MS = 2000; // the login phase, its retries included
const REPLICATION_BOUND_MS = 1500; // the replication wait

const issued: string[] = [];
const start = () =>
  startTaskEmulators({
    zts: false,
    consulReplicationLagMs: 0,
    aws: { onIssue: (c) => void issued.push(c.secretAccessKey, c.sessionToken ?? '') },
    consul: { onToken: (t) => void issued.push(t.secretId) },
  });
let world: Awaited<ReturnType<typeof start>>;
let task: TaskFacts;
const DIRECT_METHOD = 'iam-sts-direct';

beforeAll(async () => {
  world = await start();
  const id = await getTaskIdentity({ env: world.env });
  task = id;
  // A second auth method whose STS endpoint is the fake AWS itself, so the client's own GetCallerIdentity call (made
  // when the credentials do not name their role) goes there too.
  world.consul.addAuthMethod({
    name: DIRECT_METHOD,
    config: {
      BoundIAMPrincipalARNs: [`arn:aws:iam::${world.names.accountId}:role${world.names.rolePath}*`],
      EnableIAMEntityDetails: true,
      IAMEntityTags: ['consul.hashicorp.com.service-name'],
      ServerIDHeaderValue: world.names.consulServerId,
      STSEndpoint: world.aws.url,
    },
  });
  world.consul.addBindingRule({
    authMethod: DIRECT_METHOD,
    bindType: 'service',
    bindName: `\${entity_tags.consul.hashicorp.com.service-name}`,
  });
});
afterAll(() => world.close());

function secrets(): string[] {
  const env = world.env;
  return [
    ...issued,
    env.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? '',
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI?.split('/').pop() ?? '',
  ];
}

/** consulLogin with the matrix's bounds. */
function login(extra: Parameters<typeof consulLogin>[0] = {}): Promise<ConsulToken> {
  return consulLogin({
    env: world.env,
    task,
    acl: { timeoutMs: TIMEOUT_MS },
    retry: { maxAttempts: 4, baseDelayMs: 20, maxDelayMs: 100, deadlineMs: LOGIN_BOUND_MS },
    replication: { attempts: 20, intervalMs: 50, timeoutMs: REPLICATION_BOUND_MS },
    ...extra,
    aws: { serverIdHeaderValue: world.names.consulServerId, ...extra.aws },
  });
}

// consulLogin: the login phase, the replication wait, and the logout of a token it cannot hand out.
const LOGIN_BOUND = LOGIN_BOUND_MS + REPLICATION_BOUND_MS + TIMEOUT_MS;

const consulFault = (match: string, fault: MatrixFault, times: number | undefined) => ({
  match,
  ...fault,
  ...(times === undefined ? {} : { times }),
});

/** Every case: no token is left behind that the client does not hold (a failed login logs its token out). */
function noOrphans(before: number, held: number): void {
  expect(world.consul.tokens().length).toBeLessThanOrEqual(before + held);
}

let tokensBefore = 0;
const held: ConsulToken[] = [];
const remember = async (p: Promise<ConsulToken>) => {
  const t = await p;
  held.push(t);
  return t;
};
const forgetAll = async () => {
  const acl = consulAclClient({ env: world.env });
  for (const t of held.splice(0)) await acl.logout(t).catch(() => {});
};

function viaLogin(name: string, path: string, extra: () => Parameters<typeof consulLogin>[0] = () => ({})): Upstream {
  return {
    name,
    via: 'consulLogin()',
    retries: true,
    boundMs: LOGIN_BOUND,
    async setup() {
      tokensBefore = world.consul.tokens().length;
    },
    inject: (fault, times) => world.consul.setFault(consulFault(path, fault, times)),
    clear: () => world.consul.setFault(undefined),
    run: () => remember(login(extra())),
    async teardown() {
      // a login whose answer was lost (truncated, reset) leaves a token only the server knows: that is not ours
      if (!name.includes('login')) noOrphans(tokensBefore, held.length);
      await forgetAll();
    },
  };
}

/** Credentials without the role ARN: the bearer token then needs a real GetCallerIdentity call. */
const anonymousRole: CredentialProvider<AwsCredentials> = {
  get: async () => {
    const c = world.aws.issueRoleCredentials(world.taskRole.arn);
    return awsCredentials({
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    });
  },
  subscribe: () => () => {},
  close: async () => {},
  [Symbol.asyncDispose]: async () => {},
};

const getCallerIdentityUpstream: Upstream = {
  name: 'STS GetCallerIdentity',
  via: 'consulLogin() with credentials that do not name their role',
  retries: true,
  boundMs: LOGIN_BOUND,
  inject: (fault, times) =>
    world.aws.setFault({ match: 'GetCallerIdentity', ...fault, ...(times === undefined ? {} : { times }) }),
  clear: () => world.aws.setFault(undefined),
  run: () =>
    remember(login({ authMethod: DIRECT_METHOD, aws: { stsEndpoint: world.aws.url }, credentials: anonymousRole })),
  teardown: forgetAll,
};

let token: ConsulToken | undefined;
const logoutUpstream: Upstream = {
  name: 'Consul logout',
  via: 'consulAclClient().logout() (one attempt, as at shutdown)',
  retries: false,
  boundMs: TIMEOUT_MS,
  async setup() {
    token = await login();
  },
  inject: (fault, times) => world.consul.setFault(consulFault('/v1/acl/logout', fault, times)),
  clear: () => world.consul.setFault(undefined),
  // "ACL not found" is what a logout wants (the provider's close() takes it so): the answer to a logout that had
  // already happened when its first answer was lost.
  run: () =>
    consulAclClient({ env: world.env, timeoutMs: TIMEOUT_MS })
      .logout(token as ConsulToken)
      .catch((e: unknown) => {
        if (!IdentityError.is(e, 'CONSUL_TOKEN_NOT_FOUND')) throw e;
      }),
  async teardown() {
    if (token) held.push(token);
    await forgetAll();
  },
};

faultMatrix(
  'Consul',
  [
    getCallerIdentityUpstream,
    viaLogin('Consul login', '/v1/acl/login'),
    viaLogin('Consul self-read', '/v1/acl/token/self'),
    logoutUpstream,
  ],
  secrets,
);
