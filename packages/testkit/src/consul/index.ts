export type { AuthMethodSpec, AwsIamAuthMethodConfig } from './auth-method.js';
// The fake Consul's own bearer-token rules (consul-awsauth token.go), for tests that judge tokens without a server.
export {
  canonicalHeaders,
  checkServerIdHeader,
  type EmbeddedRequest,
  ENTITY_BODY_HEADER,
  ENTITY_HEADERS_HEADER,
  ENTITY_METHOD_HEADER,
  ENTITY_URL_HEADER,
  type GoHeader,
  type ParsedBearerToken,
  parseBearerToken,
  SERVER_ID_HEADER,
  signedHeaders,
  TokenRejected,
} from './bearer-token.js';
export type { BindingRuleSpec } from './binding-rules.js';
export { canonicalMimeKey } from './go-compat.js';
export {
  type ConsulEmulator,
  type ConsulFault,
  type ConsulRequestRecord,
  type StartConsulOptions,
  startConsul,
} from './server.js';
export type { ConsulTokenRecord } from './tokens.js';
