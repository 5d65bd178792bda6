import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import {
  formatClusterArn,
  formatRoleArn,
  formatTaskArn,
  parseArn,
  parseClusterArn,
  parseRoleArn,
  parseTaskArn,
  resolveCluster,
} from './arn.js';

function errorOf(fn: () => unknown): IdentityError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IdentityError);
    return e as IdentityError;
  }
  throw new Error('expected an error');
}

describe('parseArn', () => {
  it('splits the six fields and keeps colons in the resource', () => {
    expect(parseArn('arn:aws:logs:us-east-1:123456789012:log-group:/ecs/app:*')).toEqual({
      partition: 'aws',
      service: 'logs',
      region: 'us-east-1',
      accountId: '123456789012',
      resource: 'log-group:/ecs/app:*',
    });
  });

  it('allows an empty region and account (global services)', () => {
    expect(parseArn('arn:aws:s3:::bucket/key')).toMatchObject({ region: '', accountId: '', resource: 'bucket/key' });
  });
});

describe('parseTaskArn', () => {
  const cases: Array<[string, Partial<ReturnType<typeof parseTaskArn>>]> = [
    [
      'arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c',
      { partition: 'aws', region: 'us-west-2', accountId: '111122223333', clusterName: 'default', format: 'new' },
    ],
    [
      'arn:aws:ecs:us-east-2:012345678910:task/9781c248-0edd-4cdb-9a93-f63cb662a5d3',
      { partition: 'aws', region: 'us-east-2', taskId: '9781c248-0edd-4cdb-9a93-f63cb662a5d3', format: 'old' },
    ],
    [
      'arn:aws-cn:ecs:cn-north-1:123456789012:task/prod_cluster/0123456789abcdef0123456789abcdef',
      {
        partition: 'aws-cn',
        region: 'cn-north-1',
        clusterName: 'prod_cluster',
        taskId: '0123456789abcdef0123456789abcdef',
      },
    ],
    [
      'arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task/a0b1c2d3-e4f5-a6b7-c8d9-e0f1a2b3c4d5',
      { partition: 'aws-us-gov', region: 'us-gov-west-1', format: 'old' },
    ],
    [
      'arn:aws-iso-b:ecs:us-isob-east-1:123456789012:task/c/0123456789abcdef0123456789abcdef',
      { partition: 'aws-iso-b', region: 'us-isob-east-1', clusterName: 'c' },
    ],
  ];
  for (const [arn, expected] of cases) {
    it(`parses ${arn}`, () => {
      const parsed = parseTaskArn(arn);
      expect(parsed).toMatchObject(expected);
      expect(parsed.arn).toBe(arn);
      expect(arn.endsWith(`/${parsed.taskId}`)).toBe(true);
    });
  }

  it('leaves clusterName absent on an old-format ARN', () => {
    expect('clusterName' in parseTaskArn('arn:aws:ecs:us-west-2:012345678910:task/3456')).toBe(false);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['wrong service', 'arn:aws:ec2:us-west-2:111122223333:task/default/abc', /service is "ec2", expected "ecs"/],
    ['missing fields', 'arn:aws:ecs:us-west-2:task/abc', /expected arn:<partition>/],
    ['not an ARN', 'default/158d1c8083dd49d6b527399fd6414f5c', /expected arn:<partition>/],
    ['empty partition', 'arn::ecs:us-west-2:111122223333:task/abc', /partition is empty or malformed/],
    ['empty region', 'arn:aws:ecs::111122223333:task/abc', /region is empty/],
    ['empty account', 'arn:aws:ecs:us-west-2::task/abc', /account id is empty/],
    ['short account', 'arn:aws:ecs:us-west-2:1111:task/abc', /account id is not 12 digits/],
    ['empty task id', 'arn:aws:ecs:us-west-2:111122223333:task/', /task id is empty or malformed/],
    ['empty cluster segment', 'arn:aws:ecs:us-west-2:111122223333:task//abc', /cluster name is empty/],
    ['too many segments', 'arn:aws:ecs:us-west-2:111122223333:task/a/b/c', /expected task\/<task-id>/],
    ['other resource', 'arn:aws:ecs:us-west-2:111122223333:cluster/default', /does not start with "task\/"/],
    ['uppercase region', 'arn:aws:ecs:US-WEST-2:111122223333:task/abc', /region is malformed/],
    ['unicode', 'arn:aws:ecs:us-west-2:111122223333:task/dé/abc', /non-ASCII/],
    ['whitespace', 'arn:aws:ecs:us-west-2:111122223333:task/abc ', /whitespace/],
    ['empty', '', /it is empty/],
    ['10 KB', `arn:aws:ecs:us-west-2:111122223333:task/${'a'.repeat(10_000)}`, /longer than 2048/],
  ];
  for (const [name, arn, message] of bad) {
    it(`rejects ${name} with INVALID_ARN`, () => {
      const e = errorOf(() => parseTaskArn(arn));
      expect(e.code).toBe('INVALID_ARN');
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/task ARN/);
      expect(e.message.length).toBeLessThan(300);
    });
  }

  it('rejects a non-string with INVALID_ARN', () => {
    expect(errorOf(() => parseTaskArn(42 as unknown as string)).code).toBe('INVALID_ARN');
  });

  it('round-trips through formatTaskArn', () => {
    const arn = 'arn:aws-cn:ecs:cn-northwest-1:123456789012:task/x/0123456789abcdef0123456789abcdef';
    const { arn: _a, format: _f, ...parts } = parseTaskArn(arn);
    expect(formatTaskArn(parts)).toBe(arn);
  });
});

describe('cluster ARNs', () => {
  const oldTask = 'arn:aws:ecs:us-east-2:012345678910:task/9781c248-0edd-4cdb-9a93-f63cb662a5d3';
  const newTask = 'arn:aws-us-gov:ecs:us-gov-east-1:123456789012:task/blue/0123456789abcdef0123456789abcdef';

  it('uses Cluster when it is an ARN (Fargate)', () => {
    expect(resolveCluster('arn:aws:ecs:us-west-2:111122223333:cluster/default', newTask)).toEqual({
      clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
      clusterName: 'default',
    });
  });

  it('builds it from the task ARN and a short Cluster (EC2), in the task partition', () => {
    expect(resolveCluster('green', newTask)).toEqual({
      clusterArn: 'arn:aws-us-gov:ecs:us-gov-east-1:123456789012:cluster/green',
      clusterName: 'green',
    });
  });

  it('builds it for an old-format task ARN with a short Cluster', () => {
    expect(resolveCluster('default', oldTask).clusterArn).toBe('arn:aws:ecs:us-east-2:012345678910:cluster/default');
  });

  it('falls back to the new-format task ARN cluster segment when Cluster is absent', () => {
    expect(resolveCluster(undefined, newTask).clusterArn).toBe(
      'arn:aws-us-gov:ecs:us-gov-east-1:123456789012:cluster/blue',
    );
  });

  it('never produces a cluster ARN with an empty name', () => {
    for (const cluster of [undefined, '']) {
      const e = errorOf(() => resolveCluster(cluster, oldTask));
      expect(e.code).toBe('INVALID_METADATA');
      expect(e.message).toMatch(/no Cluster field and the task ARN .* is old-format/);
    }
    expect(
      errorOf(() =>
        formatClusterArn({ partition: 'aws', region: 'us-east-1', accountId: '012345678910', clusterName: '' }),
      ).code,
    ).toBe('INVALID_ARN');
  });

  it('rejects a malformed Cluster value or cluster ARN', () => {
    expect(errorOf(() => resolveCluster('a/b', oldTask)).message).toMatch(/invalid Cluster "a\/b"/);
    expect(errorOf(() => resolveCluster('arn:aws:ecs:us-east-1:012345678910:cluster/', oldTask)).message).toMatch(
      /cluster ARN/,
    );
    expect(errorOf(() => parseClusterArn('arn:aws:ecs:us-east-1:012345678910:service/x')).message).toMatch(
      /cluster\/<name>/,
    );
  });
});

describe('parseRoleArn', () => {
  it('parses a role ARN with a path', () => {
    expect(parseRoleArn('arn:aws:iam::123456789012:role/service/ecs/sports.api-service')).toEqual({
      arn: 'arn:aws:iam::123456789012:role/service/ecs/sports.api-service',
      kind: 'role',
      partition: 'aws',
      accountId: '123456789012',
      roleName: 'sports.api-service',
      path: '/service/ecs/',
    });
  });

  it('parses a role ARN without a path as path "/"', () => {
    expect(parseRoleArn('arn:aws-cn:iam::123456789012:role/ecs-task-role')).toMatchObject({
      partition: 'aws-cn',
      roleName: 'ecs-task-role',
      path: '/',
    });
  });

  it('parses an assumed-role ARN (no path)', () => {
    const parsed = parseRoleArn('arn:aws-us-gov:sts::123456789012:assumed-role/my-role/0123456789abcdef');
    expect(parsed).toMatchObject({ kind: 'assumed-role', roleName: 'my-role', sessionName: '0123456789abcdef' });
    expect(parsed.path).toBeUndefined();
  });

  it('round-trips through formatRoleArn', () => {
    const arn = 'arn:aws:iam::123456789012:role/a/b/name+=,.@-_';
    const p = parseRoleArn(arn);
    expect(formatRoleArn({ partition: p.partition, accountId: p.accountId, roleName: p.roleName, path: p.path! })).toBe(
      arn,
    );
  });

  const bad: Array<[string, RegExp]> = [
    ['arn:aws:iam::123456789012:user/bob', /does not start with "role\/"/],
    ['arn:aws:ec2::123456789012:role/x', /expected "iam" \(role\) or "sts"/],
    ['arn:aws:iam:us-east-1:123456789012:role/x', /empty region field/],
    ['arn:aws:iam:::role/x', /account id is empty/],
    ['arn:aws:iam::123456789012:role/', /role name is empty/],
    ['arn:aws:iam::123456789012:role/a//x', /role path/],
    ['arn:aws:sts::123456789012:assumed-role/x', /assumed-role\/<role-name>\/<session-name>/],
    ['arn:aws:sts::123456789012:assumed-role//s', /role name is empty/],
    ['arn:aws:sts::123456789012:assumed-role/r/', /session name is empty/],
    ['arn:aws:sts::123456789012:federated-user/x', /does not start with "assumed-role\/"/],
  ];
  for (const [arn, message] of bad) {
    it(`rejects ${arn}`, () => {
      const e = errorOf(() => parseRoleArn(arn));
      expect(e.code).toBe('INVALID_ARN');
      expect(e.message).toMatch(message);
    });
  }
});
