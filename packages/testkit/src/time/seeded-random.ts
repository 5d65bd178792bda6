/**
 * A deterministic `random` for tests and simulations: inject it where an option takes `random`, so a run can be
 * repeated exactly.
 * @packageDocumentation
 */

/**
 * A seeded pseudo-random generator (mulberry32): numbers in [0, 1), the same sequence for the same seed. Not for
 * anything secret.
 *
 * @example
 * ```ts
 * const random = seededRandom(13);
 * const provider = refreshingProvider({ name: 'sim', fetch, clock: new ManualClock(), random });
 * ```
 * @public
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
