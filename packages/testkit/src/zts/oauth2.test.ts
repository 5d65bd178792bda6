import { describe, expect, it } from 'vitest';
import { parseScope } from './oauth2.js';

describe('access token scope parsing (AccessTokenRequest)', () => {
  it('reads roles, the domain scope and openid', () => {
    expect(parseScope('sports:role.readers sports:role.writers')).toEqual({
      domain: 'sports',
      roles: ['readers', 'writers'],
      openid: false,
      service: undefined,
      sendScope: false,
    });
    expect(parseScope('sports:domain')).toMatchObject({ domain: 'sports', roles: undefined, sendScope: true });
    expect(parseScope('openid sports:service.api sports:role.r')).toMatchObject({
      openid: true,
      service: 'api',
      roles: ['r'],
    });
  });

  it('skips unknown items and repeated spaces', () => {
    expect(parseScope('  sports:role.r   something ')).toMatchObject({ domain: 'sports', roles: ['r'] });
  });

  it.each([
    ['sports:role.r weather:role.r', 'Multiple domains in scope'],
    ['sports:domain weather:domain', 'Multiple domains in scope'],
    ['openid sports:service.api sports:service.web', 'Multiple services in scope'],
    [':role.r', 'empty domain name'],
    ['openid', 'No domains in scope'],
    ['openid sports:role.r', 'No service name in scope'],
  ])('refuses %j', (scope, message) => {
    expect(() => parseScope(scope)).toThrow(message);
  });
});
