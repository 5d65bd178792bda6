/**
 * The agent's state, as the health endpoint, the status file and `ecs-identity agent health` see it: each
 * credential's state and expiry, each template's last render. Readiness is judged at a given time from the expiry
 * dates, so a reader of an old status file does not take an expired credential for a valid one. No secret is ever
 * part of it: error messages are scrubbed, and credentials appear only by their printable summary.
 * @packageDocumentation
 */

import { errorCode, errorMessage } from '../error-line.js';

/** A credential's state. @public */
export type CredentialState = 'pending' | 'valid' | 'refresh-failed' | 'expired';

/** @public */
export interface CredentialStatus {
  state: CredentialState;
  /** ISO 8601; absent for a credential that does not expire (a Consul token without TTL). */
  expiresAt?: string;
  /** When the current credential was obtained. */
  updatedAt?: string;
  /** Printable facts (accessor id, serial, scope...). */
  facts?: Record<string, unknown>;
  lastError?: { code: string; message: string; at: string };
}

/** @public */
export interface TemplateStatus {
  state: 'pending' | 'rendered' | 'failed';
  destination: string;
  renderedAt?: string;
  /** The credential keys its last render read. */
  uses?: string[];
  lastError?: { code: string; message: string; at: string };
}

/** The status document (`/status`, the status file). @public */
export interface AgentStatus {
  /** `starting` until everything was obtained and rendered once, `running`, then `stopping`. */
  phase: 'starting' | 'running' | 'stopping';
  pid: number;
  updatedAt: string;
  /** The status file is rewritten at least this often while the agent lives. */
  heartbeatSeconds: number;
  credentials: Record<string, CredentialStatus>;
  templates: Record<string, TemplateStatus>;
}

/** The verdict on a status at a given time. @public */
export interface Readiness {
  ready: boolean;
  /** Why not (one line each), empty when ready. */
  reasons: string[];
}

function describeError(error: unknown, now: Date): { code: string; message: string; at: string } {
  return { code: errorCode(error), message: errorMessage(error), at: now.toISOString() };
}

/**
 * Ready when the agent is past start-up, every credential is valid at `nowMs` (a failed refresh is fine while the
 * credential has not expired) and every template has rendered without a failure since.
 * @public
 */
export function readiness(status: AgentStatus, nowMs: number): Readiness {
  const reasons: string[] = [];
  if (status.phase !== 'running') reasons.push(`the agent is ${status.phase}`);
  for (const [key, c] of Object.entries(status.credentials)) {
    if (c.state === 'pending') reasons.push(`${key} has not been obtained yet`);
    else if (c.state === 'expired' || (c.expiresAt !== undefined && Date.parse(c.expiresAt) <= nowMs)) {
      reasons.push(`${key} expired at ${c.expiresAt ?? '?'}`);
    }
  }
  for (const [name, t] of Object.entries(status.templates)) {
    if (t.state === 'pending') reasons.push(`template ${name} has not been rendered yet`);
    if (t.state === 'failed') reasons.push(`template ${name} failed: ${t.lastError?.message ?? 'unknown error'}`);
  }
  return { ready: reasons.length === 0, reasons };
}

/** The live status, updated by the agent. @internal */
export class StatusBoard {
  readonly status: AgentStatus;
  private readonly listeners = new Set<() => void>();

  constructor(
    credentialKeys: readonly string[],
    templates: readonly { name: string; destination: string }[],
    heartbeatSeconds: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.status = {
      phase: 'starting',
      pid: process.pid,
      updatedAt: this.now().toISOString(),
      heartbeatSeconds,
      credentials: Object.fromEntries(credentialKeys.map((k) => [k, { state: 'pending' }])),
      templates: Object.fromEntries(
        templates.map((t) => [t.name, { state: 'pending', destination: t.destination } satisfies TemplateStatus]),
      ),
    };
  }

  /** Called after each change (the status file writer). */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    this.status.updatedAt = this.now().toISOString();
    for (const l of this.listeners) l();
  }

  setPhase(phase: AgentStatus['phase']): void {
    this.status.phase = phase;
    this.changed();
  }

  credentialObtained(key: string, expiresAt: Date | undefined, facts: Record<string, unknown>): void {
    this.status.credentials[key] = {
      state: 'valid',
      ...(expiresAt ? { expiresAt: expiresAt.toISOString() } : {}),
      updatedAt: this.now().toISOString(),
      facts,
    };
    this.changed();
  }

  credentialFailed(key: string, error: unknown): void {
    const c = this.status.credentials[key];
    if (!c) return;
    if (c.state === 'valid') c.state = 'refresh-failed';
    c.lastError = describeError(error, this.now());
    this.changed();
  }

  credentialExpired(key: string): void {
    const c = this.status.credentials[key];
    if (!c) return;
    c.state = 'expired';
    this.changed();
  }

  templateRendered(name: string, uses: readonly string[]): void {
    const t = this.status.templates[name];
    if (!t) return;
    t.state = 'rendered';
    t.renderedAt = this.now().toISOString();
    t.uses = [...uses].sort();
    delete t.lastError;
    this.changed();
  }

  templateFailed(name: string, error: unknown): void {
    const t = this.status.templates[name];
    if (!t) return;
    t.state = 'failed';
    t.lastError = describeError(error, this.now());
    this.changed();
  }

  /** Marks the status as current without a change (the heartbeat). */
  touch(): void {
    this.changed();
  }
}
