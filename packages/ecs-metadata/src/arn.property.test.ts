import { IdentityError } from '@ecs-identity/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scaled } from '../../../test-support/scale.js';
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

/** fast-check's assert, as a vitest assertion: a counterexample fails the test with fast-check's report. */
function assertProperty<Ts extends unknown[]>(property: fc.IProperty<Ts>, params?: fc.Parameters<Ts>): void {
  expect(() => fc.assert(property, params)).not.toThrow();
}

const RUNS = scaled(10_000);

const partition = fc.oneof(
  fc.constantFrom('aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-eusc'),
  fc.stringMatching(/^[a-z][a-z0-9]{0,5}(-[a-z0-9]{1,5}){0,2}$/),
);
const region = fc.oneof(
  fc.constantFrom('us-east-1', 'us-west-2', 'cn-north-1', 'us-gov-west-1', 'us-isob-east-1', 'eu-isoe-west-1'),
  fc.stringMatching(/^[a-z]{2,4}(-[a-z0-9]{1,9}){0,2}-[0-9]{1,2}$/),
);
const account = fc.stringMatching(/^[0-9]{12}$/);
const clusterName = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
const taskId = fc.oneof(
  fc.stringMatching(/^[0-9a-f]{32}$/),
  fc.uuid(),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9-]{0,20}$/),
);
const roleName = fc.stringMatching(/^[\w+=,.@-]{1,64}$/);
const iamPath = fc
  .array(fc.stringMatching(/^[\x21-\x2e\x30-\x7e]{1,10}$/), { maxLength: 4 })
  .map((s) => (s.length ? `/${s.join('/')}/` : '/'));

/** Runs `fn`; passes when it returns or throws an IdentityError with one of `codes`. */
function onlyIdentityErrors(fn: () => unknown, ...codes: string[]): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    return e instanceof IdentityError && codes.includes(e.code);
  }
}

// Arbitrary strings biased towards ARN-like shapes so the property reaches deep into the parser.
const arnish = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc
    .array(
      fc.oneof(
        fc.string({ maxLength: 15 }),
        fc.constantFrom('arn', 'aws', 'ecs', 'iam', 'sts', 'task', 'us-east-1', '123456789012'),
      ),
      {
        maxLength: 9,
      },
    )
    .map((parts) => parts.join(':')),
  fc
    .tuple(partition, region, account, fc.array(fc.string({ maxLength: 12 }), { maxLength: 4 }))
    .map(([p, r, a, segs]) => `arn:${p}:ecs:${r}:${a}:task/${segs.join('/')}`),
);

describe('ARN properties', () => {
  it('task ARNs round-trip (new and old format, any partition)', () => {
    assertProperty(
      fc.property(partition, region, account, fc.option(clusterName, { nil: undefined }), taskId, (p, r, a, c, t) => {
        const arn = formatTaskArn({
          partition: p,
          region: r,
          accountId: a,
          taskId: t,
          ...(c === undefined ? {} : { clusterName: c }),
        });
        const parsed = parseTaskArn(arn);
        const same =
          parsed.arn === arn &&
          parsed.partition === p &&
          parsed.region === r &&
          parsed.accountId === a &&
          parsed.taskId === t &&
          parsed.clusterName === c &&
          parsed.format === (c === undefined ? 'old' : 'new');
        if (!same) return false;
        if (c === undefined) return true;
        return resolveCluster(undefined, parsed).clusterArn === `arn:${p}:ecs:${r}:${a}:cluster/${c}`;
      }),
      { numRuns: RUNS },
    );
  });

  it('cluster and role ARNs round-trip', () => {
    assertProperty(
      fc.property(partition, region, account, clusterName, roleName, iamPath, (p, r, a, c, name, path) => {
        const clusterArn = formatClusterArn({ partition: p, region: r, accountId: a, clusterName: c });
        const cluster = parseClusterArn(clusterArn);
        const roleArn = formatRoleArn({ partition: p, accountId: a, roleName: name, path });
        const role = parseRoleArn(roleArn);
        const assumed = parseRoleArn(`arn:${p}:sts::${a}:assumed-role/${name}/${name}`);
        return (
          cluster.clusterName === c &&
          cluster.partition === p &&
          cluster.region === r &&
          cluster.accountId === a &&
          role.arn === roleArn &&
          role.kind === 'role' &&
          role.partition === p &&
          role.accountId === a &&
          role.roleName === name &&
          role.path === path &&
          assumed.kind === 'assumed-role' &&
          assumed.roleName === name &&
          assumed.sessionName === name &&
          assumed.path === undefined
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('no input makes a parser throw anything but INVALID_ARN', () => {
    assertProperty(
      fc.property(
        arnish,
        (s) =>
          onlyIdentityErrors(() => parseArn(s), 'INVALID_ARN') &&
          onlyIdentityErrors(() => parseTaskArn(s), 'INVALID_ARN') &&
          onlyIdentityErrors(() => parseRoleArn(s), 'INVALID_ARN') &&
          onlyIdentityErrors(() => parseClusterArn(s), 'INVALID_ARN'),
      ),
      { numRuns: RUNS },
    );
  });

  it('a parsed task ARN always yields a non-empty cluster name, or a typed error', () => {
    assertProperty(
      fc.property(arnish, fc.option(fc.string({ maxLength: 30 }), { nil: undefined }), (s, cluster) => {
        try {
          const r = resolveCluster(cluster, s);
          return r.clusterName.length > 0 && r.clusterArn.endsWith(`:cluster/${r.clusterName}`);
        } catch (e) {
          return IdentityError.is(e, 'INVALID_ARN', 'INVALID_METADATA');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('single-character edits of a valid task ARN either parse consistently or fail with INVALID_ARN', () => {
    assertProperty(
      fc.property(
        partition,
        region,
        account,
        clusterName,
        taskId,
        fc.nat(),
        fc.string({ unit: 'grapheme', minLength: 0, maxLength: 2 }),
        (p, r, a, c, t, at, insert) => {
          const arn = formatTaskArn({ partition: p, region: r, accountId: a, clusterName: c, taskId: t });
          const i = at % arn.length;
          const edited = arn.slice(0, i) + insert + arn.slice(i + 1);
          try {
            // Whatever parses must print back to the same string.
            return formatTaskArn(parseTaskArn(edited)) === edited;
          } catch (e) {
            return IdentityError.is(e, 'INVALID_ARN');
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
