// The counts of the randomized tests (fuzz cases, property runs, crash kills) scaled by `ECS_IDENTITY_TEST_SCALE`
// (a number in (0, 1], default 1). CI runs the full counts on its main Node version and a fraction on the others,
// where the point is that the same code behaves the same on that Node, not to search again as widely.
const raw = process.env.ECS_IDENTITY_TEST_SCALE;
const factor = raw === undefined || raw === '' ? 1 : Number(raw);
if (!(factor > 0 && factor <= 1)) {
  throw new Error(`ECS_IDENTITY_TEST_SCALE must be a number in (0, 1], got ${JSON.stringify(raw)}`);
}

/** The scale in use (1 unless `ECS_IDENTITY_TEST_SCALE` says otherwise). */
export const testScale = factor;

/** `count` scaled by {@link testScale}, rounded up, never below `minimum`. */
export function scaled(count: number, minimum = 1): number {
  return Math.max(minimum, Math.ceil(count * factor));
}
