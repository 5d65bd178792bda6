// A real OpenTelemetry metrics SDK (MeterProvider + a pull MetricReader) for tests: what the SDK's metrics record,
// as an application's exporter would see it.
import type { Meter } from '@opentelemetry/api';
import {
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
  type ScopeMetrics,
} from '@opentelemetry/sdk-metrics';

class PullReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** One data point: the instrument, its attributes and its value (a number, or a histogram's count and sum). */
export interface Point {
  name: string;
  unit: string;
  attributes: Record<string, unknown>;
  value: number | { count: number; sum: number | undefined };
}

export interface MetricsHarness {
  meter: Meter;
  /** Collects now (observable callbacks run) and returns every point. */
  collect(): Promise<Point[]>;
  shutdown(): Promise<void>;
}

/** The data points of collected scope metrics (also as JSON, from `otel-export-to-file.mjs` in a child process). */
export function toPoints(scopeMetrics: readonly Pick<ScopeMetrics, 'metrics'>[]): Point[] {
  return scopeMetrics.flatMap((scope) =>
    scope.metrics.flatMap((metric) =>
      (metric.dataPoints as DataPoint<number | Histogram>[]).map((p) => ({
        name: metric.descriptor.name,
        unit: metric.descriptor.unit,
        attributes: { ...p.attributes },
        value: typeof p.value === 'number' ? p.value : { count: p.value.count, sum: p.value.sum },
      })),
    ),
  );
}

export function metricsHarness(): MetricsHarness {
  const reader = new PullReader();
  const provider = new MeterProvider({ readers: [reader] });
  return {
    meter: provider.getMeter('ecs-identity-test'),
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length > 0) throw new AggregateError(errors, 'metric collection failed');
      return toPoints(resourceMetrics.scopeMetrics);
    },
    shutdown: () => provider.shutdown(),
  };
}

/** The points of one instrument whose attributes include `attributes`. */
export function pointsOf(points: Point[], name: string, attributes: Record<string, unknown> = {}): Point[] {
  return points.filter((p) => p.name === name && Object.entries(attributes).every(([k, v]) => p.attributes[k] === v));
}

/** The one value of an instrument for `attributes` (a counter's or gauge's number, a histogram's count and sum). */
export function metricValue(
  points: Point[],
  name: string,
  attributes: Record<string, unknown> = {},
): Point['value'] | undefined {
  const found = pointsOf(points, name, attributes);
  if (found.length > 1) throw new Error(`${found.length} points of ${name} match ${JSON.stringify(attributes)}`);
  return found[0]?.value;
}
