// getTaskMetadata / getContainerMetadata against the testkit's fake ECS agent on 127.0.0.1.
import { IdentityError } from '@ecs-identity/core';
import {
  getContainerMetadata,
  getTaskIdentity,
  getTaskMetadata,
  type TaskMetadataOptions,
  taskIdentity,
} from '@ecs-identity/ecs-metadata';
import { type EcsAgent, startEcsAgent } from '@ecs-identity/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const agents: EcsAgent[] = [];
async function agent(options: Parameters<typeof startEcsAgent>[0] = {}) {
  const a = await startEcsAgent(options);
  agents.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

// No sleeping between retries: the backoff is random() * cap, and random is 0.
const fast = (a: EcsAgent, extra: TaskMetadataOptions = {}): TaskMetadataOptions => ({
  env: a.env,
  agentUrl: a.url,
  random: () => 0,
  ...extra,
});

async function failure(p: Promise<unknown>): Promise<IdentityError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IdentityError);
    return e as IdentityError;
  }
  throw new Error('expected a failure');
}

describe('getTaskMetadata', () => {
  it('reads v4 first and derives the Fargate identity', async () => {
    const a = await agent({
      launchType: 'FARGATE',
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      clusterName: 'blue',
    });
    const id = taskIdentity(await getTaskMetadata(fast(a)));
    expect(id).toEqual({
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      accountId: '123456789012',
      taskId: a.taskId,
      taskArn: a.taskArn,
      clusterArn: 'arn:aws-us-gov:ecs:us-gov-west-1:123456789012:cluster/blue',
      clusterName: 'blue',
      family: 'sports-api',
      revision: '7',
      launchType: 'FARGATE',
      availabilityZone: 'us-gov-west-1a',
    });
    expect(a.requests.map((r) => r.endpoint)).toEqual(['v4/task']);
  });

  it('builds the cluster ARN for an EC2 task with an old-format ARN and a short Cluster', async () => {
    const a = await agent({
      launchType: 'EC2',
      arnFormat: 'old',
      partition: 'aws-cn',
      region: 'cn-north-1',
      clusterName: 'c1',
    });
    const id = await getTaskIdentity(fast(a));
    expect(a.taskArn).toMatch(/:task\/[0-9a-f-]{36}$/);
    expect(id.clusterArn).toBe('arn:aws-cn:ecs:cn-north-1:123456789012:cluster/c1');
    expect(id.launchType).toBe('EC2');
    expect(id.taskId).toBe(a.taskId);
  });

  it('falls back v4 -> v3 -> v2 in that order', async () => {
    const a = await agent();
    a.setFault([
      { match: 'v4/task', status: 404 },
      { match: 'v3/task', status: 404 },
    ]);
    const task = await getTaskMetadata(fast(a));
    expect(task.TaskARN).toBe(a.taskArn);
    expect(a.requests.map((r) => r.endpoint)).toEqual(['v4/task', 'v3/task', 'v2/metadata']);
  });

  it('uses v3 when the task has no v4 endpoint, and v2 alone on an old platform', async () => {
    const v3 = await agent({ metadataVersions: ['v3', 'v2'] });
    expect((await getTaskMetadata(fast(v3))).TaskARN).toBe(v3.taskArn);
    expect(v3.requests.map((r) => r.endpoint)).toEqual(['v3/task']);
    const v2 = await agent({ metadataVersions: ['v2'] });
    expect((await getTaskMetadata(fast(v2))).Family).toBe('sports-api');
    expect(v2.requests.map((r) => r.endpoint)).toEqual(['v2/metadata']);
  });

  it('retries a transient error on the same endpoint before moving on', async () => {
    const a = await agent();
    a.setFault({ match: 'v4/task', status: 503, times: 2 });
    expect((await getTaskMetadata(fast(a))).TaskARN).toBe(a.taskArn);
    expect(a.requests.map((r) => `${r.endpoint}:${r.status}`)).toEqual(['v4/task:503', 'v4/task:503', 'v4/task:200']);
  });

  it('retries a connection reset, and moves on from invalid JSON without retrying it', async () => {
    const a = await agent();
    a.setFault([
      { match: 'v4/task', reset: true, times: 1 },
      { match: 'v3/task', invalidJson: true },
    ]);
    expect((await getTaskMetadata(fast(a))).TaskARN).toBe(a.taskArn);
    a.setFault([{ match: 'v4/task', invalidJson: true }]);
    await getTaskMetadata(fast(a));
    expect(a.requests.map((r) => r.endpoint).slice(-2)).toEqual(['v4/task', 'v3/task']);
  });

  it('bounds the attempts per endpoint', async () => {
    const a = await agent({ metadataVersions: ['v4'] });
    a.setFault({ status: 500 });
    const e = await failure(getTaskMetadata(fast(a, { retry: { maxAttempts: 2 } })));
    expect(e.code).toBe('METADATA_UNAVAILABLE');
    expect(a.requests.filter((r) => r.endpoint === 'v4/task')).toHaveLength(2);
  });

  it('when nothing answers, lists every endpoint tried and why, in order', async () => {
    const a = await agent();
    a.setFault([
      { match: 'v4/task', status: 500, body: 'agent exploded' },
      { match: 'v3/task', truncate: true },
      { match: 'v2/metadata', status: 200, body: '{"TaskARN": "arn:aws:ecs:us-west-2:123456789012:task/x", "Fam' },
    ]);
    const e = await failure(getTaskMetadata(fast(a, { retry: { maxAttempts: 2 } })));
    expect(e.code).toBe('METADATA_UNAVAILABLE');
    const lines = e.message.split('\n');
    expect(lines[0]).toBe('could not read the task metadata; tried:');
    expect(lines[1]).toMatch(
      /ECS_CONTAINER_METADATA_URI_V4 http:\/\/127\.0\.0\.1:\d+\/v4\/.+\/task: HTTP_STATUS: .*500.*agent exploded/,
    );
    expect(lines[2]).toMatch(/ECS_CONTAINER_METADATA_URI http:\/\/127\.0\.0\.1:\d+\/v3\/.+\/task: NETWORK/);
    expect(lines[3]).toMatch(/http:\/\/127\.0\.0\.1:\d+\/v2\/metadata: INVALID_METADATA: .*not valid JSON/);
    expect(e.retryable).toBe(true);
    expect((e.cause as AggregateError).errors).toHaveLength(3);
  });

  it('says which variables were not set', async () => {
    const a = await agent({ metadataVersions: ['v2'] });
    a.setFault({ status: 404 });
    const e = await failure(getTaskMetadata(fast(a)));
    expect(e.message).toMatch(
      /- ECS_CONTAINER_METADATA_URI_V4: not set\n {2}- ECS_CONTAINER_METADATA_URI: not set\n {2}- http/,
    );
    expect(e.retryable).toBe(false);
  });

  it('skips a malformed or insecure metadata variable with the reason', async () => {
    const a = await agent();
    const env = {
      ...a.env,
      ECS_CONTAINER_METADATA_URI_V4: 'not a url',
      ECS_CONTAINER_METADATA_URI: 'http://metadata.example.com/v3/abc',
    };
    const task = await getTaskMetadata({ env, agentUrl: a.url, random: () => 0 });
    expect(task.TaskARN).toBe(a.taskArn);
    a.setFault({ match: 'v2/metadata', status: 404 });
    const e = await failure(getTaskMetadata({ env, agentUrl: a.url }));
    expect(e.message).toMatch(/ECS_CONTAINER_METADATA_URI_V4: not an absolute URL/);
    expect(e.message).toMatch(/metadata\.example\.com.*INSECURE_URL/);
  });

  it('times out each attempt (a hung agent) and says so', async () => {
    const a = await agent({ metadataVersions: ['v4'] });
    a.setFault({ delayMs: 5_000 });
    const e = await failure(getTaskMetadata(fast(a, { timeoutMs: 50, retry: { maxAttempts: 1 } })));
    expect(e.message).toMatch(/v4\/.+\/task: TIMEOUT/);
  });

  it('stops at once when the caller aborts', async () => {
    const a = await agent();
    const controller = new AbortController();
    controller.abort();
    const e = await failure(getTaskMetadata(fast(a, { signal: controller.signal })));
    expect(e.code).toBe('ABORTED');
  });

  it('reads task tags from /taskWithTags', async () => {
    const a = await agent({ launchType: 'EC2', tags: { team: 'blue' } });
    const task = await getTaskMetadata(fast(a, { withTags: true }));
    expect(task.TaskTags).toEqual({ team: 'blue' });
    expect(a.requests.map((r) => r.endpoint)).toEqual(['v4/taskWithTags']);
  });
});

describe('getContainerMetadata', () => {
  it('reads the container document from v4, then v3', async () => {
    const a = await agent({ containerName: 'web' });
    expect((await getContainerMetadata(fast(a))).Name).toBe('web');
    a.setFault({ match: 'v4/container', status: 404 });
    expect((await getContainerMetadata(fast(a))).Name).toBe('web');
    expect(a.requests.map((r) => r.endpoint)).toEqual(['v4/container', 'v4/container', 'v3/container']);
  });
});
