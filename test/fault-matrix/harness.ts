/**
 * The fault matrix, table-driven: every upstream the SDK calls × every fault the testkit fakes can inject, each run
 * persistently (every request fails) and once (the next request only), through the public API. A case passes when:
 * - the call ends in a success or a typed `IdentityError` within the bound the upstream documents for the options the
 *   matrix passed (plus a fixed allowance for a loaded machine), never later;
 * - a fault that happens once is recovered from: by the same call where the operation retries and the fault is
 *   transient (statuses, resets, silence, cut-short bodies), else by the next call;
 * - nothing leaks: no unhandled rejection, and no secret any fake issued (keys, tokens, SecretIDs, the task's
 *   credentials endpoint token) in the error or its causes on any formatting path.
 * Each file prints its part of the table (upstream × fault → outcome, time to settle).
 */
import { IdentityError } from '@ecs-identity/core';
import { afterAll, expect, it } from 'vitest';
import { leakedSecrets } from '../../test-support/secret-scan.js';

const MiB = 1024 * 1024;

/** A fault in the shared vocabulary; each upstream turns it into its fake's own `setFault` argument. */
export interface MatrixFault {
  status?: number;
  retryAfter?: string;
  resetMidBody?: boolean;
  hang?: boolean;
  truncate?: boolean;
  malformed?: boolean;
  padTo?: number;
}

export const FAULTS = {
  'HTTP 500': { status: 500 },
  'HTTP 503 + Retry-After: 3600': { status: 503, retryAfter: '3600' },
  'HTTP 429': { status: 429 },
  'reset mid-response': { resetMidBody: true },
  'hang after accept': { hang: true },
  'truncated body': { truncate: true },
  'malformed body': { malformed: true },
  '10 MiB body': { padTo: 10 * MiB },
} as const satisfies Record<string, MatrixFault>;

export type FaultName = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

/** Faults a retrying operation must get over within the same call when they happen once. */
const TRANSIENT: ReadonlySet<FaultName> = new Set([
  'HTTP 500',
  'HTTP 429',
  'reset mid-response',
  'hang after accept',
  'truncated body',
]);

/** Faults the connection reports as it happens: they must fail as NETWORK at once, never by waiting for a timeout. */
const SEEN_AT_ONCE: ReadonlySet<FaultName> = new Set(['reset mid-response', 'truncated body']);

/** The codes of an error and of everything under it (causes, an AggregateError's errors). */
function codesIn(error: unknown, depth = 0): string[] {
  if (!(error instanceof Error) || depth > 8) return [];
  const own = error instanceof IdentityError ? [error.code] : [];
  const inner = error instanceof AggregateError ? error.errors.flatMap((e) => codesIn(e, depth + 1)) : [];
  return [...own, ...inner, ...codesIn(error.cause, depth + 1)];
}

/** Time a loaded 2-core machine may add to a bound (the bounds themselves are computed from the options). */
export const ALLOWANCE_MS = 2500;

export interface Upstream {
  /** e.g. `ZTS register`. */
  name: string;
  /** The public call that reaches the upstream, e.g. `athenzIdentityProvider().get()`. */
  via: string;
  /** Whether the operation retries by itself (then transient once-faults must be recovered in the same call). */
  retries: boolean;
  /** The documented bound of one `run()`, computed from the options passed. */
  boundMs: number;
  /** Prepares a fresh case (new providers...); optional. */
  setup?(): Promise<void>;
  /** Injects the fault into the right fake for the upstream's requests (`times` undefined: every request). */
  inject(fault: MatrixFault, times: number | undefined): void;
  clear(): void;
  /** The public call. */
  run(): Promise<unknown>;
  /** Releases what setup made. */
  teardown?(): Promise<void>;
}

type Outcome = { ok: true; ms: number } | { ok: false; code: string; retryable: boolean; ms: number };

interface Row {
  upstream: string;
  fault: FaultName;
  persistent?: Outcome;
  once?: { first: Outcome; second?: Outcome };
}

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => {
  unhandled.push(reason);
});

async function timed(run: () => Promise<unknown>): Promise<Outcome & { error?: unknown }> {
  const t0 = performance.now();
  try {
    await run();
    return { ok: true, ms: performance.now() - t0 };
  } catch (error) {
    const ms = performance.now() - t0;
    const typed = error instanceof IdentityError;
    return {
      ok: false,
      code: typed ? error.code : `untyped ${(error as Error)?.name ?? typeof error}`,
      retryable: typed && error.retryable,
      ms,
      error,
    };
  }
}

/** Lets pending rejections surface (an unhandled one is reported after the microtask queue drains). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 10));

function show(o: Outcome | undefined): string {
  if (o === undefined) return '-';
  const s = (o.ms / 1000).toFixed(2);
  return o.ok ? `ok ${s}s` : `${o.code}${o.retryable ? ' (retryable)' : ''} ${s}s`;
}

/**
 * Declares the matrix for `upstreams`: one test per upstream × fault × mode, and a table printed after the file.
 * `secrets()` returns every secret the fakes have issued so far.
 */
export function faultMatrix(title: string, upstreams: readonly Upstream[], secrets: () => Iterable<string>): void {
  const rows: Row[] = [];
  const rowOf = (upstream: string, fault: FaultName): Row => {
    let row = rows.find((r) => r.upstream === upstream && r.fault === fault);
    if (!row) {
      row = { upstream, fault };
      rows.push(row);
    }
    return row;
  };

  const check = (u: Upstream, o: Outcome & { error?: unknown }, what: string) => {
    if (!o.ok) {
      expect(o.error, `${what}: only IdentityErrors may leave the SDK`).toBeInstanceOf(IdentityError);
      expect(leakedSecrets(o.error, secrets()), `${what}: secrets in the formatted error`).toEqual([]);
    }
    expect(o.ms, `${what}: settled after ${o.ms.toFixed(0)} ms, bound ${u.boundMs} ms`).toBeLessThanOrEqual(
      u.boundMs + ALLOWANCE_MS,
    );
  };

  for (const u of upstreams) {
    for (const fault of FAULT_NAMES) {
      for (const mode of ['persistent', 'once'] as const) {
        it(`${u.name} × ${fault} (${mode})`, { timeout: u.boundMs * 2 + 20_000 }, async () => {
          unhandled.length = 0;
          await u.setup?.();
          try {
            u.inject(FAULTS[fault], mode === 'once' ? 1 : undefined);
            const first = await timed(() => u.run());
            u.clear();
            check(u, first, `${u.name} × ${fault} (${mode})`);
            if (mode === 'persistent') {
              if (!first.ok && SEEN_AT_ONCE.has(fault)) {
                const codes = codesIn(first.error);
                expect(codes, `${u.name} × ${fault}: the cut connection must be what failed`).toContain('NETWORK');
                expect(codes, `${u.name} × ${fault}: noticed at once, not by a timeout`).not.toContain('TIMEOUT');
              }
              rowOf(u.name, fault).persistent = first;
            } else {
              let second: (Outcome & { error?: unknown }) | undefined;
              if (!first.ok) {
                expect(
                  u.retries && TRANSIENT.has(fault),
                  `${u.name} retries, so a single ${fault} must not fail the call (got ${show(first)})`,
                ).toBe(false);
                second = await timed(() => u.run());
                check(u, second, `${u.name} × ${fault} (once, next call)`);
                expect(
                  second.ok,
                  `${u.name}: the call after a single ${fault} must succeed (got ${show(second)})`,
                ).toBe(true);
              }
              rowOf(u.name, fault).once = { first, ...(second ? { second } : {}) };
            }
            await settle();
            expect(unhandled, 'unhandled rejections').toEqual([]);
          } finally {
            u.clear();
            await u.teardown?.();
          }
        });
      }
    }
  }

  afterAll(() => {
    if (rows.length === 0) return;
    const lines = [`| ${title}: upstream | fault | persistent fault → outcome, time | single fault → outcome |`];
    lines.push('|---|---|---|---|');
    for (const r of rows) {
      const once =
        r.once === undefined
          ? '-'
          : r.once.first.ok
            ? `recovered in the same call, ${show(r.once.first)}`
            : `${show(r.once.first)}, then the next call ${show(r.once.second)}`;
      lines.push(`| ${r.upstream} | ${r.fault} | ${show(r.persistent)} | ${once} |`);
    }
    console.log(`[fault-matrix]\n${lines.join('\n')}`);
  });
}
