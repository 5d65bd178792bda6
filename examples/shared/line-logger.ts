/**
 * A one-line-per-event logger for the examples: `level message key=value ...`. The SDK wraps whatever logger it is
 * given with core's safeLogger, so registered secrets never reach it; pino or console work the same way.
 * @packageDocumentation
 */
import type { Logger } from '@ecs-identity/core';

function fields(obj: unknown): string {
  if (obj === null || typeof obj !== 'object') return '';
  return Object.entries(obj as Record<string, unknown>)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('');
}

/** A {@link Logger} writing `level message key=value` lines with `write` (default: stderr). @public */
export function lineLogger(write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  const at =
    (level: string) =>
    (objOrMsg: unknown, msg?: string): void => {
      if (typeof objOrMsg === 'string') write(`${level} ${objOrMsg}`);
      else write(`${level} ${msg ?? ''}${fields(objOrMsg)}`);
    };
  return { debug: () => {}, info: at('info'), warn: at('warn'), error: at('error') };
}
