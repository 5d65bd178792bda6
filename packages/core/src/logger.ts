/**
 * The logging seam: any object with pino-style `debug/info/warn/error` methods (pino itself, console, winston's
 * levels) is a {@link Logger}. The SDK logs nothing unless given one, and always logs through {@link safeLogger}.
 *
 * @example
 * ```ts
 * const provider = consulTokenProvider({ logger: pino() });   // or { logger: console }
 * ```
 * @packageDocumentation
 */
import { redact, scrubSecrets } from './secrets.js';

/** Compatible with pino (`(obj, msg)` or `(msg)`) and console. @public */
export interface Logger {
  debug(objOrMsg: unknown, msg?: string): void;
  info(objOrMsg: unknown, msg?: string): void;
  warn(objOrMsg: unknown, msg?: string): void;
  error(objOrMsg: unknown, msg?: string): void;
}

const noop = (): void => {};

/** The default: logs nothing. @public */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const safeLoggers = new WeakSet<Logger>();

/**
 * Wraps a logger so that every registered secret is scrubbed from what reaches it: from string arguments, and from
 * object fields recursively (Error messages, stacks and causes included; credential objects show their secret fields
 * as REDACTED). The wrapper never throws, even when the logger or an object's getter does. `undefined` gives
 * {@link silentLogger}; wrapping twice is a no-op.
 *
 * @example
 * ```ts
 * const log = safeLogger(options.logger);
 * log.warn({ err, url: safeUrl(url) }, 'refresh failed; serving the cached token');
 * ```
 * @public
 */
export function safeLogger(logger: Logger | undefined): Logger {
  if (logger === undefined || logger === null) return silentLogger;
  if (logger === silentLogger || safeLoggers.has(logger)) return logger;
  const wrapped = {} as Logger;
  for (const level of LEVELS) {
    wrapped[level] = (objOrMsg: unknown, msg?: string): void => {
      try {
        const method = (logger as unknown as Record<string, unknown>)[level];
        if (typeof method !== 'function') return;
        const first = typeof objOrMsg === 'string' ? scrubSecrets(objOrMsg) : redact(objOrMsg);
        // Keep the arity: pino treats (obj) and (obj, undefined) alike, console prints the extra "undefined".
        if (msg === undefined) method.call(logger, first);
        else method.call(logger, first, scrubSecrets(String(msg)));
      } catch {
        // A logging failure must never break credential refresh.
      }
    };
  }
  Object.freeze(wrapped);
  safeLoggers.add(wrapped);
  return wrapped;
}
