export { AwsApiError } from './errors.js';
export type { Fault } from './faults.js';
export type {
  CallerIdentity,
  FakeRole,
  FakeUser,
  IssuedCredentials,
  RoleSpec,
  TrustRule,
  UserSpec,
} from './principals.js';
export {
  type AwsEmulator,
  type AwsRequestRecord,
  type IssueRoleCredentialsOptions,
  type StartAwsOptions,
  startAws,
} from './server.js';
export {
  type ReceivedRequest,
  type SigningSecret,
  type VerifiedSignature,
  type VerifySigV4Options,
  verifySigV4,
} from './sigv4-verifier.js';
