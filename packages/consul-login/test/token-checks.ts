/**
 * Test helper: the builder's tokens judged by the fake Consul's own parser (testkit's `bearer-token.ts`, the
 * consul-awsauth token.go rules), not by a second copy of them; flattened to the fields the tests read.
 */
// The fake's parser is internal to testkit (not its public API): read from its sources.
import type { AwsIamAuthMethodConfig } from '../../testkit/src/consul/auth-method.js';
import {
  canonicalHeaders,
  checkServerIdHeader,
  type EmbeddedRequest,
  ENTITY_METHOD_HEADER,
  type GoHeader,
  parseBearerToken,
} from '../../testkit/src/consul/bearer-token.js';
import { canonicalMimeKey } from '../../testkit/src/consul/go-compat.js';

export { signedHeaders } from '../../testkit/src/consul/bearer-token.js';

export interface DecodedRequest {
  method: string;
  url: string;
  body: string;
  /** As decoded from JSON: keys exactly as sent. */
  headers: GoHeader;
}

export interface DecodedToken extends DecodedRequest {
  entity?: DecodedRequest;
}

/** The auth method's settings that bear on the token (Consul's names); the bound ARNs do not. */
export type MethodConfig = Omit<AwsIamAuthMethodConfig, 'BoundIAMPrincipalARNs'>;

const flat = (r: EmbeddedRequest): DecodedRequest => ({
  method: r.method,
  url: r.rawUrl,
  body: r.body,
  headers: r.headers,
});

/** What the server checks before calling AWS: the token rules, then the server-ID header on each request. */
export function serverChecks(token: string, config: MethodConfig = {}): DecodedToken {
  const parsed = parseBearerToken(token, { BoundIAMPrincipalARNs: [], ...config });
  const sid = config.ServerIDHeaderValue;
  for (const r of parsed.entity ? [parsed.sts, parsed.entity] : [parsed.sts]) {
    if (sid) checkServerIdHeader(canonicalHeaders(r.headers), sid);
  }
  return parsed.entity ? { ...flat(parsed.sts), entity: flat(parsed.entity) } : flat(parsed.sts);
}

/** The same parser with the host rules lifted; the embedded IAM request is parsed when the token carries one. */
export function decodeToken(token: string): DecodedToken {
  const lax: MethodConfig = { STSEndpoint: 'http://endpoint.test', IAMEndpoint: 'http://endpoint.test' };
  const sts = serverChecks(token, lax);
  const hasEntity = sts.headers[canonicalMimeKey(ENTITY_METHOD_HEADER)] !== undefined;
  return hasEntity ? serverChecks(token, { ...lax, EnableIAMEntityDetails: true }) : sts;
}
