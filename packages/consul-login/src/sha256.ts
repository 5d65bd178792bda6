/**
 * SHA-256 and HMAC-SHA-256 for `@smithy/signature-v4` (its `ChecksumConstructor`: `new Sha256(secret?)`, `update`,
 * `digest`, `reset`), from the runtime: `node:crypto` in Node (OpenSSL, answered without a trip through the thread
 * pool; reached through `process.getBuiltinModule`, so this module stays browser-safe), Web Crypto (`crypto.subtle`)
 * elsewhere. No JavaScript hash, nothing loaded or installed on import.
 * @packageDocumentation
 */
import type * as NodeCrypto from 'node:crypto';
import type { BufferSource, CryptoKey } from '@ecs-identity/core';
import { concatBytes } from '@ecs-identity/core/internal';
import { ConsulError } from './errors.js';

/** What `@smithy/types`' `SourceData` allows: a string (UTF-8) or bytes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;

const encoder = new TextEncoder();

function bytesOf(data: SourceData): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function subtle(): SubtleCryptoLike {
  const s = (globalThis as { crypto?: { subtle?: SubtleCryptoLike } }).crypto?.subtle;
  if (s === undefined) {
    throw new ConsulError('INVALID_CONFIG', 'no Web Crypto (crypto.subtle) in this runtime: request signing needs it');
  }
  return s;
}

/** The part of `crypto.subtle` used here, typed without the DOM lib. */
interface SubtleCryptoLike {
  digest(algorithm: 'SHA-256', data: BufferSource): Promise<ArrayBuffer>;
  importKey(
    format: 'raw',
    keyData: BufferSource,
    algorithm: { name: 'HMAC'; hash: 'SHA-256' },
    extractable: false,
    usages: ['sign'],
  ): Promise<CryptoKey>;
  sign(algorithm: 'HMAC', key: CryptoKey, data: BufferSource): Promise<ArrayBuffer>;
}

// HMAC pads a key shorter than the hash's 64-byte block with zeros (RFC 2104 §2), so an empty key is 64 zero bytes;
// some Web Crypto implementations refuse to import a zero-length HMAC key.
const EMPTY_KEY = new Uint8Array(64);

/**
 * A `Checksum` for `@smithy/signature-v4`: SHA-256 of what is given to `update`, or HMAC-SHA-256 under the key given
 * to the constructor. The key is imported at once as a non-extractable Web Crypto key: the bytes are not kept (the
 * `ChecksumConstructor` contract).
 * @internal
 */
export class WebCryptoSha256 {
  readonly digestLength = 32;
  private readonly key: Promise<CryptoKey> | undefined;
  private chunks: Uint8Array[] = [];

  constructor(secret?: SourceData) {
    if (secret !== undefined) {
      const raw = bytesOf(secret);
      this.key = subtle().importKey(
        'raw',
        (raw.byteLength === 0 ? EMPTY_KEY : raw) as BufferSource,
        { name: 'HMAC', hash: 'SHA-256' },
        false,
        ['sign'],
      );
      // Seen by digest(); not an unhandled rejection when digest() is never called.
      this.key.catch(() => {});
    }
  }

  update(data: SourceData): void {
    // A copy: the caller may reuse its buffer before digest() runs.
    this.chunks.push(bytesOf(data).slice());
  }

  reset(): void {
    this.chunks = [];
  }

  async digest(): Promise<Uint8Array> {
    const data = concatBytes(this.chunks) as BufferSource;
    const s = subtle();
    const out = this.key === undefined ? await s.digest('SHA-256', data) : await s.sign('HMAC', await this.key, data);
    return new Uint8Array(out);
  }
}

type NodeHashing = Pick<typeof NodeCrypto, 'createHash' | 'createHmac' | 'createSecretKey'>;

/** Node's crypto module, or undefined outside Node (or before 20.16, which has no `process.getBuiltinModule`). */
function nodeCrypto(): NodeHashing | undefined {
  const p = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof p?.getBuiltinModule === 'function' ? (p.getBuiltinModule('node:crypto') as NodeHashing) : undefined;
}

/**
 * The same `Checksum` over `node:crypto`: the key is held as a `KeyObject` (native memory), not as bytes.
 * @internal
 */
export class NodeSha256 {
  readonly digestLength = 32;
  readonly #crypto: NodeHashing;
  readonly #key: NodeCrypto.KeyObject | undefined;
  #hash: NodeCrypto.Hash | NodeCrypto.Hmac;

  constructor(secret?: SourceData, crypto: NodeHashing = nodeCrypto() as NodeHashing) {
    this.#crypto = crypto;
    this.#key = secret === undefined ? undefined : crypto.createSecretKey(bytesOf(secret));
    this.#hash = this.#start();
  }

  #start(): NodeCrypto.Hash | NodeCrypto.Hmac {
    return this.#key === undefined ? this.#crypto.createHash('sha256') : this.#crypto.createHmac('sha256', this.#key);
  }

  update(data: SourceData): void {
    this.#hash.update(bytesOf(data));
  }

  reset(): void {
    this.#hash = this.#start();
  }

  async digest(): Promise<Uint8Array> {
    const out = new Uint8Array(this.#hash.digest());
    this.#hash = this.#start();
    return out;
  }
}

/** The SHA-256 `Checksum` constructor for this runtime: {@link NodeSha256} in Node, else {@link WebCryptoSha256}. @internal */
export const Sha256: typeof NodeSha256 | typeof WebCryptoSha256 =
  nodeCrypto() === undefined ? WebCryptoSha256 : NodeSha256;
