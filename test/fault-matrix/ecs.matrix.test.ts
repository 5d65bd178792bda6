// The fault matrix for the ECS agent's upstreams: task metadata v4 and v3, and the task-role credentials endpoint.
import type { RefreshingProvider } from '@ecs-identity/core';
import { type AwsCredentials, containerCredentials, getTaskIdentity } from '@ecs-identity/ecs-metadata';
import { type AwsEmulator, type EcsAgent, startAws, startEcsAgent } from '@ecs-identity/testkit';
import { afterAll, beforeAll } from 'vitest';
import { faultMatrix, type MatrixFault, type Upstream } from './harness.js';

const TIMEOUT_MS = 250; // per request
const DEADLINE_MS = 1000; // metadata: no retry starts after this, per endpoint
const FETCH_TIMEOUT_MS = 1500; // container credentials: one whole fetch

let aws: AwsEmulator;
const agents: Record<'v4' | 'v3', EcsAgent> = {} as Record<'v4' | 'v3', EcsAgent>;
const issued: string[] = [];

beforeAll(async () => {
  aws = await startAws({
    onIssue: (c) => issued.push(c.secretAccessKey, c.sessionToken ?? ''),
  });
  const taskRole = aws.addRole({ name: 'sports.api-service', path: '/ecs/' });
  for (const version of ['v4', 'v3'] as const) {
    agents[version] = await startEcsAgent({
      metadataVersions: [version],
      taskRoleArn: taskRole.arn,
      credentials: async (arn) => aws.issueRoleCredentials(arn),
    });
  }
});
afterAll(async () => {
  await Promise.all([aws.close(), agents.v4.close(), agents.v3.close()]);
});

function secrets(): string[] {
  const out = [...issued];
  for (const agent of Object.values(agents)) {
    const env = agent.env;
    if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN) out.push(env.AWS_CONTAINER_AUTHORIZATION_TOKEN);
    const id = env.AWS_CONTAINER_CREDENTIALS_FULL_URI?.split('/').pop();
    if (id) out.push(id);
  }
  return out;
}

const agentFault = (match: string, fault: MatrixFault, times: number | undefined) => ({
  match,
  ...fault,
  ...(times === undefined ? {} : { times }),
});

function metadata(version: 'v4' | 'v3'): Upstream {
  return {
    name: `ECS metadata ${version}`,
    via: 'getTaskIdentity()',
    retries: true,
    // this endpoint and v2 (which the v4-only / v3-only agent answers with 404): each at most its deadline plus the
    // last attempt's timeout
    boundMs: 2 * (DEADLINE_MS + TIMEOUT_MS),
    inject: (fault, times) => agents[version].setFault(agentFault(`${version}/task`, fault, times)),
    clear: () => agents[version].setFault(undefined),
    run: () =>
      getTaskIdentity({
        env: agents[version].env,
        agentUrl: agents[version].url,
        timeoutMs: TIMEOUT_MS,
        retry: { maxAttempts: 3, baseDelayMs: 20, deadlineMs: DEADLINE_MS },
      }),
  };
}

let credentials: RefreshingProvider<AwsCredentials> | undefined;
const credentialsUpstream: Upstream = {
  name: 'container credentials',
  via: 'containerCredentials().get()',
  retries: true,
  boundMs: FETCH_TIMEOUT_MS,
  async setup() {
    credentials = containerCredentials({
      env: agents.v4.env,
      timeoutMs: TIMEOUT_MS,
      retry: { initial: { maxAttempts: 4, baseDelayMs: 20, deadlineMs: FETCH_TIMEOUT_MS } },
      fetchTimeoutMs: FETCH_TIMEOUT_MS,
      refresh: { background: false },
    });
  },
  inject: (fault, times) => agents.v4.setFault(agentFault('credentials', fault, times)),
  clear: () => agents.v4.setFault(undefined),
  run: async () => (credentials as RefreshingProvider<AwsCredentials>).get(),
  async teardown() {
    await credentials?.close();
  },
};

faultMatrix('ECS agent', [metadata('v4'), metadata('v3'), credentialsUpstream], secrets);
