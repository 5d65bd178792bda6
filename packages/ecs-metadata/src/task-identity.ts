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
  launchType?: LaunchType | undefined;
  /** Absent in older documents. */
  availabilityZone?: string | undefined;
}

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
