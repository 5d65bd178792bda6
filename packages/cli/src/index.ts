/**
 * `@ecs-identity/cli`: the `ecs-identity` binary is the product; this entry is what embedding it needs. `main()` runs
 * a command against an {@link CliIo} (by default the real process, {@link nodeIo}) and resolves with the exit status.
 * Node-only. The flag parser, help and dispatcher are internal.
 * @packageDocumentation
 */
import { runCli } from './cli.js';
import type { CliIo } from './command.js';
import { nodeIo } from './node-io.js';
import { program } from './program.js';

export type { CliIo } from './command.js';
export { nodeIo } from './node-io.js';

/**
 * Runs `ecs-identity` with `args` and returns the exit status (never throws).
 * @example
 * ```ts
 * import { main } from '@ecs-identity/cli';
 * process.exitCode = await main(['metadata']);
 * ```
 * @public
 */
export function main(args: readonly string[] = process.argv.slice(2), io: CliIo = nodeIo()): Promise<number> {
  return runCli(program, args, io);
}
