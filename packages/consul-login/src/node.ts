/**
 * `@ecs-identity/consul-login/node`: the Node-only additions: the token sink file and the SIGTERM logout. (In Node,
 * the main entry's `consulLogin` and `consulTokenProvider` already honour `CONSUL_CACERT` and the token files.)
 * @packageDocumentation
 */
export { type LogoutOnSignalOptions, logoutOnSigterm } from './sigterm-logout.js';
export { type TokenSinkOptions, tokenFileSink } from './token-sink.js';
