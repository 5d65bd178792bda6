import { describe, expect, it } from 'vitest';
import { canonicalHeaderKey, toGoHeader } from './canonical-header.js';

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
