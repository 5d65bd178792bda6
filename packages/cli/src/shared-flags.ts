/**
 * Flags more than one command group takes.
 * @packageDocumentation
 */

/** The ECS agent's base URL (siad calls it `-meta`; consul login's `-meta` is token meta). @internal */
export const ECS_AGENT_FLAG = {
  type: 'string',
  placeholder: 'URL',
  help: 'ECS agent base URL for v2 metadata and AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  default: 'http://169.254.170.2',
} as const;
