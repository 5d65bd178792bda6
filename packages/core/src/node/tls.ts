/**
 * TLS rotation for Node: servers and mTLS clients follow a provider's newest identity without a restart.
 * @packageDocumentation
 */
import { Agent } from 'node:https';
import { createSecureContext, type SecureContext, type SecureContextOptions, type Server as TlsServer } from 'node:tls';
import { type Clock, systemClock } from '../clock.js';
import type { Credential, CredentialProvider } from '../credential.js';
import { IdentityError } from '../errors.js';

/** Key, cert, CA in PEM, as node:tls wants them. @public */
export interface TlsMaterial {
  key: string;
  cert: string;
  ca?: string | string[];
}

/** @public */
export interface RotationOptions {
  /**
   * Called when a new credential could not be installed (bad key or cert); the previous identity stays in use.
   * Default: a process warning. The error never contains key material.
   */
  onError?: (error: IdentityError) => void;
}

function report(options: RotationOptions, error: IdentityError): void {
  if (options.onError) options.onError(error);
  else process.emitWarning(error);
}

/**
 * Keeps a `tls.Server` / `https.Server` on the newest identity: each credential the provider emits is turned into a
 * secure context with `toTls` and installed with `server.setSecureContext`. Connections already open keep their
 * certificate; new handshakes get the new one. Returns the unsubscribe function.
 *
 * @example
 * ```ts
 * const server = https.createServer({ ...toTls(await provider.get()), requestCert: true }, app);
 * const stop = keepServerRotated(server, provider, (id) => ({ key: id.privateKeyPem, cert: id.certificatePem }));
 * ```
 * @public
 */
export function keepServerRotated<C extends Credential>(
  server: TlsServer,
  provider: CredentialProvider<C>,
  toTls: (credential: C) => SecureContextOptions,
  options: RotationOptions = {},
): () => void {
  return provider.subscribe((credential) => {
    try {
      server.setSecureContext(toTls(credential));
    } catch (e) {
      report(
        options,
        new IdentityError(
          'INVALID_ARGUMENT',
          'the new identity could not be installed on the TLS server (setSecureContext failed); it keeps the previous one',
          { cause: e },
        ),
      );
    }
  });
}

/** An https.Agent for mTLS that follows rotation: `current()` gives the agent for the newest identity. @public */
export interface RotatingAgent {
  current(): Agent;
  close(): void;
}

/** @public */
export interface RotatingAgentOptions extends RotationOptions {
  /** Trust anchors for the server; overrides the `ca` that `toTls` returns. */
  ca?: string | string[];
  /** Keep connections open between requests. Default true. */
  keepAlive?: boolean;
  /** How long a replaced agent may finish in-flight requests before it is destroyed anyway, in ms. Default 30_000. */
  graceMs?: number;
  clock?: Clock;
}

/** How often a replaced agent is checked for idleness during its grace period. */
const RETIRE_POLL_MS = 100;

function isIdle(agent: Agent): boolean {
  const busy = (table: NodeJS.ReadOnlyDict<unknown[]>): boolean =>
    Object.values(table).some((list) => list !== undefined && list.length > 0);
  return !busy(agent.sockets) && !busy(agent.requests);
}

/**
 * Waits for the provider's first credential and returns an mTLS agent holder that swaps to a new `https.Agent` on each
 * new credential. Take `current()` per request (it is cheap), so new connections present the newest client cert.
 * A replaced agent is destroyed once its in-flight requests finish, or after `graceMs`.
 *
 * @example
 * ```ts
 * const agents = await rotatingAgent(provider, (id) => ({ key: id.privateKeyPem, cert: id.certificatePem }), { ca });
 * const res = await new Promise((r) => https.get(url, { agent: agents.current() }, r));
 * agents.close();
 * ```
 * @public
 */
export async function rotatingAgent<C extends Credential>(
  provider: CredentialProvider<C>,
  toTls: (credential: C) => TlsMaterial,
  options: RotatingAgentOptions = {},
): Promise<RotatingAgent> {
  const graceMs = options.graceMs ?? 30_000;
  if (!Number.isFinite(graceMs) || graceMs < 0) throw invalid(`graceMs must be a non-negative number, got ${graceMs}`);
  const clock = options.clock ?? systemClock;
  const retiring = new Map<Agent, unknown>();
  let agent: Agent | undefined;
  let closed = false;

  const build = (credential: C): Agent => {
    const material = toTls(credential);
    return httpsAgent({
      key: material.key,
      cert: material.cert,
      ca: options.ca ?? material.ca,
      keepAlive: options.keepAlive ?? true,
    });
  };
  const retire = (old: Agent): void => {
    const deadline = clock.now() + graceMs;
    const check = (): void => {
      if (closed || !retiring.has(old)) return;
      if (isIdle(old) || clock.now() >= deadline) {
        retiring.delete(old);
        old.destroy();
        return;
      }
      retiring.set(old, clock.setTimeout(check, Math.min(RETIRE_POLL_MS, Math.max(0, deadline - clock.now()))));
    };
    retiring.set(old, undefined);
    check();
  };
  const install = (credential: C): void => {
    let next: Agent;
    try {
      next = build(credential);
    } catch (e) {
      report(options, IdentityError.is(e) ? e : new IdentityError('INVALID_ARGUMENT', 'toTls failed', { cause: e }));
      return;
    }
    const old = agent;
    agent = next;
    if (old !== undefined) retire(old);
  };

  // Subscribe before the first get so a rotation that lands in between is not missed.
  const unsubscribe = provider.subscribe((credential) => {
    if (!closed) install(credential);
  });
  try {
    const first = await provider.get();
    if (agent === undefined) agent = build(first);
  } catch (e) {
    unsubscribe();
    throw e;
  }

  return {
    current(): Agent {
      if (closed || agent === undefined) throw new IdentityError('CLOSED', 'the rotating agent was closed');
      return agent;
    },
    close(): void {
      if (closed) return;
      closed = true;
      unsubscribe();
      for (const [old, timer] of retiring) {
        if (timer !== undefined) clock.clearTimeout(timer);
        old.destroy();
      }
      retiring.clear();
      agent?.destroy();
    },
  };
}

function invalid(message: string): IdentityError {
  return new IdentityError('INVALID_ARGUMENT', message);
}

// Secure contexts without a client certificate, by CA bundle (a few bundles per process at most; the oldest goes first).
const caContexts = new Map<string, SecureContext>();
const MAX_CA_CONTEXTS = 16;

function caContext(ca: string | string[] | undefined): SecureContext {
  const key = ca === undefined ? '' : Array.isArray(ca) ? `[${ca.join('\0')}]` : ca;
  let context = caContexts.get(key);
  if (context === undefined) {
    context = createSecureContext(ca === undefined ? {} : { ca });
    caContexts.set(key, context);
    if (caContexts.size > MAX_CA_CONTEXTS) caContexts.delete(caContexts.keys().next().value as string);
  }
  return context;
}

/**
 * An https.Agent with a custom CA and an optional client certificate (mTLS). `key` and `cert` go together. Agents
 * without a client certificate share one secure context per CA bundle (parsing a bundle costs about a millisecond).
 *
 * @example
 * ```ts
 * const agent = httpsAgent({ ca: athenzCaPem, key: keyPem, cert: certPem });
 * ```
 * @public
 */
export function httpsAgent(options: {
  ca?: string | string[];
  key?: string;
  cert?: string;
  keepAlive?: boolean;
}): Agent {
  if ((options.key === undefined) !== (options.cert === undefined)) {
    throw invalid('httpsAgent needs both key and cert for a client certificate, or neither');
  }
  if (options.key !== undefined && options.key.trim() === '') throw invalid('httpsAgent: key is empty');
  if (options.cert !== undefined && options.cert.trim() === '') throw invalid('httpsAgent: cert is empty');
  let secureContext: SecureContext;
  try {
    // Parsed once here: given key/cert instead, tls.connect would parse them again for every new connection. A context
    // without a client certificate depends on the CA bundle alone, so it is shared by every agent made for that bundle.
    secureContext =
      options.key === undefined
        ? caContext(options.ca)
        : createSecureContext({
            ...(options.ca === undefined ? {} : { ca: options.ca }),
            key: options.key,
            cert: options.cert,
          });
  } catch (e) {
    // OpenSSL's message names the failing routine, never the key bytes.
    throw new IdentityError(
      'INVALID_ARGUMENT',
      'httpsAgent: the key, cert or ca is not usable PEM (or key and cert do not match)',
      {
        cause: e,
      },
    );
  }
  return new Agent({ keepAlive: options.keepAlive ?? true, secureContext });
}
