import { EcsMetadataError } from './errors.js';

/** The six colon-separated fields of an ARN. @public */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  /** Everything after the fifth colon (may itself contain `:` and `/`). */
  resource: string;
}

/** A parsed ECS task ARN. @public */
export interface TaskArn {
  arn: string;
  partition: string;
  region: string;
  accountId: string;
  /** The last path segment: 32 hex characters (new format) or a UUID (old format) on real tasks. */
  taskId: string;
  /** The middle path segment of a new-format ARN; absent for the old format. */
  clusterName?: string;
  /** `old`: `task/<id>`; `new`: `task/<cluster>/<id>`. */
  format: 'old' | 'new';
}

/** A parsed ECS cluster ARN. @public */
export interface ClusterArn {
  arn: string;
  partition: string;
  region: string;
  accountId: string;
  clusterName: string;
}

/** A parsed IAM role ARN or STS assumed-role ARN. @public */
export interface RoleArn {
  arn: string;
  kind: 'role' | 'assumed-role';
  partition: string;
  accountId: string;
  roleName: string;
  /** IAM path, `/` or `/a/b/`. Absent for assumed-role ARNs, which carry no path. */
  path?: string;
  /** The session name of an assumed-role ARN. */
  sessionName?: string;
}

// IAM's documented ARN limit; anything longer is not an ARN, and the cap keeps error messages short.
const MAX_ARN_LENGTH = 2048;
// Partitions are lowercase DNS-like labels (aws, aws-cn, aws-us-gov, aws-iso-b, aws-eusc...): accept any such label.
const PARTITION = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const SERVICE = /^[a-z0-9][a-z0-9-]*$/;
// us-west-2, cn-north-1, us-gov-west-1, us-isob-east-1, eu-isoe-west-1...
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)*-[0-9]+$/;
const ACCOUNT = /^[0-9]{12}$/;
// Real task ids are 32 hex chars or a UUID; accept any short alphanumeric-with-hyphens id so test data and future
// formats still parse, while refusing anything that could smuggle separators into logs or Consul meta.
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
// ECS: up to 255 letters, numbers, underscores and hyphens.
const CLUSTER_NAME = /^[A-Za-z0-9_-]{1,255}$/;
// IAM: role names [\w+=,.@-]{1,64}; session names [\w+=,.@-]{2,64} (we accept 1, the server decides).
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const SESSION_NAME = /^[\w+=,.@-]{1,64}$/;
// IAM path: "/" or "/" + (printable ASCII except "/")+ segments + "/", at most 512 characters.
const IAM_PATH = /^\/(?:[\x21-\x2e\x30-\x7e]+\/)*$/;
// ARNs are printable ASCII without spaces.
const PRINTABLE = /^[\x21-\x7e]*$/;

/** Shortens a value for an error message so a 10 KB input does not make a 10 KB message. */
function quote(value: string): string {
  const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return JSON.stringify(shown);
}

function fail(what: string, input: string, why: string): never {
  throw new EcsMetadataError('INVALID_ARN', `invalid ${what} ${quote(input)}: ${why}`);
}

/**
 * Splits an ARN into its six fields. Checks the shape only: `arn` prefix, a well-formed partition and service,
 * region and account either empty or well-formed, a non-empty resource.
 *
 * @example
 * ```ts
 * parseArn('arn:aws-cn:ecs:cn-north-1:123456789012:cluster/prod').region; // 'cn-north-1'
 * ```
 * @public
 */
export function parseArn(arn: string, what = 'ARN'): Arn {
  if (typeof arn !== 'string') throw new EcsMetadataError('INVALID_ARN', `invalid ${what}: expected a string`);
  if (arn.length === 0) fail(what, arn, 'it is empty');
  if (arn.length > MAX_ARN_LENGTH) fail(what, arn, `longer than ${MAX_ARN_LENGTH} characters`);
  if (!PRINTABLE.test(arn)) fail(what, arn, 'it contains whitespace, control or non-ASCII characters');
  const parts = arn.split(':');
  if (parts.length < 6) fail(what, arn, 'expected arn:<partition>:<service>:<region>:<account>:<resource>');
  const [prefix, partition, service, region, accountId] = parts as [string, string, string, string, string];
  const resource = parts.slice(5).join(':');
  if (prefix !== 'arn') fail(what, arn, 'it does not start with "arn:"');
  if (!PARTITION.test(partition)) fail(what, arn, 'the partition is empty or malformed');
  if (!SERVICE.test(service)) fail(what, arn, 'the service is empty or malformed');
  if (region !== '' && !REGION.test(region)) fail(what, arn, 'the region is malformed');
  if (accountId !== '' && !ACCOUNT.test(accountId)) fail(what, arn, 'the account id is not 12 digits');
  if (resource === '') fail(what, arn, 'the resource is empty');
  return { partition, service, region, accountId, resource };
}

/** Joins the six fields of an ARN (the inverse of {@link parseArn}). @internal */
export function formatArn(parts: Arn): string {
  return `arn:${parts.partition}:${parts.service}:${parts.region}:${parts.accountId}:${parts.resource}`;
}

function requireRegionalEcs(arn: string, parts: Arn, what: string): void {
  if (parts.service !== 'ecs') fail(what, arn, `the service is "${parts.service}", expected "ecs"`);
  if (parts.region === '') fail(what, arn, 'the region is empty');
  if (parts.accountId === '') fail(what, arn, 'the account id is empty');
}

/**
 * Parses an ECS task ARN in any partition, old (`task/<id>`) or new (`task/<cluster>/<id>`) format.
 *
 * @example
 * ```ts
 * const t = parseTaskArn('arn:aws:ecs:us-west-2:111122223333:task/default/158d1c8083dd49d6b527399fd6414f5c');
 * // { partition: 'aws', region: 'us-west-2', accountId: '111122223333', clusterName: 'default',
 * //   taskId: '158d1c8083dd49d6b527399fd6414f5c', format: 'new', arn: '...' }
 * ```
 * @public
 */
export function parseTaskArn(arn: string): TaskArn {
  const what = 'task ARN';
  const parts = parseArn(arn, what);
  requireRegionalEcs(arn, parts, what);
  const segments = parts.resource.split('/');
  if (segments[0] !== 'task') fail(what, arn, 'the resource does not start with "task/"');
  // Explicit literals, not spreads: object spread with extra keys is slow in V8 and these run per document.
  const { partition, region, accountId } = parts;
  if (segments.length === 2) {
    const taskId = segments[1] ?? '';
    if (!TASK_ID.test(taskId)) fail(what, arn, 'the task id is empty or malformed');
    return { arn, partition, region, accountId, taskId, format: 'old' };
  }
  if (segments.length === 3) {
    const clusterName = segments[1] ?? '';
    const taskId = segments[2] ?? '';
    if (!CLUSTER_NAME.test(clusterName)) fail(what, arn, 'the cluster name is empty or malformed');
    if (!TASK_ID.test(taskId)) fail(what, arn, 'the task id is empty or malformed');
    return { arn, partition, region, accountId, taskId, clusterName, format: 'new' };
  }
  return fail(what, arn, 'expected task/<task-id> or task/<cluster-name>/<task-id>');
}

/** Builds a task ARN (the inverse of {@link parseTaskArn}); validates what it builds. @internal */
export function formatTaskArn(parts: Omit<TaskArn, 'arn' | 'format'>): string {
  const resource =
    parts.clusterName === undefined ? `task/${parts.taskId}` : `task/${parts.clusterName}/${parts.taskId}`;
  const arn = formatArn({
    partition: parts.partition,
    service: 'ecs',
    region: parts.region,
    accountId: parts.accountId,
    resource,
  });
  return parseTaskArn(arn).arn;
}

/**
 * Parses an ECS cluster ARN (`arn:<partition>:ecs:<region>:<account>:cluster/<name>`).
 * @public
 */
export function parseClusterArn(arn: string): ClusterArn {
  const what = 'cluster ARN';
  const parts = parseArn(arn, what);
  requireRegionalEcs(arn, parts, what);
  const segments = parts.resource.split('/');
  if (segments[0] !== 'cluster' || segments.length !== 2) fail(what, arn, 'expected the resource cluster/<name>');
  const clusterName = segments[1] ?? '';
  if (!CLUSTER_NAME.test(clusterName)) fail(what, arn, 'the cluster name is empty or malformed');
  return { arn, partition: parts.partition, region: parts.region, accountId: parts.accountId, clusterName };
}

/** Builds a cluster ARN; refuses an empty or malformed name (never `...:cluster/`). @internal */
export function formatClusterArn(parts: Omit<ClusterArn, 'arn'>): string {
  if (!CLUSTER_NAME.test(parts.clusterName)) {
    throw new EcsMetadataError('INVALID_ARN', `invalid cluster name ${quote(parts.clusterName)}: empty or malformed`);
  }
  const { partition, region, accountId, clusterName } = parts;
  return parseClusterArn(
    formatArn({ partition, service: 'ecs', region, accountId, resource: `cluster/${clusterName}` }),
  ).arn;
}

/**
 * The task's cluster ARN and name, from the metadata's `Cluster` field and the task ARN:
 * `Cluster` when it is an ARN; else built from the task ARN's partition, region and account and the `Cluster` name;
 * when `Cluster` is absent, the new-format task ARN's cluster segment. Never yields an ARN with an empty name.
 * Throws `INVALID_ARN` when `Cluster` is malformed, `INVALID_METADATA` when nothing names the cluster.
 *
 * @example
 * ```ts
 * resolveCluster('default', 'arn:aws:ecs:us-east-2:012345678910:task/9781c248-0edd-4cdb-9a93-f63cb662a5d3');
 * // { clusterArn: 'arn:aws:ecs:us-east-2:012345678910:cluster/default', clusterName: 'default' }
 * ```
 * @internal
 */
export function resolveCluster(
  cluster: string | undefined,
  taskArn: string | TaskArn,
): { clusterArn: string; clusterName: string } {
  const task = typeof taskArn === 'string' ? parseTaskArn(taskArn) : taskArn;
  if (cluster !== undefined && cluster !== '') {
    if (cluster.startsWith('arn:')) {
      const parsed = parseClusterArn(cluster);
      return { clusterArn: parsed.arn, clusterName: parsed.clusterName };
    }
    if (!CLUSTER_NAME.test(cluster)) {
      throw new EcsMetadataError(
        'INVALID_ARN',
        `invalid Cluster ${quote(cluster)}: neither a cluster ARN nor a cluster name (letters, digits, _ and -)`,
      );
    }
    const { partition, region, accountId } = task;
    return {
      clusterArn: formatClusterArn({ partition, region, accountId, clusterName: cluster }),
      clusterName: cluster,
    };
  }
  if (task.clusterName !== undefined) {
    const { partition, region, accountId, clusterName } = task;
    return { clusterArn: formatClusterArn({ partition, region, accountId, clusterName }), clusterName };
  }
  throw new EcsMetadataError(
    'INVALID_METADATA',
    `cannot tell the cluster: the metadata has no Cluster field and the task ARN ${quote(task.arn)} is old-format ` +
      '(task/<id>, no cluster segment)',
  );
}

/**
 * Parses an IAM role ARN (`arn:<p>:iam::<account>:role/<path>/<name>`) or an STS assumed-role ARN
 * (`arn:<p>:sts::<account>:assumed-role/<name>/<session>`), giving the role name and, for role ARNs, the path.
 *
 * @example
 * ```ts
 * parseRoleArn('arn:aws:iam::123456789012:role/service/sports.api-service');
 * // { kind: 'role', roleName: 'sports.api-service', path: '/service/', accountId: '123456789012', ... }
 * ```
 * @public
 */
export function parseRoleArn(arn: string): RoleArn {
  const what = 'role ARN';
  const parts = parseArn(arn, what);
  if (parts.region !== '') fail(what, arn, 'IAM and STS ARNs have an empty region field');
  if (parts.accountId === '') fail(what, arn, 'the account id is empty');
  const { partition, accountId } = parts;
  if (parts.service === 'iam') {
    if (!parts.resource.startsWith('role/')) fail(what, arn, 'the resource does not start with "role/"');
    const rest = parts.resource.slice('role'.length); // "/<path>/<name>" with the leading slash
    const cut = rest.lastIndexOf('/');
    const path = rest.slice(0, cut + 1);
    const roleName = rest.slice(cut + 1);
    if (!ROLE_NAME.test(roleName)) fail(what, arn, 'the role name is empty or malformed');
    if (path.length > 512 || !IAM_PATH.test(path)) fail(what, arn, 'the role path has an empty or malformed segment');
    return { arn, kind: 'role', partition, accountId, roleName, path };
  }
  if (parts.service === 'sts') {
    const segments = parts.resource.split('/');
    if (segments[0] !== 'assumed-role') fail(what, arn, 'the resource does not start with "assumed-role/"');
    if (segments.length !== 3) fail(what, arn, 'expected assumed-role/<role-name>/<session-name>');
    const roleName = segments[1] ?? '';
    const sessionName = segments[2] ?? '';
    if (!ROLE_NAME.test(roleName)) fail(what, arn, 'the role name is empty or malformed');
    if (!SESSION_NAME.test(sessionName)) fail(what, arn, 'the session name is empty or malformed');
    return { arn, kind: 'assumed-role', partition, accountId, roleName, sessionName };
  }
  return fail(what, arn, `the service is "${parts.service}", expected "iam" (role) or "sts" (assumed-role)`);
}

/** Builds an IAM role ARN (path defaults to `/`); validates what it builds. @public */
export function formatRoleArn(parts: {
  partition: string;
  accountId: string;
  roleName: string;
  path?: string | undefined;
}): string {
  const arn = formatArn({
    partition: parts.partition,
    service: 'iam',
    region: '',
    accountId: parts.accountId,
    resource: `role${parts.path ?? '/'}${parts.roleName}`,
  });
  return parseRoleArn(arn).arn;
}
