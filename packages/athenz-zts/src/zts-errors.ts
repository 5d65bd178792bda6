/**
 * ZTS error answers (`{"code": <int>, "message": "..."}`) mapped to typed {@link IdentityError} codes, keeping the
 * server's message, so callers branch on `code` (re-register on `ZTS_REVOKED` / `ZTS_NOT_FOUND`, back off on
 * `ZTS_RATE_LIMITED`) and people read the server's own words.
 * @packageDocumentation
 */
import { HttpStatusError, scrubSecrets } from '@ecs-identity/core';
import type { AthenzErrorCode } from './errors.js';
import { AthenzError } from './errors.js';

/** The server's `{code, message}`, or undefined when the body is something else. @public */
export function parseZtsErrorBody(text: string): { code?: number; message: string } | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') {
      const { code, message } = body as { code?: unknown; message: string };
      return typeof code === 'number' ? { code, message } : { message };
    }
  } catch {
    // not JSON: a proxy's HTML page, say
  }
  return undefined;
}

/**
 * The typed code for a ZTS status and message. The 403s ZTS distinguishes (`ZTSImpl`) get their own codes:
 * `Certificate revoked`, `Unable to find certificate record`, `unable to verify attestation data: ...`,
 * `provider '...' not authorized to launch ...`, `<api>: principal <p> is not included in the requested role(s) in
 * domain <d>` (or `in any role`: not a member, on rolecert and access tokens), and the principal refusals (`Role
 * Identity not authorized for request`, `Principal: <p> not authorized for proxy ... request`, `Authorized Service
 * Principals not allowed`, `Role based Principal does not include all roles`, `principal not authorized to delete the
 * requested instance record`).
 * @public
 */
export function ztsErrorCode(status: number, message: string): AthenzErrorCode {
  const m = message.toLowerCase();
  if (status === 429) return 'ZTS_RATE_LIMITED';
  if (status === 404) return 'ZTS_NOT_FOUND';
  if (status === 403) {
    if (m.includes('revoked')) return 'ZTS_REVOKED';
    if (m.includes('unable to find certificate record')) return 'ZTS_NOT_FOUND';
    if (m.includes('attestation')) return 'ZTS_ATTESTATION_REJECTED';
    if (m.includes('not authorized to launch') || m.includes('provider')) return 'ZTS_PROVIDER_NOT_AUTHORIZED';
    if (m.includes('is not included in')) return 'ZTS_NOT_ROLE_MEMBER';
    if (m.includes('not authorized') || m.includes('not allowed') || m.includes('does not include all roles')) {
      return 'ZTS_NOT_AUTHORIZED';
    }
  }
  if (status === 400 && (m.includes('csr') || m.includes('certificate request'))) return 'ZTS_CSR_REJECTED';
  return 'ZTS_ERROR';
}

/**
 * Turns a transport error from a ZTS call into a typed IdentityError (other errors pass through unchanged).
 * @param operation what was being done, e.g. `register sports.api`
 * @public
 */
export function mapZtsError(error: unknown, operation: string): unknown {
  if (!(error instanceof HttpStatusError)) return error;
  const status = error.status ?? 0;
  const body = parseZtsErrorBody(error.responseText);
  const serverMessage = body?.message ?? error.responseText.trim().slice(0, 300);
  const code = ztsErrorCode(status, serverMessage);
  const message = scrubSecrets(
    `ZTS ${operation} failed: ${error.method} ${error.url} answered ${status}${serverMessage ? `: ${serverMessage}` : ''}`,
  );
  return new AthenzError(code, message, {
    status,
    retryable: error.retryable,
    cause: error,
    retryAfterMs: error.retryAfterMs,
  });
}
