/**
 * The ECS task and container metadata documents (v4, v3, v2): types and validating parsers.
 * Tolerant to unknown fields (AWS only adds), strict on the fields the SDK uses. Pure and browser-safe.
 * @packageDocumentation
 */
import type { IdentityError } from '@ecs-identity/core';
import { parseTaskArn } from './arn.js';
import { EcsMetadataError } from './errors.js';

/** ECS launch types; other values are passed through upper-cased. @public */
export type LaunchType = 'EC2' | 'FARGATE' | 'EXTERNAL' | (string & {});

/** A container in the metadata (`${ECS_CONTAINER_METADATA_URI_V4}` or an entry of `Containers`). @public */
export interface ContainerMetadata {
  DockerId: string;
  Name: string;
  DockerName?: string;
  Image?: string;
  ImageID?: string;
  Labels?: Record<string, string>;
  DesiredStatus?: string;
  KnownStatus?: string;
  Limits?: { CPU?: number; Memory?: number };
  CreatedAt?: string;
  StartedAt?: string;
  FinishedAt?: string;
  Type?: string;
  ContainerARN?: string;
  ExitCode?: number;
  LogDriver?: string;
  LogOptions?: Record<string, string>;
  Networks?: Array<Record<string, unknown>>;
  /** Fields this SDK does not model. */
  [field: string]: unknown;
}

/** The task metadata (`/task`, `/taskWithTags`, v2 `/v2/metadata`). @public */
export interface TaskMetadata {
  /** A short name (EC2) or a full cluster ARN (Fargate). Absent only in unusual documents. */
  Cluster?: string;
  TaskARN: string;
  Family: string;
  /** A decimal string. */
  Revision: string;
  DesiredStatus?: string;
  KnownStatus?: string;
  /** Task limits; Fargate CPU is in vCPUs (e.g. 0.25). */
  Limits?: { CPU?: number; Memory?: number };
  PullStartedAt?: string;
  PullStoppedAt?: string;
  AvailabilityZone?: string;
  /** Upper-cased on parse (some agents sent `ec2`). Absent in v2 and older v3 documents. */
  LaunchType?: LaunchType;
  ServiceName?: string;
  VPCID?: string;
  ClockDrift?:
    | { ClockErrorBound?: number; ReferenceTimestamp?: string; ClockSynchronizationStatus?: string }
    | undefined;
  EphemeralStorageMetrics?: { Utilized?: number; Reserved?: number };
  TaskTags?: Record<string, string>;
  ContainerInstanceTags?: Record<string, string>;
  Containers: ContainerMetadata[];
  /** Fields this SDK does not model. */
  [field: string]: unknown;
}

type Json = Record<string, unknown>;

function invalid(source: string, message: string): IdentityError {
  return new EcsMetadataError('INVALID_METADATA', `${source}: ${message}`);
}

function toObject(input: unknown, source: string): Json {
  let doc = input;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch {
      const hint = input.trim() === '' ? 'the body is empty' : 'the body is not valid JSON (truncated?)';
      throw invalid(source, hint);
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw invalid(
      source,
      `expected a JSON object, got ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`,
    );
  }
  return doc as Json;
}

function requireString(doc: Json, field: string, source: string, path = field): string {
  const value = doc[field];
  if (value === undefined || value === null) throw invalid(source, `field ${path} is missing`);
  if (typeof value !== 'string') throw invalid(source, `field ${path} must be a string, got ${typeof value}`);
  if (value === '') throw invalid(source, `field ${path} is empty`);
  return value;
}

// Optional fields are checked only for their JSON type, so AWS changing a value's content never breaks a parse,
// while a document of the wrong shape still fails with the field named.
function checkOptional(
  doc: Json,
  field: string,
  type: 'string' | 'number' | 'object' | 'array',
  source: string,
  path = field,
) {
  const value = doc[field];
  // null is "absent" (some agents write null for unset fields); drop it so the typed document never holds null.
  if (value === null) delete doc[field];
  if (value === undefined || value === null) return;
  const actual = Array.isArray(value) ? 'array' : typeof value;
  if (actual !== type)
    throw invalid(source, `field ${path} must be ${type === 'array' ? 'an array' : `a ${type}`}, got ${actual}`);
}

function checkContainer(doc: unknown, source: string, path: string): ContainerMetadata {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid(source, `${path} must be an object`);
  const c = { ...(doc as Json) };
  requireString(c, 'DockerId', source, `${path}.DockerId`);
  requireString(c, 'Name', source, `${path}.Name`);
  for (const f of [
    'DockerName',
    'Image',
    'ImageID',
    'DesiredStatus',
    'KnownStatus',
    'CreatedAt',
    'StartedAt',
    'Type',
    'ContainerARN',
  ]) {
    checkOptional(c, f, 'string', source, `${path}.${f}`);
  }
  for (const f of ['Labels', 'Limits', 'LogOptions']) checkOptional(c, f, 'object', source, `${path}.${f}`);
  checkOptional(c, 'Networks', 'array', source, `${path}.Networks`);
  return c as ContainerMetadata;
}

/**
 * Validates a container metadata document (`${ECS_CONTAINER_METADATA_URI_V4}`), given as JSON text or a parsed
 * value. Requires `DockerId` and `Name`; throws `INVALID_METADATA` naming the field.
 * @public
 */
export function parseContainerMetadata(input: unknown, source = 'container metadata'): ContainerMetadata {
  return checkContainer(toObject(input, source), source, 'container');
}

/**
 * Validates a task metadata document (v4 or v3 `/task`, v2 `/v2/metadata`), given as JSON text or a parsed value.
 * Requires `TaskARN` (a well-formed task ARN), `Family`, `Revision` (decimal string) and `Containers`; checks
 * the JSON type of the other known fields; keeps unknown fields. Throws `INVALID_METADATA` naming the field
 * (or `INVALID_ARN` for a malformed `TaskARN`).
 *
 * @example
 * ```ts
 * const task = parseTaskMetadata(await (await fetch(`${process.env.ECS_CONTAINER_METADATA_URI_V4}/task`)).text());
 * task.Family; // 'curltest'
 * ```
 * @public
 */
export function parseTaskMetadata(input: unknown, source = 'task metadata'): TaskMetadata {
  // A shallow copy: normalising Revision / LaunchType must not modify the caller's object.
  const doc = { ...toObject(input, source) };
  const taskArn = requireString(doc, 'TaskARN', source);
  try {
    parseTaskArn(taskArn);
  } catch (e) {
    throw new EcsMetadataError('INVALID_ARN', `${source}: field TaskARN: ${(e as Error).message}`, { cause: e });
  }
  requireString(doc, 'Family', source);
  const revision = doc.Revision;
  // Revision is documented as a string; accept a JSON number too (the value, not the encoding, is what matters).
  if (typeof revision === 'number' && Number.isSafeInteger(revision) && revision > 0) {
    doc.Revision = String(revision);
  } else {
    const text = requireString(doc, 'Revision', source);
    if (!/^[1-9][0-9]{0,9}$/.test(text))
      throw invalid(source, `field Revision ${JSON.stringify(text.slice(0, 20))} is not a positive integer`);
  }
  for (const f of [
    'Cluster',
    'DesiredStatus',
    'KnownStatus',
    'PullStartedAt',
    'PullStoppedAt',
    'AvailabilityZone',
    'LaunchType',
    'ServiceName',
    'VPCID',
  ]) {
    checkOptional(doc, f, 'string', source);
  }
  for (const f of ['Limits', 'ClockDrift', 'EphemeralStorageMetrics', 'TaskTags', 'ContainerInstanceTags']) {
    checkOptional(doc, f, 'object', source);
  }
  if (typeof doc.LaunchType === 'string') doc.LaunchType = doc.LaunchType.toUpperCase();
  const containers = doc.Containers;
  if (containers === undefined || containers === null) {
    doc.Containers = [];
  } else if (!Array.isArray(containers)) {
    throw invalid(source, 'field Containers must be an array');
  } else {
    doc.Containers = containers.map((c, i) => checkContainer(c, source, `Containers[${i}]`));
  }
  return doc as TaskMetadata;
}
