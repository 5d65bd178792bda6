// Fuzzing the public parsers with fast-check: hostile text (UTF-16 that is not well formed included), arbitrary JSON
// and bytes, and mutations of valid inputs. A parser may accept or refuse; it may only refuse with the SDK's typed
// error. Each suite counts its cases and prints them (the per-run total is the sum of the `[fuzz]` lines).

import { IdentityError } from '@ecs-identity/core';
import fc from 'fast-check';
import { afterAll } from 'vitest';
import { scaled, testScale } from './scale.js';

/** Any UTF-16 code unit, lone surrogates included: strings that are not well-formed UTF-16. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

/** Hostile text: raw UTF-16 units, any code point, printable ASCII, and mixes of them. */
export const hostileText = (maxLength = 120): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: codeUnit, maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ maxLength }),
    fc.constantFrom('', ' ', '\u0000', '\ud800', '\udfff', '%', '%E0%A4%A', '\u2028', '\r\n', '﻿'),
  );

/** Bytes seen as text the two ways a careless reader would: UTF-8 (lossy) and Latin-1. */
export const bytesText = (maxLength = 200): fc.Arbitrary<string> =>
  fc
    .tuple(fc.uint8Array({ maxLength }), fc.boolean())
    .map(([b, utf8]) => (utf8 ? new TextDecoder().decode(b) : String.fromCharCode(...b)));

/** Arbitrary JSON values, and the same as text, whole or cut anywhere. */
export const jsonValue = (): fc.Arbitrary<unknown> => fc.jsonValue({ maxDepth: 3 });
export const jsonText = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc.tuple(fc.json({ maxDepth: 3 }), fc.nat()).map(([j, n]) => j.slice(0, n % (j.length + 1))),
  );

/** An object with the given field names (some of them), each holding anything JSON can, or hostile text. */
export const recordOf = (fields: readonly string[]): fc.Arbitrary<Record<string, unknown>> =>
  fc.dictionary(fc.constantFrom(...fields), fc.oneof(jsonValue(), hostileText(40)), {
    maxKeys: fields.length,
  });

/** `valid` with up to `n` characters replaced, inserted or removed at random places. */
export const mutated = (valid: string, n = 3): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.nat(),
        fc.constantFrom('replace', 'insert', 'delete'),
        fc.oneof(codeUnit, fc.string({ minLength: 1, maxLength: 1 })),
      ),
      {
        minLength: 1,
        maxLength: n,
      },
    )
    .map((edits) => {
      let s = valid;
      for (const [at, op, c] of edits) {
        const i = s.length === 0 ? 0 : at % s.length;
        if (op === 'replace') s = s.slice(0, i) + c + s.slice(i + 1);
        else if (op === 'insert') s = s.slice(0, i) + c + s.slice(i);
        else s = s.slice(0, i) + s.slice(i + 1);
      }
      return s;
    });

export const isIdentityError = (e: unknown): boolean => e instanceof IdentityError;

const counts = new Map<string, number>();

/** Prints this file's case counts once it is done. */
export function reportFuzzCounts(suite: string): void {
  afterAll(() => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...counts].map(([name, n]) => `${name} ${n}`).join(', ');
    console.log(`[fuzz] ${suite}: ${total} cases (${parts})`);
  });
}

function record(name: string, n: number): number {
  counts.set(name, (counts.get(name) ?? 0) + n);
  return n;
}

/**
 * `runs` scaled by `ECS_IDENTITY_TEST_SCALE`, which must give a whole number: the suites compare the sum of their
 * cases with their scaled total, which holds only when every part scales exactly.
 */
function exactRuns(runs: number): number {
  const n = scaled(runs);
  if (n !== runs * testScale) throw new Error(`${runs} fuzz cases do not scale exactly by ${testScale}`);
  return n;
}

/**
 * Runs `parse` on `runs` values of `arb`; fails (with fast-check's shrunk counterexample) on the first throw that
 * `typed` does not accept. Returns the number of cases run.
 */
export function fuzz<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  parse: (value: T) => unknown,
  runs: number,
  typed: (e: unknown) => boolean = isIdentityError,
): number {
  let n = 0;
  fc.assert(
    fc.property(arb, (value) => {
      n++;
      try {
        parse(value);
      } catch (e) {
        if (!typed(e)) throw e;
      }
    }),
    { numRuns: exactRuns(runs) },
  );
  return record(name, n);
}

/** {@link fuzz} for parsers that answer with a promise. */
export async function fuzzAsync<T>(
  name: string,
  arb: fc.Arbitrary<T>,
  parse: (value: T) => Promise<unknown>,
  runs: number,
  typed: (e: unknown) => boolean = isIdentityError,
): Promise<number> {
  let n = 0;
  await fc.assert(
    fc.asyncProperty(arb, async (value) => {
      n++;
      try {
        await parse(value);
      } catch (e) {
        if (!typed(e)) throw e;
      }
    }),
    { numRuns: exactRuns(runs) },
  );
  return record(name, n);
}
