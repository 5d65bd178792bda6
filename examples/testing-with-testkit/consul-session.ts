/**
 * The application code under test: a tiny module of an app's own that opens a Consul session with the task's IAM
 * role (what a service does at startup) and closes it (logs the token out) on shutdown. Nothing here knows about
 * tests: it reads the task's environment like any code running in ECS.
 */
import { type ConsulToken, consulAclClient, consulLogin } from '@ecs-identity/consul-login';

export interface ConsulSession {
  /** The headers for Consul's HTTP API. */
  readonly headers: Readonly<Record<string, string>>;
  /** The service the token was bound to. */
  readonly service: string | undefined;
  /** Logs the token out. */
  close(): Promise<void>;
}

export async function openConsulSession(options: {
  /** The task's environment (ECS agent variables, CONSUL_HTTP_ADDR). Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** The auth method's ServerIDHeaderValue, as configured on the Consul servers. */
  serverId: string;
}): Promise<ConsulSession> {
  const env = options.env ?? process.env;
  const token: ConsulToken = await consulLogin({ env, aws: { serverIdHeaderValue: options.serverId } });
  return {
    headers: { 'X-Consul-Token': token.secretId },
    service: token.serviceIdentities[0]?.serviceName,
    close: () => consulAclClient({ env }).logout(token),
  };
}
