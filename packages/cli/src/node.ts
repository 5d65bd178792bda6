/**
 * `@ecs-identity/cli/node`: the `ecs-identity` commands and `main()`, which runs them against the real process.
 * @packageDocumentation
 */
import { runCli } from './cli.js';
import type { CliIo } from './command.js';
import { nodeIo } from './node-io.js';
import { program } from './program.js';

export * from './athenz-commands.js';
export * from './consul-commands.js';
export * from './index.js';
export * from './metadata-command.js';
export * from './node-io.js';
export * from './program.js';

/**
 * Runs `ecs-identity` with `args` and returns the exit status (never throws).
 * @example
 * ```ts
 * import { main } from '@ecs-identity/cli/node';
 * process.exitCode = await main(['metadata']);
 * ```
 * @public
 */
export function main(args: readonly string[] = process.argv.slice(2), io: CliIo = nodeIo()): Promise<number> {
  return runCli(program, args, io);
}
