// Every public parser of this package on hostile input: only IdentityError may come out.
import { createHttpClient } from '@ecs-identity/core';
import {
  containerCredentials,
  parseArn,
  parseClusterArn,
  parseContainerMetadata,
  parseRoleArn,
  parseTaskArn,
  parseTaskMetadata,
  taskIdentity,
} from '@ecs-identity/ecs-metadata';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesText,
  fuzz,
  hostileText,
  jsonText,
  jsonValue,
  mutated,
  recordOf,
  reportFuzzCounts,
} from '../../../test-support/fuzz.js';
import { scaled } from '../../../test-support/scale.js';
import { resolveCluster } from '../src/arn.js';
import { parseContainerCredentials } from '../src/aws-credentials.js';
import { resolveCredentialsEndpoint } from '../src/container-credentials.js';

reportFuzzCounts('ecs-metadata');

const TASK_ARNS = [
  'arn:aws:ecs:us-west-2:123456789012:task/demo/0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  'arn:aws-cn:ecs:cn-north-1:123456789012:task/9781c248-0edd-4cdb-9a93-f63cb662a5d3',
];
const ROLE_ARNS = [
  'arn:aws:iam::123456789012:role/ecs/sports.api-service',
  'arn:aws:sts::123456789012:assumed-role/sports.api/session',
];
const arnText = fc.oneof(
  hostileText(),
  bytesText(),
  ...[...TASK_ARNS, ...ROLE_ARNS, 'arn:aws:ecs:us-west-2:123456789012:cluster/demo'].map((a) => mutated(a, 4)),
);

describe('ARN parsers', () => {
  it('parseArn, parseTaskArn, parseClusterArn, parseRoleArn, resolveCluster', () => {
    const n =
      fuzz('parseArn', arnText, (s) => parseArn(s), 8000) +
      fuzz('parseTaskArn', arnText, (s) => parseTaskArn(s), 8000) +
      fuzz('parseClusterArn', arnText, (s) => parseClusterArn(s), 8000) +
      fuzz('parseRoleArn', arnText, (s) => parseRoleArn(s), 8000) +
      fuzz(
        'resolveCluster',
        fc.tuple(fc.option(arnText, { nil: undefined }), arnText),
        ([cluster, task]) => resolveCluster(cluster, task),
        8000,
      ) +
      // not even a string
      fuzz('parseArn (any value)', fc.anything(), (v) => parseArn(v as string), 2000);
    expect(n).toBe(scaled(42_000));
  });
});

const TASK_FIELDS = [
  'Cluster',
  'TaskARN',
  'Family',
  'Revision',
  'DesiredStatus',
  'KnownStatus',
  'Limits',
  'PullStartedAt',
  'AvailabilityZone',
  'LaunchType',
  'ServiceName',
  'ClockDrift',
  'TaskTags',
  'Containers',
] as const;
const CONTAINER_FIELDS = ['DockerId', 'Name', 'Image', 'Labels', 'Limits', 'Networks', 'CreatedAt', 'Type'] as const;

const validTask = {
  Cluster: 'arn:aws:ecs:us-west-2:123456789012:cluster/demo',
  TaskARN: TASK_ARNS[0],
  Family: 'sports-api',
  Revision: '7',
  LaunchType: 'FARGATE',
  Containers: [{ DockerId: 'abc', Name: 'app' }],
};

/** A metadata document: arbitrary JSON, arbitrary fields, a valid one with fields replaced, or text. */
const taskDocument = fc.oneof(
  jsonValue(),
  recordOf(TASK_FIELDS),
  fc
    .tuple(
      recordOf(TASK_FIELDS),
      fc.array(fc.oneof(recordOf(CONTAINER_FIELDS), jsonValue()), { maxLength: 3 }),
      fc.boolean(),
    )
    .map(([over, containers, keep]) => ({ ...validTask, ...over, ...(keep ? {} : { Containers: containers }) })),
  jsonText(),
  mutated(JSON.stringify(validTask), 5),
  hostileText(),
);

describe('metadata documents', () => {
  it('parseTaskMetadata, parseContainerMetadata, taskIdentity', () => {
    const n =
      fuzz('parseTaskMetadata', taskDocument, (d) => parseTaskMetadata(d), 8000) +
      fuzz(
        'parseContainerMetadata',
        fc.oneof(jsonValue(), recordOf(CONTAINER_FIELDS), jsonText(), hostileText()),
        (d) => parseContainerMetadata(d),
        6000,
      ) +
      fuzz('taskIdentity', taskDocument, (d) => taskIdentity(d), 8000);
    expect(n).toBe(scaled(22_000));
  });
});

const CREDENTIAL_FIELDS = ['AccessKeyId', 'SecretAccessKey', 'Token', 'Expiration', 'RoleArn', 'AccountId'] as const;
const validCredentials = {
  AccessKeyId: 'ASIAEXAMPLEEXAMPLE00',
  SecretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  Token: 'IQoJb3JpZ2luX2VjEXAMPLE',
  Expiration: '2099-01-01T00:00:00Z',
  RoleArn: ROLE_ARNS[0],
  AccountId: '123456789012',
};

describe('container credentials', () => {
  it('parseContainerCredentials', () => {
    const doc = fc.oneof(
      jsonValue(),
      recordOf(CREDENTIAL_FIELDS),
      recordOf(CREDENTIAL_FIELDS).map((over) => ({ ...validCredentials, ...over })),
      jsonText(),
      mutated(JSON.stringify(validCredentials), 5),
      hostileText(),
    );
    expect(fuzz('parseContainerCredentials', doc, (d) => parseContainerCredentials(d, Date.now()), 8000)).toBe(
      scaled(8000),
    );
  });

  it('resolveCredentialsEndpoint and containerCredentials() on any environment (no I/O happens)', () => {
    const value = fc.oneof(
      hostileText(),
      mutated('http://169.254.170.2/v2/credentials/0123456789abcdef0123', 4),
      mutated('/v2/credentials/%E0%A4%A0123456789abcdef', 4),
    );
    const env = fc.record(
      {
        AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: value,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: value,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: hostileText(),
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: hostileText(),
      },
      { requiredKeys: [] },
    );
    // Never started: a provider only resolves its endpoint when it is made.
    const http = createHttpClient();
    const n =
      fuzz('resolveCredentialsEndpoint', env, (e) => resolveCredentialsEndpoint({ env: e }), 6000) +
      fuzz(
        'containerCredentials()',
        env,
        (e) => containerCredentials({ env: e, http, refresh: { background: false } }),
        6000,
      );
    expect(n).toBe(scaled(12_000));
  });
});
