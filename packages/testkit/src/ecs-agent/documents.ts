/**
 * The metadata documents the fake ECS agent serves, shaped like the real ones (v4 / v3 / v2, EC2 / Fargate).
 */

/** The facts one fake task is built from. */
export interface TaskFacts {
  partition: string;
  region: string;
  accountId: string;
  clusterName: string;
  taskId: string;
  taskArn: string;
  clusterArn: string;
  family: string;
  revision: string;
  launchType: 'EC2' | 'FARGATE';
  availabilityZone: string;
  containerName: string;
  dockerId: string;
  containerArn: string;
  tags: Record<string, string>;
  startedAt: Date;
}

// ECS writes RFC 3339 with nanoseconds; Date has milliseconds, so pad.
function nanoTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

/** The container document (`${ECS_CONTAINER_METADATA_URI_V4}`, or an entry of `Containers`). */
export function containerDocument(t: TaskFacts, version: 'v2' | 'v3' | 'v4'): Record<string, unknown> {
  const doc: Record<string, unknown> = {
    DockerId: t.dockerId,
    Name: t.containerName,
    DockerName: `ecs-${t.family}-${t.revision}-${t.containerName}-${t.taskId.slice(0, 12)}`,
    Image: 'public.ecr.aws/docker/library/busybox:latest',
    ImageID: 'sha256:3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741',
    Labels: {
      'com.amazonaws.ecs.cluster': t.clusterArn,
      'com.amazonaws.ecs.container-name': t.containerName,
      'com.amazonaws.ecs.task-arn': t.taskArn,
      'com.amazonaws.ecs.task-definition-family': t.family,
      'com.amazonaws.ecs.task-definition-version': t.revision,
    },
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    Limits: { CPU: t.launchType === 'FARGATE' ? 2 : 10, Memory: 512 },
    CreatedAt: nanoTime(t.startedAt),
    StartedAt: nanoTime(t.startedAt),
    Type: 'NORMAL',
    Networks: [{ NetworkMode: 'awsvpc', IPv4Addresses: ['10.0.2.106'] }],
  };
  if (version !== 'v2') doc.ContainerARN = t.containerArn;
  if (version === 'v4') {
    doc.LogDriver = 'awslogs';
    doc.LogOptions = {
      'awslogs-group': `/ecs/${t.family}`,
      'awslogs-region': t.region,
      'awslogs-stream': `ecs/${t.containerName}/${t.taskId}`,
    };
  }
  return doc;
}

/** The task document: v4 / v3 `/task`, v2 `/v2/metadata`; with tags for `/taskWithTags` and `/v2/metadataWithTags`. */
export function taskDocument(t: TaskFacts, version: 'v2' | 'v3' | 'v4', withTags: boolean): Record<string, unknown> {
  const fargate = t.launchType === 'FARGATE';
  const doc: Record<string, unknown> = {
    // Fargate reports the cluster ARN, EC2 the short name (and v2 predates Fargate's ARN form).
    Cluster: fargate && version !== 'v2' ? t.clusterArn : t.clusterName,
    TaskARN: t.taskArn,
    Family: t.family,
    Revision: t.revision,
    DesiredStatus: 'RUNNING',
    KnownStatus: 'RUNNING',
    Containers: [containerDocument(t, version)],
    PullStartedAt: nanoTime(t.startedAt),
    PullStoppedAt: nanoTime(t.startedAt),
    AvailabilityZone: t.availabilityZone,
  };
  if (fargate) doc.Limits = { CPU: 0.25, Memory: 512 };
  if (version === 'v4') {
    doc.LaunchType = t.launchType;
    doc.ClockDrift = {
      ClockErrorBound: 0.5,
      ReferenceTimestamp: t.startedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      ClockSynchronizationStatus: 'SYNCHRONIZED',
    };
    if (fargate) doc.EphemeralStorageMetrics = { Utilized: 261, Reserved: 20496 };
    else doc.VPCID = 'vpc-0123456789abcdef0';
  }
  if (withTags) {
    doc.TaskTags = { ...t.tags };
    if (!fargate) doc.ContainerInstanceTags = { Name: 'ecs-instance' };
  }
  return doc;
}
