/**
 * The Web Crypto types the SDK's declarations name, taken from the runtime's own `crypto` global rather than from
 * the DOM lib: `typeof globalThis.crypto` is the DOM's `Crypto` in a browser program and `webcrypto.Crypto` of
 * @types/node in a Node one, so a consumer type-checks these declarations with either, and Node programs need no DOM
 * lib. One set for every package. Types only: nothing here exists at run time.
 * @packageDocumentation
 */

/** A Web Crypto implementation: the runtime's `crypto` (DOM `Crypto`, or Node's `webcrypto.Crypto`). @public */
export type Crypto = typeof globalThis.crypto;

/** A Web Crypto key, as the runtime's `crypto.subtle` takes and returns it. @public */
export type CryptoKey = Parameters<Crypto['subtle']['exportKey']>[1];

/** A Web Crypto key pair. @public */
export interface CryptoKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/**
 * Bytes: an `ArrayBuffer` or a view of one (Web IDL's `BufferSource`; not a `SharedArrayBuffer`, as TypeScript 5.7+'s
 * DOM lib says, written so that older TypeScript, where `ArrayBufferView` is not generic, reads it too). @public
 */
export type BufferSource = ArrayBuffer | (ArrayBufferView & { readonly buffer: ArrayBuffer });
