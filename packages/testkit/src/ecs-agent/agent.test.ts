import { parseContainerMetadata, parseTaskMetadata, taskIdentity } from '@ecs-identity/ecs-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import { type EcsAgent, type StartEcsAgentOptions, startEcsAgent } from '../index.js';
import { ManualClock } from '../time/manual-clock.js';

const agents: EcsAgent[] = [];
async function agent(options: StartEcsAgentOptions = {}) {
  const a = await startEcsAgent(options);
  agents.push(a);
  return a;
}
afterEach(async () => {
  await Promise.all(agents.splice(0).map((a) => a.close()));
});

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text() };
}
const creds = (a: EcsAgent, token: string | null = a.authToken ?? null) =>
  get(a.credentialsUrl!, token === null ? {} : { authorization: token });

describe('fake ECS agent: environment', () => {
  it('gives the variables a Fargate task sees, with loopback URLs', async () => {
    const a = await agent({ region: 'eu-west-1' });
    const env = a.env;
    expect(env.AWS_REGION).toBe('eu-west-1');
    expect(env.AWS_DEFAULT_REGION).toBe('eu-west-1');
    expect(env.AWS_EXECUTION_ENV).toBe('AWS_ECS_FARGATE');
    expect(env.ECS_CONTAINER_METADATA_URI_V4).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v4\/[0-9a-f]{32}-\d+$/);
    expect(env.ECS_CONTAINER_METADATA_URI).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v3\/[0-9a-f]{32}-\d+$/);
    expect(env.ECS_AGENT_URI).toMatch(/\/api\//);
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe(a.credentialsUrl);
    expect(env.AWS_CONTAINER_AUTHORIZATION_TOKEN).toBe(a.authToken);
    expect(env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).toBeUndefined();
    expect(Object.isFrozen(env)).toBe(true);
  });

  it('relative mode, no task role, and an old platform change the variables', async () => {
    const rel = await agent({ credentialsUri: 'relative', launchType: 'EC2' });
    expect(rel.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI).toMatch(/^\/v2\/credentials\/[0-9a-f-]{36}$/);
    expect(rel.env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBeUndefined();
    expect(rel.env.AWS_EXECUTION_ENV).toBe('AWS_ECS_EC2');
    const noRole = await agent({ taskRoleArn: null });
    expect(Object.keys(noRole.env).filter((k) => k.startsWith('AWS_CONTAINER_'))).toEqual([]);
    expect(noRole.roleArn).toBeUndefined();
    const old = await agent({ metadataVersions: ['v2'] });
    expect(old.env.ECS_CONTAINER_METADATA_URI_V4).toBeUndefined();
    expect(old.env.ECS_CONTAINER_METADATA_URI).toBeUndefined();
    expect((await get(`${old.url}/v4/x/task`)).status).toBe(404);
  });
});

describe('fake ECS agent: metadata', () => {
  it('serves Fargate documents that parse to its own identity (v4 Cluster is an ARN, v2 a name)', async () => {
    const a = await agent({ launchType: 'FARGATE', partition: 'aws-cn', region: 'cn-north-1', clusterName: 'prod' });
    const v4 = JSON.parse((await get(`${a.env.ECS_CONTAINER_METADATA_URI_V4}/task`)).text);
    expect(v4.Cluster).toBe(a.clusterArn);
    expect(v4.LaunchType).toBe('FARGATE');
    expect(v4.Limits).toEqual({ CPU: 0.25, Memory: 512 });
    // Wire types as ECS writes them: Revision a string, timestamps RFC 3339 with nanoseconds.
    expect(typeof v4.Revision).toBe('string');
    expect(v4.PullStartedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
    expect(v4.Containers[0].StartedAt).toMatch(/\.\d{9}Z$/);
    expect(taskIdentity(v4)).toMatchObject({ taskArn: a.taskArn, clusterArn: a.clusterArn, partition: 'aws-cn' });
    const v3 = JSON.parse((await get(`${a.env.ECS_CONTAINER_METADATA_URI}/task`)).text);
    expect(v3.LaunchType).toBeUndefined();
    const v2 = JSON.parse((await get(`${a.url}/v2/metadata`)).text);
    expect(v2.Cluster).toBe('prod');
    expect(taskIdentity(v2).clusterArn).toBe(a.clusterArn);
    expect(parseContainerMetadata((await get(a.env.ECS_CONTAINER_METADATA_URI_V4!)).text).Name).toBe('app');
    const dockerId = a.env.ECS_CONTAINER_METADATA_URI_V4!.split('/').pop();
    expect(parseContainerMetadata((await get(`${a.url}/v2/metadata/${dockerId}`)).text).DockerId).toBe(dockerId);
  });

  it('serves EC2 documents with a short Cluster, old-format ARNs and tags', async () => {
    const a = await agent({ launchType: 'EC2', arnFormat: 'old', tags: { env: 'qa' } });
    expect(a.taskArn).toMatch(/:task\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const task = parseTaskMetadata((await get(`${a.env.ECS_CONTAINER_METADATA_URI_V4}/taskWithTags`)).text);
    expect(task.Cluster).toBe('default');
    expect(task.TaskTags).toEqual({ env: 'qa' });
    expect(task.VPCID).toMatch(/^vpc-/);
    expect(taskIdentity(task).clusterArn).toBe(a.clusterArn);
    expect(JSON.parse((await get(`${a.url}/v2/metadataWithTags`)).text).TaskTags).toEqual({ env: 'qa' });
    expect(a.taskMetadata()).toEqual(JSON.parse((await get(`${a.env.ECS_CONTAINER_METADATA_URI_V4}/task`)).text));
  });

  it('answers 404 for unknown paths and containers, 405 for other methods', async () => {
    const a = await agent();
    expect((await get(`${a.url}/v4/not-this-container/task`)).status).toBe(404);
    expect((await get(`${a.url}/nothing`)).status).toBe(404);
    const post = await fetch(`${a.url}/v2/metadata`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    await post.text();
  });
});

describe('fake ECS agent: credentials', () => {
  it('requires the configured Authorization token', async () => {
    const a = await agent();
    expect((await creds(a, null)).status).toBe(401);
    expect((await creds(a, 'wrong')).status).toBe(401);
    const ok = await creds(a);
    expect(ok.status).toBe(200);
    const body = JSON.parse(ok.text);
    expect(Object.keys(body).sort()).toEqual([
      'AccessKeyId',
      'AccountId',
      'Expiration',
      'RoleArn',
      'SecretAccessKey',
      'Token',
    ]);
    expect(body.Expiration).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(body.RoleArn).toBe('arn:aws:iam::123456789012:role/ecs-task-role');
    expect(a.requests.map((r) => r.authorization)).toEqual(['none', 'invalid', 'valid']);
  });

  it('answers an unknown credentials id with 400 like the agent', async () => {
    const a = await agent({ authToken: null });
    const res = await get(`${a.url}/v2/credentials/00000000-0000-0000-0000-000000000000`);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).code).toBe('InvalidIdInRequest');
  });

  it('keeps the same credentials until rotated or close to expiry', async () => {
    const clock = new ManualClock(Date.parse('2026-11-25T08:00:00Z'));
    const a = await agent({ clock, credentialsLifetimeMs: 3600_000, rotateBeforeMs: 15 * 60_000 });
    const one = JSON.parse((await creds(a)).text);
    expect(one.Expiration).toBe('2026-11-25T09:00:00Z');
    expect(JSON.parse((await creds(a)).text).AccessKeyId).toBe(one.AccessKeyId);
    a.rotateCredentials();
    const two = JSON.parse((await creds(a)).text);
    expect(two.AccessKeyId).not.toBe(one.AccessKeyId);
    await clock.advance(46 * 60_000); // 14 minutes left: the agent has fresh ones
    const three = JSON.parse((await creds(a)).text);
    expect(three.AccessKeyId).not.toBe(two.AccessKeyId);
    expect(three.Expiration).toBe('2026-11-25T09:46:00Z');
    expect(a.credentialsIssued).toBe(3);
  });

  it('never logs the token, the credentials id or a secret', async () => {
    const a = await agent();
    const body = JSON.parse((await creds(a)).text);
    const log = JSON.stringify(a.requests);
    for (const secret of [a.authToken!, a.credentialsUrl!.split('/').pop()!, body.SecretAccessKey, body.Token]) {
      expect(log).not.toContain(secret);
    }
    expect(a.requests[0]?.path).toBe('/v2/credentials/<id>');
  });
});

describe('fake ECS agent: faults', () => {
  it('injects status, invalid JSON, truncation and resets, for `times` requests', async () => {
    const a = await agent();
    const task = `${a.env.ECS_CONTAINER_METADATA_URI_V4}/task`;
    a.setFault({ match: 'v4/task', status: 503, times: 1 });
    expect((await get(task)).status).toBe(503);
    expect((await get(task)).status).toBe(200);
    a.setFault({ match: 'v4/task', invalidJson: true });
    const bad = await get(task);
    expect(bad.status).toBe(200);
    expect(() => JSON.parse(bad.text)).toThrow();
    a.setFault({ match: (k) => k.startsWith('v4/'), truncate: true });
    await expect(get(task)).rejects.toThrow();
    a.setFault({ reset: true });
    await expect(get(`${a.url}/v2/metadata`)).rejects.toThrow();
    a.setFault(undefined);
    expect((await get(task)).status).toBe(200);
    expect(a.requests.map((r) => r.fault ?? '-')).toEqual(['status', '-', 'invalidJson', 'truncate', 'reset', '-']);
  });

  it('close() cuts a request the agent is holding', async () => {
    const a = await startEcsAgent();
    a.setFault({ delayMs: 60_000 });
    const pending = get(`${a.url}/v2/metadata`);
    // Wait (bounded) until the request has reached the agent, then close it.
    for (let i = 0; i < 400 && a.inFlight === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await a.close();
    await expect(pending).rejects.toThrow();
    await a.close(); // idempotent
  });
});
