/**
 * `@ecs-identity/testkit`: strict loopback emulators of the ECS agent, AWS STS / IAM, Consul ACL and Athenz ZTS, a
 * whole emulated task in one call, and the test clock and random source. Node-only (it starts servers); one entry.
 * @packageDocumentation
 */

// The fake AWS (STS, IAM), and what every emulator's faults share (the ECS agent's and Consul's extend it).
export type { Fault } from './aws/faults.js';
export type {
  CallerIdentity,
  FakeRole,
  FakeUser,
  IssuedCredentials,
  RoleSpec,
  TrustRule,
  UserSpec,
} from './aws/principals.js';
export {
  type AwsEmulator,
  type AwsRequestRecord,
  type IssueRoleCredentialsOptions,
  type StartAwsOptions,
  startAws,
} from './aws/server.js';
// The fake Consul.
export type { AuthMethodSpec, AwsIamAuthMethodConfig } from './consul/auth-method.js';
export type { BindingRuleSpec } from './consul/binding-rules.js';
export {
  type ConsulEmulator,
  type ConsulFault,
  type ConsulRequestRecord,
  type StartConsulOptions,
  startConsul,
} from './consul/server.js';
export type { ConsulTokenRecord } from './consul/tokens.js';
// The fake ECS agent.
export {
  type EcsAgent,
  type EcsAgentCredentials,
  type EcsAgentFault,
  type EcsAgentRequest,
  type StartEcsAgentOptions,
  startEcsAgent,
} from './ecs-agent/agent.js';
// A whole task deployment.
export {
  type StartTaskEmulatorsOptions,
  startTaskEmulators,
  TASK_EMULATOR_DEFAULTS,
  type TaskEmulatorNames,
  type TaskEmulators,
} from './task/task-emulators.js';
// Time and randomness under the test's control.
export { ManualClock } from './time/manual-clock.js';
export { seededRandom } from './time/seeded-random.js';
// The fake Athenz ZTS, and its CSR rules for judging a CSR without a server.
export { type AttestedCredentials, type CallerIdentityFn, stsCallerIdentity } from './zts/attestation.js';
export type { CaKeyAlgorithm } from './zts/ca.js';
export type { ZtsAwsConfig, ZtsDomainConfig, ZtsOptions, ZtsProviderConfig, ZtsServiceConfig } from './zts/config.js';
export {
  type AcceptedRoleCsr,
  type AcceptedServiceCsr,
  type CsrVerdict,
  type ParsedCsr,
  type RoleCsrExpectations,
  type ServiceCsrExpectations,
  validateRoleCsr,
  validateServiceCsr,
} from './zts/csr-rules.js';
export type { ZtsCertRecord } from './zts/records.js';
export {
  startZts,
  type ZtsConnectionLogEntry,
  type ZtsEmulator,
  type ZtsFault,
  type ZtsRequestLogEntry,
} from './zts/server.js';
