/**
 * TLS for Node, driven by a provider's credentials: the TLS options of a key + certificate credential, a server that
 * follows each new identity without a restart, and the one client-certificate rotation mechanism every mTLS client of
 * the SDK uses (an `https.Agent` per client certificate, the replaced ones retired once their requests finish).
 * @packageDocumentation
 */
import type { Agent } from 'node:https';
import type * as NodeTls from 'node:tls';
import type { SecureContext, SecureContextOptions, Server as TlsServer } from 'node:tls';
import { type Clock, systemClock } from '../clock.js';
import type { Credential, CredentialProvider } from '../credential.js';
import { type CoreErrorCode, errorClass, IdentityError } from '../errors.js';
import { type PreconnectingAgent, preconnectingAgent } from './preconnect.js';

const CoreError = errorClass<CoreErrorCode>();

// node:https and node:tls on first use, not at import (node:https in preconnect.ts): loading them costs about 7 ms of a
// new process, and importing the Node entry (or a package built on it) for anything else should not pay it.
const nodeTls = () => process.getBuiltinModule('node:tls') as typeof NodeTls;

/** Key, certificate and trust anchors in PEM, as `node:tls` takes them. @public */
export interface TlsMaterial {
  key: string;
  cert: string;
  ca?: string | string[] | undefined;
}

/**
 * A credential made of a private key and a certificate in PEM, such as athenz-zts's `X509Identity` and
 * `RoleCertificate`: what {@link tlsOptions} reads.
 * @public
 */
export interface KeyCertCredential extends Credential {
  readonly privateKeyPem: string;
  readonly certificatePem: string;
  /** The CA bundle trusted for peers, when the credential carries one. */
  readonly caBundlePem?: string | undefined;
}

/**
 * The Node TLS options of a key + certificate credential: `{ key, cert, ca }` (`ca` from its `caBundlePem`, when it
 * has one), for `https.createServer`, `tls.connect`, `setSecureContext` or an `https.Agent`.
 *
 * @example
 * ```ts
 * const server = https.createServer({ ...tlsOptions(await identity.get()), requestCert: true }, app);
 * ```
 * @public
 */
export function tlsOptions(credential: KeyCertCredential): TlsMaterial {
  const { privateKeyPem: key, certificatePem: cert, caBundlePem: ca } = credential;
  return ca === undefined ? { key, cert } : { key, cert, ca };
}

/** @public */
export interface RotationOptions<C extends Credential = Credential> {
  /** Turns a credential into TLS options. Default {@link tlsOptions} (for a {@link KeyCertCredential}). */
  toTls?: ((credential: C) => SecureContextOptions) | undefined;
  /**
   * Called when a new credential could not be installed (bad key or cert); the previous identity stays in use.
   * Default: a process warning. The error never contains key material.
   */
  onError?: ((error: IdentityError) => void) | undefined;
}

function report(options: { onError?: ((error: IdentityError) => void) | undefined }, error: IdentityError): void {
  if (options.onError) options.onError(error);
  else process.emitWarning(error);
}

function toTlsOf<C extends Credential>(options: RotationOptions<C>): (credential: C) => SecureContextOptions {
  return options.toTls ?? ((credential: C) => tlsOptions(credential as unknown as KeyCertCredential));
}

/**
 * Keeps a `tls.Server` / `https.Server` on the newest identity: each credential the provider emits is turned into a
 * secure context (`toTls`, default {@link tlsOptions}) and installed with `server.setSecureContext`. Connections
 * already open keep their certificate; new handshakes get the new one. Returns the unsubscribe function.
 *
 * @example
 * ```ts
 * const server = https.createServer({ ...tlsOptions(await identity.get()), requestCert: true }, app);
 * const stop = keepServerRotated(server, identity);
 * ```
 * @public
 */
export function keepServerRotated<C extends KeyCertCredential>(
  server: TlsServer,
  provider: CredentialProvider<C>,
  options?: RotationOptions<C>,
): () => void;
/** @public */
export function keepServerRotated<C extends Credential>(
  server: TlsServer,
  provider: CredentialProvider<C>,
  options: RotationOptions<C> & { toTls: (credential: C) => SecureContextOptions },
): () => void;
export function keepServerRotated<C extends Credential>(
  server: TlsServer,
  provider: CredentialProvider<C>,
  options: RotationOptions<C> = {},
): () => void {
  const toTls = toTlsOf(options);
  return provider.subscribe((credential) => {
    try {
      server.setSecureContext(toTls(credential));
    } catch (e) {
      report(
        options,
        new CoreError(
          'INVALID_ARGUMENT',
          'the new identity could not be installed on the TLS server (setSecureContext failed); it keeps the previous one',
          { cause: e },
        ),
      );
    }
  });
}

/** @public */
export interface ClientCertificateAgentsOptions {
  /** Trust anchors for the servers (default: Node's roots). */
  ca?: string | string[] | undefined;
  /** Keep connections open between requests. Default true. */
  keepAlive?: boolean | undefined;
  /** How long a replaced agent may finish in-flight requests before it is destroyed anyway, in ms. Default 30_000. */
  graceMs?: number | undefined;
  clock?: Clock | undefined;
}

/**
 * The `https.Agent`s of an mTLS client, one per client certificate (see {@link clientCertificateAgents}).
 * @public
 */
export interface ClientCertificateAgents {
  /**
   * The agent presenting `tls` (its `key` and `cert`; without them, none): made on first use and kept while that
   * certificate is the newest. The agent of a newer certificate retires the older ones: each is destroyed once its
   * requests have finished, or after `graceMs`. Asking for a retiring certificate again returns its agent while it
   * lives. A key that does not fit its certificate is `INVALID_ARGUMENT` (never quoting the key).
   */
  agentFor(tls?: Pick<TlsMaterial, 'key' | 'cert'>): Agent;
  /**
   * Opens a connection to the origin of `url` (https; plain http is left alone) on `agentFor(tls)`, for the next
   * request there: its TCP and TLS handshakes run while the caller prepares that request, instead of on its path
   * (two round trips to a server across a network). Nothing is opened when that agent has a free kept-alive connection
   * or is opening one. A connection that fails or waits unused for 10 s is closed quietly (the request then opens
   * its own and reports its own error); a waiting one never keeps the process alive, and `close()` closes it.
   * `INVALID_ARGUMENT` for a `url` that does not parse, `CLOSED` after `close()`.
   */
  preconnect(url: string | URL, tls?: Pick<TlsMaterial, 'key' | 'cert'>): void;
  /** Destroys every agent; later calls to `agentFor` fail with `CLOSED`. */
  close(): void;
}

/** How often a retiring agent is checked for idleness during its grace period. */
const RETIRE_POLL_MS = 100;

function isIdle(agent: Agent): boolean {
  const busy = (table: NodeJS.ReadOnlyDict<unknown[]>): boolean =>
    Object.values(table).some((list) => list !== undefined && list.length > 0);
  return !busy(agent.sockets) && !busy(agent.requests);
}

/**
 * The one client-certificate rotation mechanism of the SDK: an agent per client certificate, the replaced ones retired
 * once idle. The ZTS client and {@link rotatingAgent} are built on it.
 *
 * @example
 * ```ts
 * const agents = clientCertificateAgents({ ca: ztsCaPem });
 * const http = createHttpClient({ agent: () => agents.agentFor(tlsOptions(identity.peek()!)) });
 * agents.close();
 * ```
 * @public
 */
export function clientCertificateAgents(options: ClientCertificateAgentsOptions = {}): ClientCertificateAgents {
  const graceMs = options.graceMs ?? 30_000;
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw new CoreError('INVALID_ARGUMENT', `graceMs must be a non-negative number, got ${graceMs}`);
  }
  const clock = options.clock ?? systemClock;
  const keepAlive = options.keepAlive ?? true;
  const { ca } = options;
  let plain: PreconnectingAgent | undefined;
  /** By client certificate (key and cert PEM), oldest first: the newest is the current one, the others are retiring. */
  const agents = new Map<string, { agent: PreconnectingAgent; timer?: unknown }>();
  let closed = false;

  const destroy = (id: string): void => {
    const entry = agents.get(id);
    if (entry === undefined) return;
    if (entry.timer !== undefined) clock.clearTimeout(entry.timer);
    agents.delete(id);
    entry.agent.destroy();
  };
  const retire = (id: string): void => {
    const entry = agents.get(id);
    if (entry === undefined || entry.timer !== undefined) return;
    const deadline = clock.now() + graceMs;
    const check = (): void => {
      if (closed || agents.get(id) !== entry) return;
      entry.timer = undefined;
      if (isIdle(entry.agent) || clock.now() >= deadline) {
        destroy(id);
        return;
      }
      entry.timer = clock.setTimeout(check, Math.min(RETIRE_POLL_MS, Math.max(0, deadline - clock.now())));
    };
    entry.timer = null; // marks it retiring before the first check
    check();
  };

  const agentFor = (tls: Pick<TlsMaterial, 'key' | 'cert'> | undefined): PreconnectingAgent => {
    if (closed) throw new CoreError('CLOSED', 'the client certificate agents were closed');
    if (tls === undefined) {
      plain ??= makeHttpsAgent({ ca, keepAlive }, clock);
      return plain;
    }
    const id = `${tls.cert}\0${tls.key}`;
    const found = agents.get(id);
    if (found !== undefined) return found.agent;
    const agent = makeHttpsAgent({ ca, key: tls.key, cert: tls.cert, keepAlive }, clock);
    const olderIds = [...agents.keys()];
    agents.set(id, { agent });
    for (const older of olderIds) retire(older);
    return agent;
  };

  return {
    agentFor,
    preconnect(url, tls) {
      let target: URL;
      try {
        target = new URL(url);
      } catch (e) {
        throw new CoreError('INVALID_ARGUMENT', 'preconnect: the url does not parse', { cause: e });
      }
      agentFor(tls).preconnect(target);
    },
    close() {
      if (closed) return;
      closed = true;
      for (const id of [...agents.keys()]) destroy(id);
      plain?.destroy();
      plain = undefined;
    },
  };
}

/** An `https.Agent` for mTLS that follows rotation: `current()` gives the agent for the newest identity. @public */
export interface RotatingAgent {
  current(): Agent;
  close(): void;
}

/** @public */
export interface RotatingAgentOptions<C extends Credential = Credential>
  extends RotationOptions<C>,
    ClientCertificateAgentsOptions {}

/**
 * Waits for the provider's first credential and returns an mTLS agent holder on {@link clientCertificateAgents} that
 * swaps to a new `https.Agent` on each new credential (`toTls`, default {@link tlsOptions}; `ca` defaults to what
 * `toTls` gives). Take `current()` per request (it is cheap), so new connections present the newest client cert;
 * a replaced agent is destroyed once its in-flight requests finish, or after `graceMs`.
 *
 * @example
 * ```ts
 * const agents = await rotatingAgent(identity, { ca: ztsCaPem });
 * const http = createHttpClient({ agent: () => agents.current() }); // every request uses the newest client cert
 * agents.close();
 * ```
 * @public
 */
export async function rotatingAgent<C extends KeyCertCredential>(
  provider: CredentialProvider<C>,
  options?: RotatingAgentOptions<C>,
): Promise<RotatingAgent>;
/** @public */
export async function rotatingAgent<C extends Credential>(
  provider: CredentialProvider<C>,
  options: RotatingAgentOptions<C> & { toTls: (credential: C) => TlsMaterial },
): Promise<RotatingAgent>;
export async function rotatingAgent<C extends Credential>(
  provider: CredentialProvider<C>,
  options: RotatingAgentOptions<C> = {},
): Promise<RotatingAgent> {
  const toTls = toTlsOf(options) as (credential: C) => TlsMaterial;
  let agents: ClientCertificateAgents | undefined;
  let agent: Agent | undefined;
  let closed = false;
  const install = (credential: C): void => {
    try {
      const material = toTls(credential);
      agents ??= clientCertificateAgents({ ...options, ca: options.ca ?? material.ca });
      agent = agents.agentFor(material);
    } catch (e) {
      report(options, IdentityError.is(e) ? e : new CoreError('INVALID_ARGUMENT', 'toTls failed', { cause: e }));
    }
  };
  // Subscribe before the first get so a rotation that lands in between is not missed.
  const unsubscribe = provider.subscribe((credential) => {
    if (!closed) install(credential);
  });
  try {
    const first = await provider.get();
    if (agent === undefined) {
      const material = toTls(first);
      agents ??= clientCertificateAgents({ ...options, ca: options.ca ?? material.ca });
      agent = agents.agentFor(material);
    }
  } catch (e) {
    unsubscribe();
    agents?.close();
    throw e;
  }
  return {
    current(): Agent {
      if (closed || agent === undefined) throw new CoreError('CLOSED', 'the rotating agent was closed');
      return agent;
    },
    close(): void {
      if (closed) return;
      closed = true;
      unsubscribe();
      agents?.close();
    },
  };
}

// Secure contexts without a client certificate, by CA bundle (a few bundles per process at most; the oldest goes first).
const caContexts = new Map<string, SecureContext>();
const MAX_CA_CONTEXTS = 16;

function caContext(ca: string | string[] | undefined): SecureContext {
  const key = ca === undefined ? '' : Array.isArray(ca) ? `[${ca.join('\0')}]` : ca;
  let context = caContexts.get(key);
  if (context === undefined) {
    context = nodeTls().createSecureContext(ca === undefined ? {} : { ca });
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
  ca?: string | string[] | undefined;
  key?: string | undefined;
  cert?: string | undefined;
  keepAlive?: boolean | undefined;
}): Agent {
  return makeHttpsAgent(options);
}

/** {@link httpsAgent}, as the agent that can also open a connection ahead of its request. */
function makeHttpsAgent(options: Parameters<typeof httpsAgent>[0], clock: Clock = systemClock): PreconnectingAgent {
  const { ca, key, cert } = options;
  if ((key === undefined) !== (cert === undefined)) {
    throw new CoreError('INVALID_ARGUMENT', 'httpsAgent needs both key and cert for a client certificate, or neither');
  }
  if (key !== undefined && key.trim() === '') throw new CoreError('INVALID_ARGUMENT', 'httpsAgent: key is empty');
  if (cert !== undefined && cert.trim() === '') throw new CoreError('INVALID_ARGUMENT', 'httpsAgent: cert is empty');
  let secureContext: SecureContext;
  try {
    // Parsed once here: given key/cert instead, tls.connect would parse them again for every new connection. A context
    // without a client certificate depends on the CA bundle alone, so it is shared by every agent made for that bundle.
    secureContext =
      key === undefined
        ? caContext(ca)
        : nodeTls().createSecureContext(ca === undefined ? { key, cert } : { ca, key, cert });
  } catch (e) {
    // OpenSSL's message names the failing routine, never the key bytes.
    throw new CoreError(
      'INVALID_ARGUMENT',
      'httpsAgent: the key, cert or ca is not usable PEM (or key and cert do not match)',
      { cause: e },
    );
  }
  return preconnectingAgent({ keepAlive: options.keepAlive ?? true, secureContext }, clock);
}
