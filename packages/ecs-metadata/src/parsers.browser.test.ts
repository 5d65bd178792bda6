// The browser-safe parsers, run in real Chromium: nothing in their import graph may need Node.
import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import v3 from '../test/fixtures/otel-java/ecs-task-metadata-v3.json' with { type: 'json' };
import fargate from '../test/fixtures/otel-js/metadatav4-response-task-fargate.json' with { type: 'json' };
import { parseContainerCredentials } from './aws-credentials.js';
import { awsCredentials, parseRoleArn, parseTaskArn, taskIdentity } from './index.js';

describe('ecs-metadata parsers in the browser', () => {
  it('runs without Node globals', () => {
    expect((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node).toBeUndefined();
  });

  it('derives the identity of a Fargate task and of an old-format v3 task', () => {
    expect(taskIdentity(fargate)).toMatchObject({
      accountId: '111122223333',
      taskId: 'e9028f8d5d8e4f258373e7b93ce9a3c3',
      clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
      launchType: 'FARGATE',
    });
    expect(taskIdentity(JSON.stringify(v3)).clusterArn).toBe('arn:aws:ecs:us-east-2:012345678910:cluster/default');
  });

  it('parses task and role ARNs in other partitions and rejects bad ones with IdentityError', () => {
    expect(
      parseTaskArn('arn:aws-cn:ecs:cn-north-1:123456789012:task/c/0123456789abcdef0123456789abcdef').clusterName,
    ).toBe('c');
    expect(parseRoleArn('arn:aws-us-gov:iam::123456789012:role/p/r').path).toBe('/p/');
    expect(() => parseTaskArn('arn:aws:ecs:us-west-2:123456789012:task/é')).toThrow(IdentityError);
  });

  it('parses container credentials and hides the secrets from JSON', () => {
    const creds = parseContainerCredentials(
      '{"AccessKeyId":"ASIAX","SecretAccessKey":"s3cr3t-value","Token":"t0k3n-value","Expiration":"2030-01-01T00:00:00Z"}',
      Date.UTC(2026, 0, 1),
    );
    expect(creds.secretAccessKey).toBe('s3cr3t-value');
    const json = JSON.stringify(creds);
    expect(json).toContain('ASIAX');
    expect(json).not.toContain('s3cr3t-value');
    expect(json).not.toContain('t0k3n-value');
    expect(() => awsCredentials({ accessKeyId: '', secretAccessKey: 'x' })).toThrow(/accessKeyId/);
  });
});
