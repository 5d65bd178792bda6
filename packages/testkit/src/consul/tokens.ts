import { randomBytes, randomUUID } from 'node:crypto';
import type { Bindings } from './binding-rules.js';
import { goDuration } from './go-compat.js';

/** A token the fake Consul holds (state for tests: it includes the SecretID). @public */
export interface ConsulTokenRecord {
  readonly accessorId: string;
  readonly secretId: string;
  readonly description: string;
  /** Empty for tokens not created by login (they cannot log out). */
  readonly authMethod: string;
  readonly serviceIdentities: readonly { ServiceName: string }[];
  readonly nodeIdentities: readonly { NodeName: string; Datacenter: string }[];
  readonly roles: readonly { ID: string; Name: string }[];
  readonly local: boolean;
  /** Epoch ms. */
  readonly createdAt: number;
  readonly expiresAt?: number;
  readonly ttlMs?: number;
  readonly namespace?: string;
  readonly partition?: string;
  readonly createIndex: number;
  readonly hash: string;
}

export interface NewToken {
  description: string;
  authMethod: string;
  bindings?: Bindings;
  local: boolean;
  now: number;
  ttlMs?: number;
  namespace?: string;
  partition?: string;
  secretId?: string;
}

/** The token store: by SecretID, with Raft-like increasing indexes. */
export class TokenStore {
  readonly #bySecret = new Map<string, ConsulTokenRecord>();
  #index = 10;

  get index(): number {
    return this.#index;
  }

  create(t: NewToken): ConsulTokenRecord {
    this.#index += 1;
    const record: ConsulTokenRecord = {
      accessorId: randomUUID(),
      secretId: t.secretId ?? randomUUID(),
      description: t.description,
      authMethod: t.authMethod,
      serviceIdentities: t.bindings?.serviceIdentities ?? [],
      nodeIdentities: t.bindings?.nodeIdentities ?? [],
      roles: t.bindings?.roles ?? [],
      local: t.local,
      createdAt: t.now,
      ...(t.ttlMs !== undefined && t.ttlMs > 0 ? { ttlMs: t.ttlMs, expiresAt: t.now + t.ttlMs } : {}),
      ...(t.namespace !== undefined ? { namespace: t.namespace } : {}),
      ...(t.partition !== undefined ? { partition: t.partition } : {}),
      createIndex: this.#index,
      hash: randomBytes(32).toString('base64'),
    };
    this.#bySecret.set(record.secretId, record);
    return record;
  }

  get(secretId: string): ConsulTokenRecord | undefined {
    return this.#bySecret.get(secretId);
  }

  delete(secretId: string): void {
    this.#index += 1;
    this.#bySecret.delete(secretId);
  }

  all(): ConsulTokenRecord[] {
    return [...this.#bySecret.values()];
  }
}

/** The JSON Consul returns for a token (`structs.ACLToken`), field order and omissions as the real one. */
export function tokenJson(t: ConsulTokenRecord): Record<string, unknown> {
  return {
    AccessorID: t.accessorId,
    SecretID: t.secretId,
    Description: t.description,
    ...(t.roles.length > 0 ? { Roles: t.roles } : {}),
    ...(t.serviceIdentities.length > 0 ? { ServiceIdentities: t.serviceIdentities } : {}),
    ...(t.nodeIdentities.length > 0 ? { NodeIdentities: t.nodeIdentities } : {}),
    Local: t.local,
    AuthMethod: t.authMethod || undefined,
    ...(t.expiresAt !== undefined ? { ExpirationTime: new Date(t.expiresAt).toISOString() } : {}),
    ...(t.ttlMs !== undefined ? { ExpirationTTL: goDuration(t.ttlMs) } : {}),
    CreateTime: new Date(t.createdAt).toISOString(),
    Hash: t.hash,
    ...(t.namespace !== undefined ? { Namespace: t.namespace } : {}),
    ...(t.partition !== undefined ? { Partition: t.partition } : {}),
    CreateIndex: t.createIndex,
    ModifyIndex: t.createIndex,
  };
}
