/**
 * The identity facts both seed flows need, derived from the task metadata.
 * @packageDocumentation
 */
import { parseTaskArn, resolveCluster } from './arn.js';
import { type LaunchType, parseTaskMetadata, type TaskMetadata } from './metadata.js';

/** Who this task is. @public */
export interface TaskIdentity {
  partition: string;
  region: string;
  accountId: string;
  taskId: string;
  taskArn: string;
  clusterArn: string;
  clusterName: string;
  family: string;
  revision: string;
  /** Absent in v2 and older v3 documents. */
  launchType?: LaunchType;
  /** Absent in older documents. */
  availabilityZone?: string;
}

/**
 * The task facts the Consul login and the Athenz identity need (a part of {@link TaskIdentity}): where the task runs,
 * which task it is, and its cluster. Pass them (`task` option) to skip reading the task metadata endpoint.
 * @public
 */
export type TaskFacts = Pick<TaskIdentity, 'partition' | 'region' | 'accountId' | 'taskId' | 'clusterArn'>;

/**
 * The task's identity from its metadata document (a {@link TaskMetadata}, JSON text or a parsed value, which is
 * validated). The cluster ARN comes from `Cluster` when it is an ARN, else is built from the task ARN's partition,
 * region and account and the cluster name; it never has an empty name.
 *
 * @example
 * ```ts
 * const id = taskIdentity(await getTaskMetadata());
 * id.region; id.accountId; id.taskId; id.clusterArn;
 * ```
 * @public
 */
export function taskIdentity(metadata: TaskMetadata | unknown): TaskIdentity {
  const task = parseTaskMetadata(metadata);
  const arn = parseTaskArn(task.TaskARN);
  const { clusterArn, clusterName } = resolveCluster(task.Cluster, arn);
  const identity: TaskIdentity = {
    partition: arn.partition,
    region: arn.region,
    accountId: arn.accountId,
    taskId: arn.taskId,
    taskArn: arn.arn,
    clusterArn,
    clusterName,
    family: task.Family,
    revision: task.Revision,
  };
  if (task.LaunchType !== undefined) identity.launchType = task.LaunchType;
  if (task.AvailabilityZone !== undefined) identity.availabilityZone = task.AvailabilityZone;
  return identity;
}
