/**
 * What commands print on stdout: one JSON document per result (pretty for `metadata`, one line per event for the
 * others, so `jq` and line-oriented log shippers both work). Never a secret: callers pass plain facts.
 * @packageDocumentation
 */
import type { CliIo } from './command.js';

/** Prints `value` as one line of JSON. @internal */
export function printLine(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value)}\n`);
}

/** Prints `value` as indented JSON. @internal */
export function printPretty(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}
