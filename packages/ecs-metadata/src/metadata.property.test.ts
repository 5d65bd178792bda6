import { IdentityError } from '@ecs-identity/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scaled } from '../../../test-support/scale.js';
import { parseContainerCredentials } from './aws-credentials.js';
import { parseContainerMetadata, parseTaskMetadata } from './metadata.js';
import { taskIdentity } from './task-identity.js';

/** fast-check's assert, as a vitest assertion: a counterexample fails the test with fast-check's report. */
function assertProperty<Ts extends unknown[]>(property: fc.IProperty<Ts>, params?: fc.Parameters<Ts>): void {
  expect(() => fc.assert(property, params)).not.toThrow();
}

const RUNS = scaled(10_000);
// Shallow values keep 10,000 runs to about a second; depth adds nothing the parsers look at.
const json = fc.jsonValue({ maxDepth: 2 });

const VALID = {
  Cluster: 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
  TaskARN: 'arn:aws:ecs:us-west-2:111122223333:task/default/e9028f8d5d8e4f258373e7b93ce9a3c3',
  Family: 'curltest',
  Revision: '3',
  DesiredStatus: 'RUNNING',
  KnownStatus: 'RUNNING',
  Limits: { CPU: 0.25, Memory: 512 },
  AvailabilityZone: 'us-west-2a',
  LaunchType: 'FARGATE',
  Containers: [{ DockerId: 'cd189a933e5849daa93386466019ab50-2495160603', Name: 'curl', Labels: {}, Networks: [] }],
};
const VALID_TEXT = JSON.stringify(VALID);

function typedOnly(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    return IdentityError.is(e, 'INVALID_METADATA', 'INVALID_ARN');
  }
}

describe('metadata document properties', () => {
  it('any JSON value or string gives a document or a typed error, never another exception', () => {
    assertProperty(
      fc.property(fc.oneof(json, fc.string(), fc.constant(null)), (input) => {
        return (
          typedOnly(() => parseTaskMetadata(input)) &&
          typedOnly(() => parseContainerMetadata(input)) &&
          typedOnly(() => taskIdentity(input))
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('every truncation of a valid document is rejected as INVALID_METADATA (all prefixes, exhaustively)', () => {
    const accepted: number[] = [];
    for (let cut = 0; cut < VALID_TEXT.length; cut++) {
      try {
        parseTaskMetadata(VALID_TEXT.slice(0, cut));
        accepted.push(cut);
      } catch (e) {
        if (!IdentityError.is(e, 'INVALID_METADATA')) throw e;
      }
    }
    expect(accepted).toEqual([]);
  });

  it('unknown fields are kept and never change the identity', () => {
    const expected = taskIdentity(VALID);
    assertProperty(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in VALID)),
          json,
          { maxKeys: 4 },
        ),
        (extra) => {
          const doc = { ...VALID, ...extra };
          const parsed = parseTaskMetadata(doc);
          const id = taskIdentity(doc);
          return (
            Object.keys(extra).every((k) => Object.is(parsed[k], extra[k])) &&
            JSON.stringify(id) === JSON.stringify(expected)
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a known field replaced by any JSON value parses or fails naming that field', () => {
    const fields = [...Object.keys(VALID), 'ServiceName', 'ClockDrift', 'TaskTags'];
    assertProperty(
      fc.property(fc.constantFrom(...fields), json, (field, value) => {
        const doc: Record<string, unknown> = { ...VALID, [field]: value };
        try {
          taskIdentity(doc);
          return true;
        } catch (e) {
          return IdentityError.is(e, 'INVALID_METADATA', 'INVALID_ARN') && (e as Error).message.includes(field);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('container credentials: any JSON gives credentials or INVALID_CREDENTIALS, and never echoes a secret', () => {
    const shaped = fc.record(
      {
        AccessKeyId: fc.oneof(fc.string(), json),
        SecretAccessKey: fc.oneof(fc.constant('SECRET-sentinel-value'), json),
        Token: fc.oneof(fc.constant('TOKEN-sentinel-value'), json),
        Expiration: fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
          json,
        ),
        RoleArn: fc.oneof(fc.string(), json),
        AccountId: fc.oneof(fc.stringMatching(/^[0-9]{12}$/), json),
      },
      { requiredKeys: [] },
    );
    assertProperty(
      fc.property(fc.oneof(shaped, json, fc.string()), (input) => {
        try {
          const creds = parseContainerCredentials(input, Date.UTC(2020, 0, 1));
          return creds.expiresAt !== undefined && creds.expiresAt.getTime() > Date.UTC(2020, 0, 1);
        } catch (e) {
          const message = (e as Error).message;
          return (
            IdentityError.is(e, 'INVALID_CREDENTIALS') &&
            !message.includes('SECRET-sentinel') &&
            !message.includes('TOKEN-sentinel')
          );
        }
      }),
      { numRuns: RUNS },
    );
  });
});
