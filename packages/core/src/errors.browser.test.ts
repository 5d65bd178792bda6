import { expect, it } from 'vitest';
import { IdentityError } from './errors.js';

it('runs in a real browser and builds IdentityError there', () => {
  expect(typeof window).toBe('object');
  expect(typeof crypto.subtle.digest).toBe('function');
  const e = new IdentityError('TIMEOUT', 'slow', { retryable: true });
  expect(e instanceof Error && e.code === 'TIMEOUT' && e.retryable).toBe(true);
});
