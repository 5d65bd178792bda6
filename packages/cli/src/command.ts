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
  /** Resolves with the signal name when the process is asked to stop (SIGTERM / SIGINT). */
  waitForStop(): Promise<string>;
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
  /** Returns the exit status (default 0); throws to fail with status 1 (2 for a `UsageError`). */
  run(context: CommandContext): Promise<number | undefined>;
}

/** A command with subcommands (`consul`, `athenz`). @public */
export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly description: string;
  readonly commands: readonly Command[];
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

/** Log levels, lowest first. @public */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** @public */
export type LogLevel = (typeof LOG_LEVELS)[number];

function detail(value: unknown): string {
  if (value === undefined) return '';
  try {
    const text = JSON.stringify(value, (_k, v: unknown) =>
      v instanceof Error ? { name: v.name, message: v.message, code: (v as { code?: unknown }).code } : v,
    );
    return text === undefined || text === '{}' ? '' : ` ${text}`;
  } catch {
    return '';
  }
}

/**
 * A {@link Logger} that writes one line per record: `ecs-identity: <command>: <level>: <msg> <json fields>`.
 * The SDK wraps every logger in `safeLogger`, so secrets are scrubbed before they get here.
 * @public
 */
export function lineLogger(write: (line: string) => void, prefix: string, level: LogLevel): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const at =
    (l: LogLevel) =>
    (objOrMsg: unknown, msg?: string): void => {
      if (LOG_LEVELS.indexOf(l) < threshold) return;
      const text = typeof objOrMsg === 'string' ? objOrMsg : (msg ?? '');
      const fields = typeof objOrMsg === 'string' ? '' : detail(objOrMsg);
      write(`${prefix}: ${l}: ${`${text}${fields}`.replace(/\s*[\r\n]+\s*/g, ' ')}\n`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
