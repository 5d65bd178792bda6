// core's public parsers and helpers on hostile input: only IdentityError may come out (most never throw at all).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fuzz, hostileText, jsonValue, mutated, reportFuzzCounts } from '../../../test-support/fuzz.js';
import { scaled } from '../../../test-support/scale.js';
import { parseRetryAfter } from './retry.js';
import { registerSecret, scrubSecrets } from './secrets.js';
import { formEncode, isAllowedPlainHttpHost, safeUrl } from './transport.js';

reportFuzzCounts('core');

const never = () => false;

describe('core parsers', () => {
  it('parseRetryAfter, isAllowedPlainHttpHost, safeUrl, formEncode, registerSecret / scrubSecrets', () => {
    const n =
      fuzz(
        'parseRetryAfter',
        fc.oneof(hostileText(30), mutated('Wed, 21 Oct 2015 07:28:00 GMT', 3), fc.integer().map(String)),
        (v) => {
          const ms = parseRetryAfter(v, Date.now());
          if (ms !== undefined && !(ms >= 0)) throw new TypeError(`negative or NaN delay ${ms}`);
        },
        8000,
        never,
      ) +
      fuzz(
        'isAllowedPlainHttpHost',
        fc.oneof(hostileText(40), fc.anything()),
        (h) => isAllowedPlainHttpHost(h as string),
        5000,
        never,
      ) +
      fuzz(
        'safeUrl',
        fc.oneof(hostileText(), mutated('https://user:pw@host:8443/p?q=secret#f', 4)),
        (u) => safeUrl(u),
        5000,
        never,
      ) +
      fuzz(
        'formEncode',
        fc.oneof(jsonValue(), fc.dictionary(hostileText(10), hostileText(20))),
        (f) => formEncode(f as Record<string, string>),
        5000,
      ) +
      fuzz(
        'registerSecret / scrubSecrets',
        fc.tuple(hostileText(40), hostileText(80)),
        ([secret, text]) => {
          registerSecret(secret);
          return scrubSecrets(`${text}${secret}${text}`);
        },
        5000,
        never,
      );
    expect(n).toBe(scaled(28_000));
  });
});
