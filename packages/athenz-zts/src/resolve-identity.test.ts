import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { normalizeRolePath, resolveService } from './resolve-identity.js';

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return IdentityError.is(e) ? e.code : 'other';
  }
  return undefined;
};

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
      attestationRole: 'sports.api',
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

  it('refuses an iamRoleArn that is not a role, or names another role than the attestation claims', () => {
    const names = { domain: 'sports', service: 'api' };
    expect(
      code(() => resolveService({ ...names, iamRoleArn: 'arn:aws:sts::123456789012:assumed-role/sports.api/s' })),
    ).toBe('INVALID_CONFIG');
    expect(() => resolveService({ ...names, iamRoleArn: 'arn:aws:iam::123456789012:role/other.api' })).toThrow(
      /names the role other\.api, but ZTS checks the attestation against the role sports\.api/,
    );
  });
});

describe('rolePath (siad role_path, ATHENZ_SIA_ROLE_PATH)', () => {
  it('normalises ecs, /ecs and /ecs/ to /ecs/, as siad does', () => {
    for (const p of ['ecs', '/ecs', '/ecs/', 'ecs/']) expect(normalizeRolePath(p)).toBe('/ecs/');
    expect(normalizeRolePath('a/b')).toBe('/a/b/');
    expect(normalizeRolePath('/')).toBe('/');
    expect(normalizeRolePath('')).toBe('/');
  });

  it('builds the role under the normalised path: /ecs never becomes role/ecssports.api', () => {
    const base = { domain: 'sports', service: 'api', partition: 'aws', accountId: '123456789012' };
    for (const rolePath of ['ecs', '/ecs', '/ecs/']) {
      expect(resolveService({ ...base, rolePath }).attestationRoleArn).toBe(
        'arn:aws:iam::123456789012:role/ecs/sports.api',
      );
    }
    // the task role's own path is the default there; an explicit path wins
    const fromTask = { taskRoleArn: 'arn:aws:iam::123456789012:role/tasks/sports.api-service' };
    expect(resolveService(fromTask).attestationRoleArn).toBe('arn:aws:iam::123456789012:role/tasks/sports.api');
    expect(resolveService({ ...fromTask, rolePath: 'ecs' }).attestationRoleArn).toBe(
      'arn:aws:iam::123456789012:role/ecs/sports.api',
    );
  });

  it('refuses what cannot be an IAM path, naming the field', () => {
    for (const bad of ['a b', 'a//b', '/é/', 'x'.repeat(600), '//']) {
      expect(code(() => normalizeRolePath(bad))).toBe('INVALID_CONFIG');
    }
    expect(() => normalizeRolePath('a b', 'ATHENZ_SIA_ROLE_PATH')).toThrow(
      /^ATHENZ_SIA_ROLE_PATH "a b" is not an IAM path/,
    );
    expect(() =>
      resolveService({
        domain: 'sports',
        service: 'api',
        partition: 'aws',
        accountId: '123456789012',
        rolePath: 'a b',
      }),
    ).toThrow(/rolePath "a b" is not an IAM path/);
  });

  it('an iamRoleArn carries its own path: a different rolePath is refused, the same one accepted', () => {
    const iamRoleArn = 'arn:aws:iam::123456789012:role/ecs/sports.api';
    expect(resolveService({ iamRoleArn, rolePath: 'ecs' }).attestationRoleArn).toBe(iamRoleArn);
    expect(() => resolveService({ iamRoleArn, rolePath: '/other/' })).toThrow(
      /role path \/other\/ and the path \/ecs\//,
    );
  });
});

describe('omitDomain (siad omit_domain, ATHENZ_SIA_OMIT_DOMAIN)', () => {
  it('assumes the role <service> and attests role <service>, wherever the names come from', () => {
    const options = resolveService({
      domain: 'sports',
      service: 'api',
      partition: 'aws',
      accountId: '123456789012',
      rolePath: 'ecs',
      omitDomain: true,
    });
    expect(options).toMatchObject({
      domain: 'sports',
      service: 'api',
      attestationRole: 'api',
      attestationRoleArn: 'arn:aws:iam::123456789012:role/ecs/api',
    });
    // ATHENZ_SIA_IAM_ROLE_ARN names <domain>.<service>; the role beside it named <service> is assumed
    const env = resolveService({ iamRoleArn: 'arn:aws:iam::123456789012:role/ecs/sports.prod.api', omitDomain: true });
    expect(env).toMatchObject({ domain: 'sports.prod', service: 'api', attestationRole: 'api' });
    expect(env.attestationRoleArn).toBe('arn:aws:iam::123456789012:role/ecs/api');
    // an ARN already naming <service> is taken as is (what the CLI hands over)
    expect(
      resolveService({ ...options, iamRoleArn: options.attestationRoleArn, omitDomain: true }).attestationRoleArn,
    ).toBe('arn:aws:iam::123456789012:role/ecs/api');
    const task = resolveService({
      taskRoleArn: 'arn:aws:iam::123456789012:role/t/sports.api-service',
      omitDomain: true,
    });
    expect(task).toMatchObject({ attestationRole: 'api', attestationRoleArn: 'arn:aws:iam::123456789012:role/t/api' });
  });
});
