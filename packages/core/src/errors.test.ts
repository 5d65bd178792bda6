import { describe, expect, it } from 'vitest';
import { IdentityError } from './errors.js';

describe('IdentityError', () => {
  it('carries code, retryable, status and cause', () => {
    const cause = new Error('socket hang up');
    const e = new IdentityError('NETWORK', 'GET http://127.0.0.1/ failed', { retryable: true, status: 503, cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('IdentityError');
    expect(e.code).toBe('NETWORK');
    expect(e.retryable).toBe(true);
    expect(e.status).toBe(503);
    expect(e.cause).toBe(cause);
  });

  it('defaults to not retryable and narrows with is()', () => {
    const e: unknown = new IdentityError('CLOSED', 'closed');
    expect(IdentityError.is(e)).toBe(true);
    expect(IdentityError.is(e, 'CLOSED', 'ABORTED')).toBe(true);
    expect(IdentityError.is(e, 'TIMEOUT')).toBe(false);
    expect(IdentityError.is(new Error('x'))).toBe(false);
    if (IdentityError.is(e)) expect(e.retryable).toBe(false);
  });
});
