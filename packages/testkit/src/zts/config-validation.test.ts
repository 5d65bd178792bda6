import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import type { ZtsOptions } from './config.js';
import { validateZtsOptions } from './config-validation.js';

const base: ZtsOptions = {
  providers: ['athenz.aws-ecs.us-west-2'],
  domains: [{ name: 'sports', awsAccount: '123456789012', services: ['api'], roles: { readers: ['sports.api'] } }],
};

describe('startZts options', () => {
  it('accepts a valid configuration', () => {
    expect(() => validateZtsOptions(base)).not.toThrow();
  });

  it.each<[string, ZtsOptions, string]>([
    ['a bad provider', { ...base, providers: ['bad provider'] }, 'providers[0]'],
    ['a bad domain', { ...base, domains: [{ name: 'a..b', services: [] }] }, 'domains[0].name'],
    ['a bad service', { ...base, domains: [{ name: 'sports', services: ['a.b'] }] }, 'domains[0].services[0]'],
    ['a short account', { ...base, domains: [{ name: 'sports', awsAccount: '1234', services: [] }] }, 'awsAccount'],
    [
      'an unknown provider for a service',
      { ...base, domains: [{ name: 'sports', services: [{ name: 'api', providers: ['nope'] }] }] },
      'domains[0].services[0].providers',
    ],
    ['a bad role', { ...base, domains: [{ name: 'sports', services: [], roles: { 'a b': [] } }] }, 'domains[0].roles'],
    ['a bad DNS suffix', { ...base, dnsSuffix: 'athenz cloud' }, 'dnsSuffix[0]'],
    ['no DNS suffix', { ...base, dnsSuffix: [] }, 'dnsSuffix is empty'],
    ['a zero lifetime', { ...base, certLifetimeMinutes: 0 }, 'certLifetimeMinutes'],
    ['a fractional lifetime', { ...base, accessTokenDefaultSeconds: 1.5 }, 'accessTokenDefaultSeconds'],
    ['an unknown CA algorithm', { ...base, caKeyAlgorithm: 'DSA' as never }, 'caKeyAlgorithm'],
    ['an AWS URL that is not one', { ...base, aws: { url: 'localhost:1234' } }, 'aws.url'],
  ])('refuses %s, naming the field', (_name, opts, field) => {
    let error: unknown;
    try {
      validateZtsOptions(opts);
    } catch (e) {
      error = e;
    }
    expect(IdentityError.is(error, 'INVALID_ARGUMENT')).toBe(true);
    expect((error as Error).message).toContain(field);
  });
});
