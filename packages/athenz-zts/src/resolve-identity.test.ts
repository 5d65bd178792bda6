import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { resolveService } from './resolve-identity.js';

describe('resolveService', () => {
  it('uses explicit domain and service first, lower-cased, with the account for the role', () => {
    expect(
      resolveService({
        domain: 'Sports',
        service: 'API',
        taskRoleArn: 'arn:aws:iam::123456789012:role/other.thing-service',
      }),
    ).toEqual({
      domain: 'sports',
      service: 'api',
      source: 'options',
      attestationRoleArn: 'arn:aws:iam::123456789012:role/sports.api',
    });
    expect(
      resolveService({
        domain: 'sports',
        service: 'api',
        partition: 'aws-cn',
        accountId: '111122223333',
        rolePath: '/athenz/',
      }).attestationRoleArn,
    ).toBe('arn:aws-cn:iam::111122223333:role/athenz/sports.api');
  });

  it('then ATHENZ_SIA_IAM_ROLE_ARN (split at the last dot, path kept)', () => {
    const r = resolveService({
      iamRoleArn: 'arn:aws:iam::123456789012:role/ecs/sports.prod.api',
      taskRoleArn: 'arn:aws:iam::123456789012:role/x.y-service',
    });
    expect(r).toMatchObject({ domain: 'sports.prod', service: 'api', source: 'ATHENZ_SIA_IAM_ROLE_ARN' });
    expect(r.attestationRoleArn).toBe('arn:aws:iam::123456789012:role/ecs/sports.prod.api');
  });

  it('then the task role <domain>.<service>-service (suffix stripped, any partition)', () => {
    const r = resolveService({ taskRoleArn: 'arn:aws-us-gov:iam::123456789012:role/path/sports.prod.api-service' });
    expect(r).toMatchObject({ domain: 'sports.prod', service: 'api', source: 'task role' });
    expect(r.attestationRoleArn).toBe('arn:aws-us-gov:iam::123456789012:role/path/sports.prod.api');
  });

  it('refuses what cannot name a service', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return IdentityError.is(e) ? e.code : 'other';
      }
      return undefined;
    };
    expect(code(() => resolveService({}))).toBe('INVALID_CONFIG');
    expect(code(() => resolveService({ domain: 'sports' }))).toBe('INVALID_CONFIG');
    expect(code(() => resolveService({ taskRoleArn: 'arn:aws:iam::123456789012:role/sports.api' }))).toBe(
      'INVALID_CONFIG',
    );
    expect(code(() => resolveService({ taskRoleArn: 'arn:aws:iam::123456789012:role/sportsapi-service' }))).toBe(
      'INVALID_CONFIG',
    );
    expect(code(() => resolveService({ domain: 'sports', service: 'api' }))).toBe('INVALID_CONFIG');
    expect(code(() => resolveService({ iamRoleArn: 'arn:aws:sts::123456789012:assumed-role/sports.api/s' }))).toBe(
      'INVALID_CONFIG',
    );
    expect(code(() => resolveService({ iamRoleArn: 'not-an-arn' }))).toBe('INVALID_ARN');
  });
});
