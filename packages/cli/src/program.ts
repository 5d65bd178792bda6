/**
 * The `ecs-identity` program: its commands, in the order the help lists them.
 * @packageDocumentation
 */
import { agentGroup } from './agent/agent-commands.js';
import { athenzGroup } from './athenz-commands.js';
import type { Program } from './command.js';
import { consulGroup } from './consul-commands.js';
import { doctorCommand } from './doctor/doctor-command.js';
import { metadataCommand } from './metadata-command.js';
import { VERSION } from './version.js';

/** @public */
export const program: Program = {
  name: 'ecs-identity',
  version: VERSION,
  description: `Identity credentials for an AWS ECS / Fargate task in one binary, instead of siad + consul + curl + jq:
the task identity from the metadata endpoint, Consul ACL login with the task role, Athenz ZTS service certificates.
Flags are Go-style like siad's and consul's: -flag value, -flag=value, --flag; booleans -flag or -flag=false.`,
  commands: [metadataCommand, consulGroup, athenzGroup, agentGroup, doctorCommand],
};
