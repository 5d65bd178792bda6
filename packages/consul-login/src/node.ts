/**
 * `@ecs-identity/consul-login/node`: Node-only additions: the token sink file, the Consul CA / client certificate
 * from the CLI's environment, the SIGTERM logout helper, and `consulLogin` / `consulTokenProvider` that wire them in.
 * @packageDocumentation
 */
import { readFile } from 'node:fs/promises';
import { type ConsulTlsOptions, consulTlsAgent } from './consul-tls.js';
import type { ConsulToken } from './consul-token.js';
import { consulLogin as browserSafeConsulLogin, type ConsulLoginOptions } from './login.js';
import {
  consulTokenProvider as browserSafeConsulTokenProvider,
  type ConsulTokenProvider,
  type ConsulTokenProviderOptions,
} from './token-provider.js';
import { type TokenSinkOptions, tokenFileSink } from './token-sink.js';

export { type ConsulTlsOptions, consulTlsAgent } from './consul-tls.js';
export {
  type LogoutFailure,
  type LogoutOnSignalOptions,
  type LogoutTarget,
  logoutAll,
  logoutOnSigterm,
} from './sigterm-logout.js';
export { type TokenSinkOptions, tokenFileSink } from './token-sink.js';

/** Node options: TLS from files / `CONSUL_CACERT`, and the sink file. @public */
export interface NodeLoginOptions {
  /** TLS for https Consul addresses. Default: from `CONSUL_CACERT`, `CONSUL_CLIENT_CERT`, `CONSUL_CLIENT_KEY`. */
  tls?: Omit<ConsulTlsOptions, 'env'> | undefined;
  /** Write the SecretID here after each login (atomic, mode 0600 unless `sinkOptions.mode` says otherwise). */
  sinkFile?: string | undefined;
  sinkOptions?: TokenSinkOptions | undefined;
}

function withNode<T extends ConsulLoginOptions>(options: T & NodeLoginOptions): T {
  const { tls, sinkFile, sinkOptions, ...rest } = options;
  const agent =
    rest.agent ??
    (rest.http === undefined && rest.acl === undefined
      ? consulTlsAgent({ ...tls, ...(rest.env ? { env: rest.env } : {}) })
      : undefined);
  const fileSink = sinkFile === undefined ? undefined : tokenFileSink(sinkFile, sinkOptions);
  const userSink = rest.sink;
  return {
    ...(rest as unknown as T),
    ...(agent === undefined ? {} : { agent }),
    // The container credentials token file (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) is read with fs.
    containerCredentials: { readFile: (path: string) => readFile(path, 'utf8'), ...rest.containerCredentials },
    ...(fileSink === undefined
      ? {}
      : {
          sink: async (token: ConsulToken) => {
            await fileSink(token);
            await userSink?.(token);
          },
        }),
  };
}

/**
 * `consulLogin` with Node extras: TLS from `CONSUL_CACERT` (and client cert/key), the sink file, and the container
 * credentials token file read with `fs`.
 *
 * @example
 * ```ts
 * import { consulLogin } from '@ecs-identity/consul-login/node';
 * const token = await consulLogin({ sinkFile: '/consul/service-token' }); // CONSUL_HTTP_ADDR, CONSUL_CACERT
 * ```
 * @public
 */
export function consulLogin(options: ConsulLoginOptions & NodeLoginOptions = {}): Promise<ConsulToken> {
  return browserSafeConsulLogin(withNode(options));
}

/**
 * `consulTokenProvider` with the same Node extras as {@link consulLogin} (the sink file is rewritten on each login).
 * @public
 */
export function consulTokenProvider(options: ConsulTokenProviderOptions & NodeLoginOptions = {}): ConsulTokenProvider {
  return browserSafeConsulTokenProvider(withNode(options));
}
