import { HttpStatusError, IdentityError } from '@ecs-identity/core';
import { describe, expect, it } from 'vitest';
import { mapZtsError, parseZtsErrorBody, ztsErrorCode } from './zts-errors.js';

function statusError(status: number, body: string): HttpStatusError {
  return new HttpStatusError({
    status,
    method: 'POST',
    url: 'https://zts.example.com:4443/zts/v1/instance',
    responseText: body,
  });
}

describe('ZTS error mapping', () => {
  it.each([
    [400, 'CSR validation failed - Unable to validate cert request: CN mismatch', 'ZTS_CSR_REJECTED'],
    [
      403,
      'provider athenz.aws-ecs.us-west-2 not authorized to launch sports.api instances',
      'ZTS_PROVIDER_NOT_AUTHORIZED',
    ],
    [403, 'unable to verify attestation data', 'ZTS_ATTESTATION_REJECTED'],
    [403, 'Certificate revoked', 'ZTS_REVOKED'],
    [403, 'Unable to find certificate record', 'ZTS_NOT_FOUND'],
    [
      403,
      'postrolecertificaterequestext: principal sports.api is not included in the requested role(s) in domain weather',
      'ZTS_NOT_ROLE_MEMBER',
    ],
    [
      403,
      'postaccesstokenrequest: principal sports.api is not included in any role in domain weather',
      'ZTS_NOT_ROLE_MEMBER',
    ],
    [403, 'Role Identity not authorized for request', 'ZTS_NOT_AUTHORIZED'],
    [403, 'Principal: sports.api not authorized for proxy role certificate request', 'ZTS_NOT_AUTHORIZED'],
    [403, 'Authorized Service Principals not allowed', 'ZTS_NOT_AUTHORIZED'],
    [403, 'Role based Principal does not include all roles', 'ZTS_NOT_AUTHORIZED'],
    [403, 'principal not authorized to delete the requested instance record', 'ZTS_NOT_AUTHORIZED'],
    [404, 'Domain not found', 'ZTS_NOT_FOUND'],
    [429, 'Too Many Requests', 'ZTS_RATE_LIMITED'],
    [500, 'Internal Server Error', 'ZTS_ERROR'],
    [403, 'Forbidden', 'ZTS_ERROR'],
  ])('%i %s -> %s', (status, message, code) => {
    expect(ztsErrorCode(status, message)).toBe(code);
    const mapped = mapZtsError(statusError(status, JSON.stringify({ code: status, message })), 'register sports.api');
    expect(IdentityError.is(mapped, code as IdentityError['code'])).toBe(true);
    const e = mapped as IdentityError;
    expect(e.message).toContain(message); // the server's words are kept
    expect(e.message).toContain('register sports.api');
    expect(e.status).toBe(status);
    expect(e.retryable).toBe(status === 429 || status >= 500);
  });

  it('keeps a non-JSON body (a proxy page) as the message and passes other errors through', () => {
    const e = mapZtsError(statusError(502, '<html>Bad Gateway</html>'), 'refresh') as IdentityError;
    expect(e.code).toBe('ZTS_ERROR');
    expect(e.message).toContain('Bad Gateway');
    expect(e.retryable).toBe(true);
    const other = new IdentityError('TIMEOUT', 'slow');
    expect(mapZtsError(other, 'x')).toBe(other);
  });

  it('parses the {code, message} body', () => {
    expect(parseZtsErrorBody('{"code":403,"message":"Certificate revoked"}')).toEqual({
      code: 403,
      message: 'Certificate revoked',
    });
    expect(parseZtsErrorBody('nope')).toBeUndefined();
    expect(parseZtsErrorBody('{"code":1}')).toBeUndefined();
  });
});
