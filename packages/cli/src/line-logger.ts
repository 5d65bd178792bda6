/**
 * The CLI's logger: one line per record on stderr, filtered by level, for the SDK's pino-style log calls.
 * @packageDocumentation
 */
import type { Logger } from '@ecs-identity/core';

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
