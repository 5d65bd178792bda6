/**
 * The one-line error report: `ecs-identity: <command>: <code>: <message>`. Multi-line messages (the metadata
 * endpoint listing) are folded onto one line and every registered secret is scrubbed, so a log collector that
 * reads stderr line by line sees one record and no secret. Pure and browser-safe.
 * @packageDocumentation
 */
import { IdentityError, scrubSecrets } from '@ecs-identity/core';

/** The program name in messages. @public */
export const PROGRAM = 'ecs-identity';

/** The longest message kept (a server's error page must not flood the log). */
const MAX_MESSAGE = 2000;

/** Folds whitespace runs that contain a line break into one space; trims; caps the length. @public */
export function oneLine(text: string): string {
  const folded = text
    .replace(/\s*[\r\n]+\s*/g, ' ')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point here
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .trim();
  return folded.length > MAX_MESSAGE ? `${folded.slice(0, MAX_MESSAGE)}...` : folded;
}

/** The error's stable code (`IdentityError.code`), else `ERROR`. @public */
export function errorCode(error: unknown): string {
  return error instanceof IdentityError ? error.code : 'ERROR';
}

/** An error's message as the CLI prints it anywhere: every registered secret scrubbed, on one line. @internal */
export function errorMessage(error: unknown): string {
  return oneLine(scrubSecrets(error instanceof Error ? error.message : String(error)));
}

/**
 * Formats an error for stderr: `ecs-identity: consul login: CONSUL_PERMISSION_DENIED: <message>` (no newline).
 * @example
 * ```ts
 * process.stderr.write(`${errorLine(['athenz', 'post'], e)}\n`);
 * ```
 * @public
 */
export function errorLine(command: readonly string[], error: unknown, program: string = PROGRAM): string {
  const where = command.length > 0 ? `${command.join(' ')}: ` : '';
  return `${program}: ${where}${errorCode(error)}: ${errorMessage(error) || 'unknown error'}`;
}
