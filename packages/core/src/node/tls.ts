// CONTRACT STUB (owned by the core-node helper): replace bodies, keep the exported names and shapes.
import type { Agent } from 'node:https';
import type { SecureContextOptions, Server as TlsServer } from 'node:tls';
import type { Credential, CredentialProvider } from '../credential.js';
/** Key, cert, CA in PEM, as node:tls wants them. @public */
export interface TlsMaterial {
  key: string;
  cert: string;
  ca?: string | string[];
}
/** Keeps a tls.Server / https.Server on the newest identity via setSecureContext; returns the unsubscribe. @public */
export declare function keepServerRotated<C extends Credential>(
  server: TlsServer,
  provider: CredentialProvider<C>,
  toTls: (credential: C) => SecureContextOptions,
): () => void;
/** An https.Agent for mTLS that follows rotation: `current()` gives the agent for the newest identity. @public */
export interface RotatingAgent {
  current(): Agent;
  close(): void;
}
/** @public */
export declare function rotatingAgent<C extends Credential>(
  provider: CredentialProvider<C>,
  toTls: (credential: C) => TlsMaterial,
  options?: { ca?: string | string[] },
): Promise<RotatingAgent>;
/** An https.Agent with a custom CA and optional client cert. @public */
export declare function httpsAgent(options: {
  ca?: string | string[];
  key?: string;
  cert?: string;
  keepAlive?: boolean;
}): Agent;
