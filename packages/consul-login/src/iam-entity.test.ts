import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { entityFromArn } from './iam-entity.js';

describe('entityFromArn', () => {
  it('gives the role NAME of role ARNs with and without a path, in any partition', () => {
    expect(entityFromArn('arn:aws:iam::123456789012:role/web')).toEqual({ roleName: 'web' });
    expect(entityFromArn('arn:aws:iam::123456789012:role/a/b/c/web.task@x')).toEqual({ roleName: 'web.task@x' });
    expect(entityFromArn('arn:aws-cn:iam::123456789012:role/ecs/web')).toEqual({ roleName: 'web' });
  });

  it('gives the role of an assumed-role ARN and the user of a user ARN', () => {
    expect(entityFromArn('arn:aws:sts::123456789012:assumed-role/web/session-1')).toEqual({ roleName: 'web' });
    expect(entityFromArn('arn:aws-us-gov:iam::123456789012:user/ops/alice')).toEqual({ userName: 'alice' });
  });

  it('rejects what is not a role or user with INVALID_ARN naming the input', () => {
    for (const arn of [
      'arn:aws:sts::123456789012:federated-user/bob',
      'arn:aws:iam::123456789012:group/admins',
      'arn:aws:sts::123456789012:assumed-role/web',
      'arn:aws:iam::123456789012:role/',
      'arn:aws:iam::123456789012:role/bad name',
      'not-an-arn',
    ]) {
      const error = (() => {
        try {
          entityFromArn(arn);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(IdentityError.is(error, 'INVALID_ARN'), arn).toBe(true);
      expect((error as Error).message).toContain(JSON.stringify(arn));
    }
  });
});
