/**
 * The agent's OpenTelemetry metrics (the file's `metrics` section): core's `credentialMetrics` for each credential,
 * keyed by its configuration key, on a Meter of the process's global MeterProvider. The agent brings no SDK and no
 * exporter: whoever runs it registers one (an OpenTelemetry SDK loaded with `node --import`, configured by the
 * `OTEL_*` variables), exactly as for any Node service; without one, the API's no-op Meter records nothing.
 * `@opentelemetry/api` is an optional peer dependency, loaded only when the file asks for metrics.
 * @packageDocumentation
 */
import { type CredentialMetrics, credentialMetrics, IdentityError } from '@ecs-identity/core';
import type { AgentConfig } from './config-schema.js';

/** The Meter's name when the file does not give one. @internal */
export const DEFAULT_METER_NAME = 'ecs-identity-agent';

/** The metrics of the agent's credentials. @internal */
export interface AgentMetrics {
  /** The metrics of the credential `key` (made on first use), or undefined without a `metrics` section. */
  of(key: string): CredentialMetrics | undefined;
  /** Stops every credential's metrics (their gauge callbacks). */
  close(): void;
}

/**
 * The agent's metrics as the file's `metrics` section asks.
 * @throws IdentityError `INVALID_CONFIG` when metrics are asked for and `@opentelemetry/api` cannot be loaded
 * @internal
 */
export async function agentMetrics(section: AgentConfig['metrics']): Promise<AgentMetrics> {
  if (section === undefined) return { of: () => undefined, close: () => {} };
  let api: typeof import('@opentelemetry/api');
  try {
    api = await import('@opentelemetry/api');
  } catch (e) {
    throw new IdentityError(
      'INVALID_CONFIG',
      'metrics: @opentelemetry/api cannot be loaded; install it next to @ecs-identity/cli (npm i @opentelemetry/api), with an OpenTelemetry SDK for the process',
      { cause: e },
    );
  }
  const meter = api.metrics.getMeter(section.meterName ?? DEFAULT_METER_NAME);
  const made = new Map<string, CredentialMetrics>();
  return {
    of(key) {
      let m = made.get(key);
      if (m === undefined) {
        m = credentialMetrics({ meter, credential: key });
        made.set(key, m);
      }
      return m;
    },
    close() {
      for (const m of made.values()) m.close();
    },
  };
}
