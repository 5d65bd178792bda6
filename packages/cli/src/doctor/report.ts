/**
 * The doctor's findings: one row per check with a status, what was seen and, when something is off, what to do;
 * printed as a table (or JSON) with every text scrubbed of registered secrets.
 * @packageDocumentation
 */
import { IdentityError, scrubSecrets } from '@ecs-identity/core';

/**
 * `ok`: as it should be. `warn`: works, or could not be checked, but deserves a look (exit status stays 0).
 * `fail`: will not work as configured (exit status 1). `skip`: not checked (not asked for, or what it needs failed).
 * @internal
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One row of the report. @internal */
export interface CheckResult {
  /** Short and stable, e.g. `task role`, `consul iam:GetRole`. */
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found (names, ARNs, hosts: never a secret). */
  readonly detail: string;
  /** What to do about a `warn` or `fail`. */
  readonly hint?: string;
}

/** @internal */
export const result = (check: string, status: CheckStatus, detail: string, hint?: string): CheckResult => ({
  check,
  status,
  detail,
  ...(hint === undefined ? {} : { hint }),
});

/** `<CODE>: <message>` of an error, for a detail cell. @internal */
export function errorText(error: unknown): string {
  if (error instanceof IdentityError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** A failed check whose other results are absent: `{ check }` with the error as detail. @internal */
export const failedWith = (check: string, error: unknown, hint: string): { check: CheckResult } => ({
  check: result(check, 'fail', errorText(error), hint),
});

const ORDER: readonly CheckStatus[] = ['ok', 'warn', 'fail', 'skip'];

/** 1 when any check failed, else 0. @internal */
export function exitStatus(results: readonly CheckResult[]): number {
  return results.some((r) => r.status === 'fail') ? 1 : 0;
}

/** `3 ok, 1 warn, 1 fail, 2 skip`. @internal */
export function summaryLine(results: readonly CheckResult[]): string {
  return ORDER.map((s) => `${results.filter((r) => r.status === s).length} ${s}`).join(', ');
}

function oneLine(text: string): string {
  return scrubSecrets(text).replace(/\s*\n\s*/g, ' ');
}

/** The report as a table: `CHECK  STATUS  DETAIL`, each hint on the line below its row, then the summary. @internal */
export function renderTable(results: readonly CheckResult[]): string {
  const width = Math.max(5, ...results.map((r) => r.check.length));
  const lines = [`${'CHECK'.padEnd(width)}  STATUS  DETAIL`];
  for (const r of results) {
    lines.push(`${r.check.padEnd(width)}  ${r.status.toUpperCase().padEnd(6)}  ${oneLine(r.detail)}`);
    if (r.hint !== undefined) lines.push(`${''.padEnd(width)}  ${''.padEnd(6)}  hint: ${oneLine(r.hint)}`);
  }
  lines.push('', summaryLine(results));
  return `${lines.join('\n')}\n`;
}

/** The report as one JSON document: `{ "status": "ok" | "fail", "checks": [...] }`. @internal */
export function renderJson(results: readonly CheckResult[]): string {
  const checks = results.map((r) => ({
    check: r.check,
    status: r.status,
    detail: oneLine(r.detail),
    ...(r.hint === undefined ? {} : { hint: oneLine(r.hint) }),
  }));
  return `${JSON.stringify({ status: exitStatus(results) === 0 ? 'ok' : 'fail', checks })}\n`;
}
