// CONTRACT STUB (owned by the core-transport helper): replace bodies, keep the exported names and shapes.
/** Compatible with pino (`(obj, msg)` or `(msg)`) and console. @public */
export interface Logger {
  debug(objOrMsg: unknown, msg?: string): void;
  info(objOrMsg: unknown, msg?: string): void;
  warn(objOrMsg: unknown, msg?: string): void;
  error(objOrMsg: unknown, msg?: string): void;
}
/** The default: logs nothing. @public */
export declare const silentLogger: Logger;
/** Wraps a logger so that every registered secret is scrubbed from what reaches it. @public */
export declare function safeLogger(logger: Logger | undefined): Logger;
