/**
 * `@ecs-identity/cli`, browser-safe part: the Go-style flag parser, help rendering, the one-line error format and
 * the dispatcher, all pure. The commands themselves (files, signals, TLS) are in `./node`; the binary is
 * `ecs-identity`.
 * @packageDocumentation
 */
export * from './cli.js';
export * from './command.js';
export * from './error-line.js';
export * from './flags.js';
export * from './help.js';
export * from './line-logger.js';
export * from './version.js';
