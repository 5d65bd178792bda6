/**
 * The token sink file (Node): the SecretID alone, written atomically, as `consul login -token-sink-file` does.
 * @packageDocumentation
 */
import { type WriteFileOptions, writeFileAtomic } from '@ecs-identity/core/node';
import type { ConsulToken } from './consul-token.js';

/** @public */
export interface TokenSinkOptions extends Omit<WriteFileOptions, 'mode'> {
  /**
   * File mode. Default 0o600 (the Consul CLI's). consul-ecs uses 0o644 so that another container can read the token
   * to log it out; choose that only when the volume is private to the task.
   */
  mode?: number | undefined;
}

/**
 * A `sink` for `consulLogin()` / `consulTokenProvider()` that writes the token's SecretID (nothing else, no newline)
 * to `path` atomically (temp file, fsync, rename), with mode 0600 unless told otherwise.
 *
 * @example
 * ```ts
 * await consulLogin({ sink: tokenFileSink('/consul/service-token') });
 * ```
 * @public
 */
export function tokenFileSink(path: string, options: TokenSinkOptions = {}): (token: ConsulToken) => Promise<void> {
  return (token) => writeFileAtomic(path, token.secretId, { ...options, mode: options.mode ?? 0o600 });
}
