import { inspect } from 'node:util';
import { IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { awsCredentials, parseContainerCredentials, parseRfc3339 } from './aws-credentials.js';

const NOW = Date.UTC(2026, 10, 25, 8, 0, 0);
const body = (fields: Record<string, unknown>) =>
  JSON.stringify({
    AccessKeyId: 'ASIAEXAMPLE',
    SecretAccessKey: 'secret-key-value',
    Token: 'session-token-value',
    Expiration: '2026-11-25T09:00:00Z',
    RoleArn: 'arn:aws:iam::123456789012:role/sports.api-service',
    AccountId: '123456789012',
    ...fields,
  });

function codeAndMessage(fn: () => unknown): [string, string] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(IdentityError);
    return [(e as IdentityError).code, (e as Error).message];
  }
  throw new Error('expected an error');
}

describe('parseContainerCredentials', () => {
  it('maps every field, keeping roleArn and accountId', () => {
    const c = parseContainerCredentials(body({}), NOW);
    expect(c).toMatchObject({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret-key-value',
      sessionToken: 'session-token-value',
      roleArn: 'arn:aws:iam::123456789012:role/sports.api-service',
      accountId: '123456789012',
    });
    expect(c.expiresAt?.toISOString()).toBe('2026-11-25T09:00:00.000Z');
  });

  it('hides the secret key and session token from inspect, JSON and String', () => {
    const c = parseContainerCredentials(body({}), NOW);
    for (const shown of [inspect(c), JSON.stringify(c), String(c)]) {
      expect(shown).not.toContain('secret-key-value');
      expect(shown).not.toContain('session-token-value');
    }
    expect(inspect(c)).toContain('ASIAEXAMPLE');
  });

  it('accepts offsets and fractional seconds in Expiration', () => {
    expect(
      parseContainerCredentials(body({ Expiration: '2026-11-25T10:00:00.123456789+01:00' }), NOW).expiresAt?.getTime(),
    ).toBe(Date.UTC(2026, 10, 25, 9, 0, 0, 123));
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"AccessKeyId": "A', /not valid JSON/],
    ['an array', '[]', /expected a JSON object/],
    ['missing AccessKeyId', body({ AccessKeyId: undefined }), /field AccessKeyId is missing/],
    ['numeric SecretAccessKey', body({ SecretAccessKey: 5 }), /field SecretAccessKey must be a non-empty string/],
    ['empty Token', body({ Token: '' }), /field Token must be a non-empty string/],
    ['missing Expiration', body({ Expiration: undefined }), /field Expiration is missing/],
    ['unparseable Expiration', body({ Expiration: 'next tuesday' }), /Expiration "next tuesday" is not an RFC 3339/],
    ['date-only Expiration', body({ Expiration: '2026-11-26' }), /not an RFC 3339/],
    [
      'past Expiration',
      body({ Expiration: '2026-11-25T07:59:59Z' }),
      /Expiration 2026-11-25T07:59:59.000Z is in the past/,
    ],
    ['bad AccountId', body({ AccountId: '12' }), /AccountId is not 12 digits/],
  ];
  for (const [name, input, message] of bad) {
    it(`rejects ${name} with INVALID_CREDENTIALS, no secret in the message`, () => {
      const [code, text] = codeAndMessage(() => parseContainerCredentials(input, NOW));
      expect(code).toBe('INVALID_CREDENTIALS');
      expect(text).toMatch(message);
      expect(text).not.toContain('secret-key-value');
      expect(text).not.toContain('session-token-value');
    });
  }
});

describe('awsCredentials', () => {
  it('validates key id, secret, token and expiry', () => {
    expect(codeAndMessage(() => awsCredentials({ accessKeyId: 'A', secretAccessKey: '' }))[1]).toMatch(
      /secretAccessKey/,
    );
    expect(
      codeAndMessage(() => awsCredentials({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: '' }))[1],
    ).toMatch(/sessionToken/);
    expect(
      codeAndMessage(() =>
        awsCredentials({ accessKeyId: 'A', secretAccessKey: 'S', expiresAt: new Date(Number.NaN) }),
      )[1],
    ).toMatch(/expiresAt/);
  });

  it('leaves optional fields absent rather than undefined', () => {
    const c = awsCredentials({ accessKeyId: 'A', secretAccessKey: 'S' });
    for (const key of ['sessionToken', 'expiresAt', 'roleArn', 'accountId']) expect(key in c).toBe(false);
    expect(c.secretAccessKey).toBe('S');
  });
});

describe('parseRfc3339', () => {
  it('rejects what Date.parse would accept but is not RFC 3339', () => {
    for (const s of ['2020', 'March 7, 2020', '2020-01-01T00:00:00', '2020-13-01T00:00:00Z']) {
      expect(parseRfc3339(s)).toBeUndefined();
    }
  });
});
