export {
  type EcsAgent,
  type EcsAgentCredentials,
  type EcsAgentFault,
  type EcsAgentRequest,
  type StartEcsAgentOptions,
  startEcsAgent,
} from './agent.js';
