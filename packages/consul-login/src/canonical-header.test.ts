import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalHeaderKey, goHeaderJson, goHeaderLayout, toGoHeader } from './canonical-header.js';

describe('canonicalHeaderKey', () => {
  it('matches Go textproto.CanonicalMIMEHeaderKey', () => {
    expect(canonicalHeaderKey('x-amz-security-token')).toBe('X-Amz-Security-Token');
    expect(canonicalHeaderKey('X-Consul-IAM-ServerID')).toBe('X-Consul-Iam-Serverid');
    expect(canonicalHeaderKey('x-consul-iam-getentity-method')).toBe('X-Consul-Iam-Getentity-Method');
    expect(canonicalHeaderKey('AUTHORIZATION')).toBe('Authorization');
    expect(canonicalHeaderKey('content-type')).toBe('Content-Type');
    // Go leaves keys with non-token characters alone.
    expect(canonicalHeaderKey('bad key')).toBe('bad key');
  });
});

describe('toGoHeader', () => {
  it('gives sorted canonical keys with array values and no Host', () => {
    const out = toGoHeader({ 'x-amz-date': 'd', host: 'sts.amazonaws.com', authorization: 'a', 'content-type': 'c' });
    expect(JSON.stringify(out)).toBe('{"Authorization":["a"],"Content-Type":["c"],"X-Amz-Date":["d"]}');
  });

  it('refuses two keys that differ only in case', () => {
    expect(() => toGoHeader({ 'x-amz-date': 'a', 'X-Amz-Date': 'b' })).toThrow(/X-Amz-Date given twice/);
  });
});

describe('goHeaderJson', () => {
  const layout = goHeaderLayout(['x-amz-date', 'authorization', 'x-consul-iam-serverid', 'content-type', 'host']);
  const keys = ['authorization', 'content-type', 'x-amz-date', 'x-consul-iam-serverid'] as const;
  const headerMap = (value: fc.Arbitrary<string>) =>
    fc.record(Object.fromEntries(keys.map((k) => [k, value])) as Record<(typeof keys)[number], fc.Arbitrary<string>>, {
      requiredKeys: [],
    });
  const withHost = (h: Record<string, string>) => ({ ...h, host: 'sts.amazonaws.com' });

  it('lays keys out in sorted canonical order, without host', () => {
    expect(layout.keys).toEqual(['authorization', 'content-type', 'x-amz-date', 'x-consul-iam-serverid']);
    expect(layout.prefixes[3]).toBe('"X-Consul-Iam-Serverid":[');
  });

  it('equals JSON.stringify(toGoHeader(h)) for any values (property)', () => {
    fc.assert(
      fc.property(headerMap(fc.string({ unit: 'binary', maxLength: 40 })), (h) => {
        expect(goHeaderJson(withHost(h), layout, false)).toBe(JSON.stringify(toGoHeader(withHost(h))));
      }),
      { numRuns: 150 },
    );
  });

  it('equals it too on the printable-ASCII path, quotes and backslashes included (property)', () => {
    // Random printable ASCII: `"` and `\` turn up in most values of this length.
    const printable = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
    fc.assert(
      fc.property(headerMap(printable), (h) => {
        expect(goHeaderJson(withHost(h), layout, true)).toBe(JSON.stringify(toGoHeader(withHost(h))));
      }),
      { numRuns: 150 },
    );
    expect(goHeaderJson({ authorization: 'a"b\\c' }, layout, true)).toBe('{"Authorization":["a\\"b\\\\c"]}');
  });

  it('falls back to toGoHeader for keys outside the layout, and still refuses a case clash', () => {
    const extra = { authorization: 'a', 'x-amz-content-sha256': 'h', host: 'h' };
    expect(goHeaderJson(extra, layout, true)).toBe('{"Authorization":["a"],"X-Amz-Content-Sha256":["h"]}');
    expect(() => goHeaderJson({ 'x-amz-date': 'a', 'X-Amz-Date': 'b' }, layout, true)).toThrow(/given twice/);
    expect(goHeaderJson({ host: 'only' }, layout, true)).toBe('{}');
  });
});
