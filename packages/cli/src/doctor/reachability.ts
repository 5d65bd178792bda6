/**
 * Why a server could not be reached, told apart the way a user fixes it: TLS trust, a refused or unresolved
 * connection, or a deadline.
 * @packageDocumentation
 */
import { IdentityError } from '@ecs-identity/core';

/** Error codes (Node's, OpenSSL's) that mean the server's certificate was not trusted or did not match. */
const TLS_CODES =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO|wrong version number|certificate/i;
const REFUSED = /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH/;
const UNRESOLVED = /ENOTFOUND|EAI_AGAIN/;

/** Every `code` and message along an error's cause chain. */
function clues(error: unknown): string {
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') parts.push(code);
    if (e instanceof Error) parts.push(e.message);
    e = (e as { cause?: unknown }).cause;
  }
  return parts.join(' ');
}

/** What kind of failure an error from a request to a server is. @internal */
export type Unreachable = 'tls' | 'refused' | 'unresolved' | 'timeout' | 'other';

/** @internal */
export function unreachableKind(error: unknown): Unreachable {
  if (IdentityError.is(error, 'TIMEOUT', 'ABORTED')) return 'timeout';
  const text = clues(error);
  if (TLS_CODES.test(text)) return 'tls';
  if (REFUSED.test(text)) return 'refused';
  if (UNRESOLVED.test(text)) return 'unresolved';
  return 'other';
}

/**
 * The hint for a server that could not be reached. `where` names it (`ZTS at https://...`), `caFlag` the flag that
 * gives its CA bundle, `addressFlags` the flags that say where it is.
 * @internal
 */
export function unreachableHint(
  kind: Unreachable,
  where: string,
  caFlag: string,
  addressFlags: string,
  timeoutMs: number,
): string {
  switch (kind) {
    case 'tls':
      return `${where} presents a certificate this task does not trust (or one for another name): give the CA bundle that signed it with ${caFlag}, and use the host name the certificate names`;
    case 'refused':
      return `nothing accepted the connection at ${where}: check ${addressFlags}, that the server runs, and that the task's security group and the server's allow the port`;
    case 'unresolved':
      return `the host name of ${where} does not resolve from the task: check ${addressFlags} and the VPC's DNS`;
    case 'timeout':
      return `no answer within ${timeoutMs} ms (-timeout-ms): a security group, network ACL or route is probably dropping the traffic to ${where}`;
    default:
      return `check ${addressFlags} and that ${where} is the server you mean`;
  }
}
