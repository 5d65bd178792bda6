import { describe, expect, it } from 'vitest';
import { isDomainName, isPathElement, isSimpleName, splitPrincipal } from './names.js';

describe('ZTS name patterns', () => {
  it.each(['api', 'a_b-c', '_x', '9lives'])('%s is a SimpleName', (v) => expect(isSimpleName(v)).toBe(true));
  it.each(['', '-a', 'a.b', 'a b', 'a/b', 'é'])('%j is not a SimpleName', (v) => expect(isSimpleName(v)).toBe(false));
  it.each(['sports', 'athenz.aws-ecs.us-west-2', 'a.b_c.d-e'])('%s is a DomainName', (v) =>
    expect(isDomainName(v)).toBe(true),
  );
  it.each(['', '.a', 'a.', 'a..b', 'a.-b', 'a b'])('%j is not a DomainName', (v) =>
    expect(isDomainName(v)).toBe(false),
  );
  it.each(['', '0f1e2d3c', 'i-03d1ae7035f931a90', 'a.b~c=d+e@f$g,h:i'])('%j is a PathElement', (v) =>
    expect(isPathElement(v)).toBe(true),
  );
  it.each(['a/b', 'a b', 'a?b', 'a#b', 'a%2F'])('%j is not a PathElement', (v) => expect(isPathElement(v)).toBe(false));
  it('splits a principal at the last dot', () => {
    expect(splitPrincipal('a.b.api')).toEqual({ domain: 'a.b', service: 'api' });
    expect(splitPrincipal('nodot')).toBeUndefined();
    expect(splitPrincipal('trailing.')).toBeUndefined();
  });
});
