/**
 * Flags more than one command group takes.
 * @packageDocumentation
 */
import { COMMON_FLAGS } from './cli.js';
import type { FlagSpec, FlagSpecs } from './flags.js';

/** The ECS agent's base URL (siad calls it `-meta`; consul login's `-meta` is token meta). @internal */
export const ECS_AGENT_FLAG = {
  type: 'string',
  placeholder: 'URL',
  help: 'ECS agent base URL for v2 metadata and AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  default: 'http://169.254.170.2',
} as const;

/** The long-running commands log warnings too (a failed refresh, a late login answer): `-log-level` default `warn`. */
export const RUN_LOG_LEVEL_FLAG: FlagSpecs = {
  'log-level': { ...(COMMON_FLAGS['log-level'] as FlagSpec), default: 'warn' },
};
