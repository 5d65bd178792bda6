// The real third-party samples in ./fixtures (see its README) parse to the right identity.
import { readFileSync } from 'node:fs';
import { IdentityError } from '@ecs-identity/core';
import { parseContainerMetadata, parseTaskArn, parseTaskMetadata, taskIdentity } from '@ecs-identity/ecs-metadata';
import { describe, expect, it } from 'vitest';
import { parseContainerCredentials } from '../src/aws-credentials.js';

const read = (path: string) => readFileSync(new URL(`./fixtures/${path}`, import.meta.url), 'utf8');

describe('task metadata samples', () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    [
      'otel-js/metadatav4-response-task-ec2.json',
      {
        partition: 'aws',
        region: 'us-west-2',
        accountId: '111122223333',
        taskId: '158d1c8083dd49d6b527399fd6414f5c',
        clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
        clusterName: 'default',
        family: 'curltest',
        revision: '26',
        launchType: 'EC2',
        availabilityZone: 'us-west-2d',
      },
    ],
    [
      'otel-js/metadatav4-response-task-fargate.json',
      {
        taskId: 'e9028f8d5d8e4f258373e7b93ce9a3c3',
        taskArn: 'arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3',
        clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
        launchType: 'FARGATE',
        revision: '3',
        availabilityZone: 'us-west-2a',
      },
    ],
    ['otel-js/metadatav4-response-task-fargate-logsfirelens.json', { launchType: 'FARGATE', clusterName: 'default' }],
    [
      'otel-java/ecs-task-metadata-v3.json',
      {
        region: 'us-east-2',
        accountId: '012345678910',
        taskId: '9781c248-0edd-4cdb-9a93-f63cb662a5d3',
        clusterArn: 'arn:aws:ecs:us-east-2:012345678910:cluster/default',
        family: 'nginx',
        revision: '5',
        availabilityZone: 'us-east-2b',
      },
    ],
    [
      'otel-java/ecs-task-metadata-v4.json',
      { clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/default', launchType: 'EC2', revision: '26' },
    ],
    [
      'otel-collector-contrib/ecsutil/task_metadata.json',
      {
        accountId: '803860917211',
        taskId: 'd22aaa11bf0e4ab19c2c940a1cbabbee',
        clusterArn: 'arn:aws:ecs:us-west-2:803860917211:cluster/test200',
        launchType: 'EC2', // upstream sends lowercase "ec2"
        family: 'three-nginx',
      },
    ],
    [
      'datadog/v2/task_with_tags.json',
      {
        region: 'us-west-1',
        accountId: '601427279990',
        clusterArn: 'arn:aws:ecs:us-west-1:601427279990:cluster/ecs-cluster',
        family: 'ecs-cluster_redis-awsvpc',
        revision: '12',
      },
    ],
    [
      'datadog/v3or4/task_with_tags.json',
      {
        region: 'us-east-1',
        accountId: '123457279990',
        taskId: '938f6d263c464aa5985dc67ab7f38a7e',
        clusterArn: 'arn:aws:ecs:us-east-1:123457279990:cluster/ecs-cluster',
        availabilityZone: 'us-east-1d',
      },
    ],
  ];
  for (const [file, expected] of cases) {
    it(`${file} gives the right identity`, () => {
      const identity = taskIdentity(read(file));
      expect(identity).toMatchObject(expected);
      expect(identity.clusterArn).toMatch(/:cluster\/[A-Za-z0-9_-]+$/);
    });
  }

  it('v2 without LaunchType leaves launchType absent', () => {
    expect('launchType' in taskIdentity(read('datadog/v2/task_with_tags.json'))).toBe(false);
  });

  it('keeps unknown and modelled extra fields (tags, ClockDrift) on the parsed document', () => {
    const task = parseTaskMetadata(read('datadog/v3or4/task_with_tags.json'));
    expect(task.TaskTags).toBeTypeOf('object');
    expect(task.ClockDrift?.ClockSynchronizationStatus).toBeTypeOf('string');
    expect(task.Containers.length).toBeGreaterThan(0);
    expect(task.Containers.every((c) => typeof c.DockerId === 'string' && typeof c.Name === 'string')).toBe(true);
  });

  it('rejects the OTel Go sample whose TaskARN is not an ARN, naming the field', () => {
    const doc = read('otel-go/metadatav4-response-task-ec2-bad-task-arn.json');
    expect(() => taskIdentity(doc)).toThrow(IdentityError);
    expect(() => taskIdentity(doc)).toThrow(/TaskARN/);
  });
});

describe('Athenz SIA container metadata files (task ARN only)', () => {
  it('extracts the task id from old and new ARNs', () => {
    const old = JSON.parse(read('athenz/attestation/task.json'));
    const neu = JSON.parse(read('athenz/attestation/task-new-arn.json'));
    expect(parseTaskArn(old.TaskARN).taskId).toBe('776b2c2e-6bfb-4328-bd04-204536cfb7f2');
    expect(parseTaskArn(neu.TaskARN).taskId).toBe('776b2c2e-6bfb-4328-bd04-204536cfb7f2');
    expect(parseTaskArn(JSON.parse(read('athenz/sia-ec2/ecs.json')).TaskARN)).toMatchObject({
      taskId: '1234',
      clusterName: 'cluster-name',
    });
    expect(parseTaskArn(JSON.parse(read('athenz/sia-ec2/ecs-old.json')).TaskARN).taskId).toBe('3456');
  });

  it('names the missing TaskARN and the truncated document', () => {
    expect(() => parseTaskMetadata(read('athenz/sia-ec2/ecs-notask.json'))).toThrow(/field TaskARN is missing/);
    try {
      parseTaskMetadata(read('athenz/sia-ec2/ecs-invalid.json'));
      expect.unreachable();
    } catch (e) {
      expect(IdentityError.is(e, 'INVALID_METADATA')).toBe(true);
      expect((e as Error).message).toMatch(/not valid JSON/);
    }
  });
});

describe('container metadata samples', () => {
  for (const file of [
    'otel-js/metadatav4-response-container-ec2.json',
    'otel-js/metadatav4-response-container-fargate.json',
    'otel-js/metadatav4-response-container-fargate-logsfirelens.json',
    'otel-java/ecs-container-metadata-v3.json',
    'otel-java/ecs-container-metadata-v4.json',
    // ContainerARN is not an ARN here; the SDK does not use it, so the document still parses.
    'otel-go/metadatav4-response-container-ec2-bad-container-arn.json',
  ]) {
    it(`${file} parses`, () => {
      const c = parseContainerMetadata(read(file));
      expect(c.DockerId).toMatch(/^[0-9a-f-]+$/);
      expect(c.Name).toMatch(/^(curl|nginx-curl)$/);
    });
  }
});

describe('container credentials sample (smithy-rs)', () => {
  it('parses the recorded ECS credentials response to what smithy-rs expects', () => {
    const traffic = JSON.parse(
      read('credentials/smithy-rs/default-credential-provider-chain/ecs_credentials/http-traffic.json'),
    );
    const expected = JSON.parse(
      read('credentials/smithy-rs/default-credential-provider-chain/ecs_credentials/test-case.json'),
    ).result.Ok;
    const body = traffic.events.find((e: { action: { Data?: unknown } }) => e.action.Data).action.Data.data.Utf8;
    const creds = parseContainerCredentials(body, Date.UTC(2009, 0, 1));
    expect(creds.accessKeyId).toBe(expected.access_key_id);
    expect(creds.secretAccessKey).toBe(expected.secret_access_key);
    expect(creds.sessionToken).toBe(expected.session_token);
    expect(creds.accountId).toBe(expected.account_id);
    expect(creds.expiresAt?.getTime()).toBe(expected.expiry * 1000);
    expect(creds.roleArn).toBe('arn:aws:iam::123456789:role/ecs-task-role');
  });
});
