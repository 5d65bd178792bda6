// Shared by the Node and the browser tests: no Node import here.
import { expect } from 'vitest';
import { IdentityError } from '../src/errors.js';

/** Awaits `p`, expects it to reject with an IdentityError and returns that error (throws when `p` resolves). */
export async function rejection(p: Promise<unknown>): Promise<IdentityError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(IdentityError);
    return e as IdentityError;
  }
  throw new Error('expected a rejection');
}
