import { IdentityError } from '@ecs-identity/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dashedDomain,
  isCompoundName,
  isInstanceId,
  isSimpleName,
  principalName,
  providerName,
  roleResourceName,
  validateDnsName,
  validateDnsSuffix,
  validateDomain,
  validateInstanceId,
  validateRole,
  validateService,
} from './names.js';

const SIMPLE_FIRST = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';
const simpleName = fc
  .tuple(fc.constantFrom(...SIMPLE_FIRST), fc.string({ unit: fc.constantFrom(...`${SIMPLE_FIRST}-`), maxLength: 12 }))
  .map(([a, b]) => a + b);
const compoundName = fc.array(simpleName, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));

function code(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    return IdentityError.is(e) ? e.code : 'not-identity-error';
  }
}

describe('name patterns', () => {
  it('accepts every generated SimpleName / CompoundName and lower-cases them', () => {
    fc.assert(
      fc.property(compoundName, (name) => {
        expect(isCompoundName(name)).toBe(true);
        expect(validateDomain(name)).toBe(name.toLowerCase());
      }),
    );
    fc.assert(
      fc.property(simpleName, (name) => {
        expect(isSimpleName(name)).toBe(true);
        expect(validateService(name)).toBe(name.toLowerCase());
      }),
    );
  });

  it('services are SimpleNames: a dotted service is refused with the field named, as ZTS refuses it', () => {
    fc.assert(
      fc.property(simpleName, simpleName, (a, b) => {
        expect(code(() => validateService(`${a}.${b}`))).toBe('INVALID_NAME');
      }),
    );
    expect(() => validateService('api.v1')).toThrow(/service "api\.v1" does not match the ZTS pattern SimpleName/);
    expect(() => principalName('sports', 'api.v1')).toThrow(/service "api\.v1"/);
  });

  it('rejects names with a leading dash, empty labels or characters outside the pattern', () => {
    fc.assert(
      fc.property(
        compoundName,
        fc.constantFrom('-', '.', '..', ' ', '/', ':', '@', 'é', '*'),
        fc.boolean(),
        (name, bad, atStart) => {
          const candidate = bad === '..' ? name.replace(/^/, 'a..') : atStart ? bad + name : `${name}${bad}`;
          // a trailing '-' is a legal SimpleName character; everything else here must be refused
          fc.pre(!(bad === '-' && !atStart));
          expect(isCompoundName(candidate)).toBe(false);
          expect(code(() => validateDomain(candidate))).toBe('INVALID_NAME');
        },
      ),
    );
  });

  it('names the field in the error', () => {
    expect(() => validateService('bad name', 'options.service')).toThrow(/options\.service "bad name"/);
    expect(() => validateDomain('')).toThrow(/domain is required/);
    expect(code(() => validateDomain(undefined))).toBe('INVALID_NAME');
  });

  it('instance ids: the PathElement set, never empty', () => {
    const pathChars = 'abcXYZ019-._~=+@$,:';
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...pathChars), minLength: 1, maxLength: 40 }), (id) => {
        expect(isInstanceId(id)).toBe(true);
        expect(validateInstanceId(id)).toBe(id);
      }),
    );
    expect(isInstanceId('')).toBe(false);
    for (const bad of ['a/b', 'a b', 'a?b', 'a#b', 'a%b'])
      expect(code(() => validateInstanceId(bad))).toBe('INVALID_NAME');
    expect(validateInstanceId('7ae8a1c6f1d64e2a8d40f4ac8b2a1a0e')).toBe('7ae8a1c6f1d64e2a8d40f4ac8b2a1a0e');
  });

  it('role names are compound names, lower-cased', () => {
    expect(validateRole('Readers.Prod')).toBe('readers.prod');
    expect(code(() => validateRole('role:x'))).toBe('INVALID_NAME');
  });
});

describe('derived names', () => {
  it('dashes the domain for DNS labels', () => {
    expect(dashedDomain('Sports.Prod.West')).toBe('sports-prod-west');
    fc.assert(
      fc.property(compoundName, (d) => {
        expect(dashedDomain(d)).not.toContain('.');
      }),
    );
  });

  it('builds principal, role resource and provider names', () => {
    expect(principalName('Sports', 'API')).toBe('sports.api');
    expect(roleResourceName('sports', 'readers')).toBe('sports:role.readers');
    expect(providerName('us-west-2')).toBe('athenz.aws-ecs.us-west-2');
    expect(providerName('eu-central-1', 'sys.auth.Fargate')).toBe('sys.auth.fargate.eu-central-1');
    expect(code(() => providerName('us west'))).toBe('INVALID_NAME');
  });

  it('validates DNS suffixes and names', () => {
    expect(validateDnsSuffix('AWS.athenz.cloud')).toBe('aws.athenz.cloud');
    expect(validateDnsName('*.api.sports.aws.athenz.cloud')).toBe('*.api.sports.aws.athenz.cloud');
    for (const bad of ['.aws.cloud', 'a..b', 'a b', '', '-a.b', 'a.b-']) {
      expect(code(() => validateDnsSuffix(bad))).toBe('INVALID_NAME');
    }
  });
});
