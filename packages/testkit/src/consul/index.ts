export type { AuthMethodSpec, AwsIamAuthMethodConfig } from './auth-method.js';
export type { BindingRuleSpec } from './binding-rules.js';
export {
  type ConsulEmulator,
  type ConsulRequestRecord,
  type StartConsulOptions,
  startConsul,
} from './server.js';
export type { ConsulTokenRecord } from './tokens.js';
