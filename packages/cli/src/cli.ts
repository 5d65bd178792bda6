/**
 * The dispatcher: finds the command, parses its flags, prints help and usage errors, runs it and maps the outcome
 * to an exit status (0 ok, 1 failure, 2 usage). Browser-safe: the process is reached only through {@link CliIo}.
 * @packageDocumentation
 */
import { safeLogger } from '@ecs-identity/core';
import { type CliIo, type Command, type CommandGroup, isGroup, type Program } from './command.js';
import { errorLine } from './error-line.js';
import { type FlagSpecs, parseFlags, UsageError } from './flags.js';
import { renderGroupHelp, renderHelp } from './help.js';
import { LOG_LEVELS, type LogLevel, lineLogger } from './line-logger.js';

/** Exit statuses. @public */
export const EXIT_OK = 0;
/** @public */
export const EXIT_FAILURE = 1;
/** @public */
export const EXIT_USAGE = 2;

/**
 * Flags every command takes. A command may declare its own `log-level` to change the default: one-shot commands log
 * errors only (their failure is the final error line), the long-running `athenz run` and `consul run` log warnings too.
 * @public
 */
export const COMMON_FLAGS: FlagSpecs = {
  'log-level': {
    type: 'string',
    placeholder: 'LEVEL',
    help: 'log to stderr at this level and above: debug, info, warn, error',
    env: ['ECS_IDENTITY_LOG_LEVEL'],
    default: 'error',
  },
};

/** The command's flags plus the common ones (the command's own spec of a common flag wins). */
function allFlags(command: Command): FlagSpecs {
  return {
    ...command.flags,
    ...Object.fromEntries(Object.entries(COMMON_FLAGS).map(([k, v]) => [k, command.flags[k] ?? v])),
  };
}

function isHelp(arg: string | undefined): boolean {
  return arg === '-h' || arg === '-help' || arg === '--help' || arg === 'help';
}

function topHelp(program: Program): string {
  return renderGroupHelp(
    `${program.name} <command> [subcommand] [flags]`,
    program.description,
    program.commands.map((c) => ({
      name: isGroup(c) ? `${c.name} ${c.commands.map((s) => s.name).join('|')}` : c.name,
      summary: c.summary,
    })),
  );
}

function commandHelp(program: Program, path: readonly string[], command: Command): string {
  return renderHelp(
    `${program.name} ${path.join(' ')} [flags]`,
    command.description,
    allFlags(command),
    command.exitStatus,
  );
}

function groupHelp(program: Program, group: CommandGroup): string {
  return renderGroupHelp(`${program.name} ${group.name} <command> [flags]`, group.description, group.commands);
}

/** Finds the command named by the first arguments; returns it, its path and the remaining arguments. */
function resolve(
  program: Program,
  args: readonly string[],
): { command: Command; path: string[]; rest: readonly string[] } | { group: CommandGroup; rest: readonly string[] } {
  const [first, second] = args;
  const top = program.commands.find((c) => c.name === first);
  if (top === undefined) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  if (!isGroup(top)) return { command: top, path: [top.name], rest: args.slice(1) };
  if (second === undefined || second.startsWith('-')) {
    const fallback = top.commands.find((c) => c.name === top.defaultCommand);
    // The group's own help stays reachable: `ecs-identity agent -h` lists its subcommands.
    if (fallback === undefined || isHelp(second)) return { group: top, rest: args.slice(1) };
    return { command: fallback, path: [top.name, fallback.name], rest: args.slice(1) };
  }
  const sub = top.commands.find((c) => c.name === second);
  if (sub === undefined) {
    throw new UsageError(
      `unknown command ${JSON.stringify(`${top.name} ${second}`)} (one of: ${top.commands.map((c) => c.name).join(', ')})`,
    );
  }
  return { command: sub, path: [top.name, sub.name], rest: args.slice(2) };
}

/**
 * Runs the program with `args` (without the node and script paths) and returns the exit status. Never throws.
 *
 * @example
 * ```ts
 * process.exitCode = await runCli(program, process.argv.slice(2), nodeIo());
 * ```
 * @public
 */
export async function runCli(program: Program, args: readonly string[], io: CliIo): Promise<number> {
  const first = args[0];
  if (first === undefined) {
    io.stderr(topHelp(program));
    return EXIT_USAGE;
  }
  if (isHelp(first) && args.length === 1) {
    io.stdout(topHelp(program));
    return EXIT_OK;
  }
  if (first === '-version' || first === '--version' || first === 'version') {
    io.stdout(`${program.name} ${program.version}\n`);
    return EXIT_OK;
  }
  // `ecs-identity help consul login` is `ecs-identity consul login -h`.
  const wanted = isHelp(first) ? [...args.slice(1), '-h'] : args;

  let found: ReturnType<typeof resolve>;
  try {
    found = resolve(program, wanted);
  } catch (e) {
    io.stderr(`${errorLine([], e, program.name)}\n\n${topHelp(program)}`);
    return EXIT_USAGE;
  }
  if ('group' in found) {
    if (isHelp(found.rest[0])) {
      io.stdout(groupHelp(program, found.group));
      return EXIT_OK;
    }
    const message = found.rest[0] === undefined ? 'a subcommand is required' : `unexpected ${found.rest[0]}`;
    io.stderr(
      `${errorLine([found.group.name], new UsageError(message), program.name)}\n\n${groupHelp(program, found.group)}`,
    );
    return EXIT_USAGE;
  }

  const { command, path } = found;
  const usage = (e: unknown): number => {
    io.stderr(`${errorLine(path, e, program.name)}\n\n${commandHelp(program, path, command)}`);
    return EXIT_USAGE;
  };
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(allFlags(command), found.rest, io.env);
    if (parsed.help) {
      io.stdout(commandHelp(program, path, command));
      return EXIT_OK;
    }
    if (parsed.rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.rest[0])}`);
    if (!LOG_LEVELS.includes(parsed.values['log-level'] as LogLevel)) {
      throw new UsageError(`-log-level must be one of ${LOG_LEVELS.join(', ')}`);
    }
  } catch (e) {
    return usage(e);
  }

  const logger = safeLogger(
    lineLogger(io.stderr, `${program.name}: ${path.join(' ')}`, parsed.values['log-level'] as LogLevel),
  );
  try {
    const status = await command.run({
      io,
      values: parsed.values,
      sources: parsed.sources,
      command: path,
      logger,
    });
    return status ?? EXIT_OK;
  } catch (e) {
    if (e instanceof UsageError) return usage(e);
    io.stderr(`${errorLine(path, e, program.name)}\n`);
    return EXIT_FAILURE;
  }
}
