/**
 * Metrics cost nothing when unused: importing core (whose metrics module names OpenTelemetry types only) loads no
 * `@opentelemetry/*` module. Checked from the real module graph of a fresh Node process.
 */
import { describe, expect, it } from 'vitest';
import { moduleGraph as graph } from '../../../test-support/module-graph.js';

describe('module graph', () => {
  it('@ecs-identity/core (index, with the metrics module) loads no @opentelemetry/* module', async () => {
    const loaded = await graph('packages/core/src/index.ts');
    expect(loaded.some((u) => u.endsWith('packages/core/src/metrics.ts'))).toBe(true);
    expect(loaded.filter((u) => u.includes('/@opentelemetry/'))).toEqual([]);
  });

  it('the probe does see OpenTelemetry where it is imported: the test harness loads the SDK', async () => {
    const loaded = await graph('test-support/otel.ts');
    expect(loaded.some((u) => u.includes('/@opentelemetry/sdk-metrics/'))).toBe(true);
  });
});
