/**
 * The identity an earlier run saved (siad's key and certificate files, or any `IdentitySink`): read back, checked
 * against the context's service and key, and judged. One piece for the identity provider's start (refresh what is
 * saved, or register) and for the CLI's commands that use the saved identity (`rolecert`, `token`).
 * @packageDocumentation
 */
import { IdentityError } from '@ecs-identity/core';
import type { ResolvedAthenzContext } from './context.js';
import { buildX509Identity, isCertificateValidAt, type X509Identity } from './credentials.js';
import { AthenzError } from './errors.js';
import type { IdentitySink, StoredPair } from './identity-sink.js';
import { type CryptoOption, importPrivateKeyPem } from './keys.js';
import type { CryptoKeyPair } from './web-crypto.js';

/** @public */
export interface SavedIdentityOptions extends CryptoOption {
  /** The CA bundle to expose on the identity (`caBundlePem`). */
  caBundlePem?: string | undefined;
}

/** A saved pair read back: its keys if the key parses, its identity if the certificate is ours and fits. @internal */
export interface SavedPair {
  readonly keyPem: string;
  readonly keys?: CryptoKeyPair;
  readonly identity?: X509Identity;
  /** Why the key or the certificate cannot be used. */
  readonly problem?: IdentityError;
}

// A stored certificate this close to expiry is not worth refreshing with: the refresh could land after it lapsed.
const STORED_CERT_MARGIN_MS = 60_000;

type Names = Pick<ResolvedAthenzContext, 'domain' | 'service' | 'provider' | 'task'>;

/** The identity for a certificate of ours: checked against the names and the key (buildX509Identity). @internal */
export function identityOf(
  ctx: Names,
  keys: CryptoKeyPair,
  keyPem: string,
  certPem: string,
  options: SavedIdentityOptions & { chainPem?: string | null | undefined },
): Promise<X509Identity> {
  return buildX509Identity({
    domain: ctx.domain,
    service: ctx.service,
    provider: ctx.provider,
    instanceId: ctx.task.taskId,
    keys,
    privateKeyPem: keyPem,
    certificatePem: certPem,
    chainPem: options.chainPem || undefined,
    caBundlePem: options.caBundlePem,
    crypto: options.crypto,
  });
}

/**
 * The saved pair read back: its key if it parses, and its identity if the certificate is ours and fits the key;
 * `problem` says why not. Whether the certificate is still valid is the caller's question.
 * @internal
 */
export async function readSavedPair(ctx: Names, stored: StoredPair, options: SavedIdentityOptions): Promise<SavedPair> {
  const who = `${ctx.domain}.${ctx.service}`;
  let keys: CryptoKeyPair;
  try {
    keys = await importPrivateKeyPem(stored.keyPem, options);
  } catch (cause) {
    // the import error is not quoted: it is about the saved private key
    const problem = new AthenzError('INVALID_CONFIG', `the saved private key of ${who} is unusable`, { cause });
    return { keyPem: stored.keyPem, problem };
  }
  try {
    return {
      keyPem: stored.keyPem,
      keys,
      identity: await identityOf(ctx, keys, stored.keyPem, stored.certPem, options),
    };
  } catch (cause) {
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    const problem = new AthenzError('INVALID_CONFIG', `the saved certificate of ${who} is not usable${why}`, { cause });
    return { keyPem: stored.keyPem, keys, problem };
  }
}

/**
 * The pair `sink` saved for `<domain>.<service>`: a read failure is the sink's IdentityError (else `FILE_IO`), and no
 * pair is `INVALID_CONFIG`.
 * @internal
 */
export async function loadSavedPair(sink: IdentitySink, domain: string, service: string): Promise<StoredPair> {
  let pair: StoredPair | undefined;
  try {
    pair = await sink.loadIdentity(domain, service);
  } catch (e) {
    if (IdentityError.is(e)) throw e;
    throw new AthenzError('FILE_IO', `reading the saved key and certificate of ${domain}.${service} failed`, {
      cause: e,
    });
  }
  if (!pair) {
    throw new AthenzError(
      'INVALID_CONFIG',
      `no saved key and certificate for ${domain}.${service} (nothing to refresh or present): register first (siad -cmd post, ecs-identity athenz post, or instance.start 'register')`,
    );
  }
  return pair;
}

/** Whether a saved certificate is worth refreshing with when registering is the alternative. @internal */
export function worthRefreshing(identity: X509Identity, nowMs: number): boolean {
  return (
    isCertificateValidAt(identity.certificate, nowMs) && identity.expiresAt.getTime() - nowMs >= STORED_CERT_MARGIN_MS
  );
}

/**
 * The identity `sink` saved for the context's service, checked: it must be there (`INVALID_CONFIG` otherwise, as
 * when its key does not parse or its certificate is not ours or does not fit the key) and unexpired at `nowMs`
 * (`EXPIRED`). A failed read is the sink's IdentityError, else `FILE_IO`. What `start: 'refresh'` refreshes, and what
 * the CLI's `rolecert` and `token` present to ZTS.
 *
 * @example
 * ```ts
 * const identity = await loadSavedIdentity(siadFileSink(), await context.resolve(), Date.now());
 * ```
 * @public
 */
export async function loadSavedIdentity(
  sink: IdentitySink,
  context: Pick<ResolvedAthenzContext, 'domain' | 'service' | 'provider' | 'task'>,
  nowMs: number,
  options: SavedIdentityOptions = {},
): Promise<X509Identity> {
  const pair = await loadSavedPair(sink, context.domain, context.service);
  return judgeSaved(await readSavedPair(context, pair, options), context, nowMs);
}

/** The identity of a saved pair read back, when it is usable and unexpired at `nowMs`. @internal */
export function judgeSaved(
  saved: SavedPair,
  context: Pick<ResolvedAthenzContext, 'domain' | 'service'>,
  nowMs: number,
) {
  if (!saved.identity) throw saved.problem as IdentityError;
  const expiresAt = saved.identity.expiresAt;
  if (expiresAt.getTime() <= nowMs) {
    throw new AthenzError(
      'EXPIRED',
      `the saved certificate of ${context.domain}.${context.service} expired at ${expiresAt.toISOString()}; an expired certificate cannot be refreshed: register anew`,
    );
  }
  return saved.identity;
}
