/**
 * Maps Consul's ACL error answers to typed codes, keeping the server's text. Consul answers with a plain-text body;
 * through a client agent the server's text is prefixed `rpc error making call: ` (possibly more than once).
 * @packageDocumentation
 */
import { IdentityError, scrubSecrets } from '@ecs-identity/core';
import type { ConsulErrorCode } from './errors.js';
import { ConsulError } from './errors.js';

const RPC_PREFIX = 'rpc error making call: ';
const MAX_TEXT = 1000;

/** The server's message without the client agent's `rpc error making call: ` prefixes. @internal */
export function consulErrorText(body: string): string {
  let text = body.trim();
  while (text.startsWith(RPC_PREFIX)) text = text.slice(RPC_PREFIX.length).trimStart();
  return text;
}

/** Which Consul call failed; decides the fallback code and what "ACL not found" means. @internal */
export type ConsulCall = 'login' | 'logout' | 'read-self';

/**
 * The typed code for a Consul error answer: `CONSUL_ACL_DISABLED` (401 `ACL support disabled`),
 * `CONSUL_AUTH_METHOD_NOT_FOUND` (403 `ACL not found: auth method "x" not found`), `CONSUL_PERMISSION_DENIED`
 * (403 `Permission denied`, e.g. no binding rule matched), `CONSUL_PRINCIPAL_NOT_TRUSTED` (500
 * `IAM principal ... is not trusted`), `CONSUL_TOKEN_NOT_FOUND` (403 `ACL not found` on logout / self-read), else
 * `CONSUL_LOGIN_FAILED` for login and `LOGOUT_FAILED` for logout.
 * @internal
 */
export function classifyConsulError(call: ConsulCall, status: number, text: string): ConsulErrorCode | undefined {
  if (text.startsWith('ACL support disabled')) return 'CONSUL_ACL_DISABLED';
  if (/^ACL not found: auth method ".*" not found/s.test(text) || /^auth method ".*" not found/s.test(text)) {
    return 'CONSUL_AUTH_METHOD_NOT_FOUND';
  }
  if (text.startsWith('Permission denied')) return 'CONSUL_PERMISSION_DENIED';
  if (/IAM principal .* is not trusted/s.test(text)) return 'CONSUL_PRINCIPAL_NOT_TRUSTED';
  if (text.startsWith('ACL not found') && call !== 'login') return 'CONSUL_TOKEN_NOT_FOUND';
  if (status === 401) return 'CONSUL_ACL_DISABLED';
  if (call === 'login') return 'CONSUL_LOGIN_FAILED';
  if (call === 'logout') return 'LOGOUT_FAILED';
  return undefined;
}

// consul-awsauth's token checks (500s): the same client and auth method get the same answer on every attempt, so
// retrying only delays the error. AWS's answers (expired or rotated credentials, throttling) stay retryable.
const DETERMINISTIC_LOGIN_ERRORS = [
  /^invalid token: /,
  /^iam_http_request_method must be POST/,
  /^iam_request_(?:url|body|headers)/,
  /^invalid (?:STS|IAM) hostname: /,
  /^invalid request header: /,
  /^missing header "/,
  /^invalid value for header "/,
  /^expected ".*" but got "/s,
  /header wasn't signed/,
  /^url is invalid: /,
];

const NEVER_RETRY = new Set<ConsulErrorCode>([
  'CONSUL_ACL_DISABLED',
  'CONSUL_AUTH_METHOD_NOT_FOUND',
  'CONSUL_PERMISSION_DENIED',
  'CONSUL_PRINCIPAL_NOT_TRUSTED',
  'CONSUL_TOKEN_NOT_FOUND',
]);

/**
 * Turns a core `HttpStatusError` from a Consul call into the typed error (message: what was called, the status and
 * the server's text, scrubbed of secrets). Other errors (network, timeout) pass through unchanged.
 * @internal
 */
export function toConsulError(call: ConsulCall, what: string, error: unknown): unknown {
  if (!IdentityError.is(error, 'HTTP_STATUS') || error.status === undefined) return error;
  const responseText = (error as { responseText?: unknown }).responseText;
  const text = consulErrorText(typeof responseText === 'string' ? responseText : '');
  const code = classifyConsulError(call, error.status, text);
  if (code === undefined) return error;
  const shown = text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}...` : text;
  return new ConsulError(code, scrubSecrets(`${what} answered ${error.status}: ${shown || '(empty body)'}`), {
    status: error.status,
    retryable:
      NEVER_RETRY.has(code) || (code === 'CONSUL_LOGIN_FAILED' && DETERMINISTIC_LOGIN_ERRORS.some((r) => r.test(text)))
        ? false
        : error.retryable,
    retryAfterMs: error.retryAfterMs,
    cause: error,
  });
}
