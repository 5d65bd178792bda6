/**
 * `ecs-identity metadata`: the task's identity (region, account, task id, cluster ARN...) as JSON, instead of
 * `curl $ECS_CONTAINER_METADATA_URI_V4/task | jq`.
 * @packageDocumentation
 */
import { getTaskMetadata, taskIdentity } from '@ecs-identity/ecs-metadata';
import type { Command } from './command.js';
import { printPretty } from './output.js';
import { ECS_AGENT_FLAG } from './shared-flags.js';

/** @public */
export const metadataCommand: Command = {
  name: 'metadata',
  summary: 'print the task identity from the ECS task metadata endpoint as JSON',
  description: `Reads the task metadata (ECS_CONTAINER_METADATA_URI_V4, then ECS_CONTAINER_METADATA_URI, then the v2
endpoint of the ECS agent) and prints the task identity as JSON on stdout: partition, region, accountId, taskId,
taskArn, clusterArn, clusterName, family, revision, launchType and availabilityZone when known. With -full, the
whole task metadata document instead.`,
  flags: {
    full: { type: 'bool', help: 'print the whole task metadata document', default: false },
    'with-tags': { type: 'bool', help: 'read /taskWithTags (EC2 launch type; needs ecs:ListTagsForResource)' },
    'ecs-agent-url': { ...ECS_AGENT_FLAG, aliases: ['meta'] },
    'timeout-ms': { type: 'int', min: 1, help: 'per-request timeout in milliseconds', default: 1000 },
  },
  async run({ io, values, logger }) {
    const metadata = await getTaskMetadata({
      env: io.env,
      agentUrl: values['ecs-agent-url'] as string,
      timeoutMs: values['timeout-ms'] as number,
      withTags: values['with-tags'] === true,
      logger,
    });
    printPretty(io, values.full === true ? metadata : taskIdentity(metadata));
    return 0;
  },
};
