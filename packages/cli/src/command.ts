/**
 * The shapes of commands and of the world they run in (arguments, environment, output streams, stop signal), so
 * the dispatcher and the commands can be driven from tests without a process. Browser-safe (types and a logger).
 * @packageDocumentation
 */
import type { Logger } from '@ecs-identity/core';
import type { FlagSpecs, FlagValue } from './flags.js';

/** What a command may touch of its process. @public */
export interface CliIo {
  /** The environment (`process.env`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Writes to stdout as is. */
  stdout(text: string): void;
  /** Writes to stderr as is. */
  stderr(text: string): void;
  /**
   * Resolves with the signal name when the process is asked to stop (SIGTERM / SIGINT), and keeps the process alive
   * while it waits. When `until` aborts, it stops waiting (the promise never settles) and lets the process exit.
   */
  waitForStop(until?: AbortSignal): Promise<string>;
}

/** What a command's `run` gets. @public */
export interface CommandContext {
  readonly io: CliIo;
  /** The parsed flags (environment variables and defaults applied). */
  readonly values: Readonly<Record<string, FlagValue>>;
  /** Where each value came from: `flag`, `env:<NAME>` or `default`. */
  readonly sources: Readonly<Record<string, string>>;
  /** The command path, e.g. `['consul', 'login']`. */
  readonly command: readonly string[];
  /** Writes `ecs-identity: <command>: <level>: ...` lines to stderr at or above `-log-level`. */
  readonly logger: Logger;
}

/** A leaf command (`metadata`, `consul login`). @public */
export interface Command {
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** The paragraph(s) of its help text. */
  readonly description: string;
  readonly flags: FlagSpecs;
  /** The exit statuses line(s) ending its help, when they say more than the usual 0 / 1 / 2. */
  readonly exitStatus?: string;
  /** Returns the exit status (default 0); throws to fail with status 1 (2 for a `UsageError`). */
  run(context: CommandContext): Promise<number | undefined>;
}

/** A command with subcommands (`consul`, `athenz`). @public */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly commands: readonly Command[];
  /**
   * The subcommand run when the group is given flags only (`ecs-identity agent -config F` is `agent run -config F`).
   * Without one, a subcommand is required.
   */
  readonly defaultCommand?: string;
}

/** The whole program: its top-level commands and groups. @public */
export interface Program {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly commands: readonly (Command | CommandGroup)[];
}

/** True for a {@link CommandGroup}. @public */
export function isGroup(c: Command | CommandGroup): c is CommandGroup {
  return 'commands' in c;
}
