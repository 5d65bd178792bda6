// Loaded with `node --import` into a child process under test (the built agent): registers a real OpenTelemetry
// metrics SDK as the process's global MeterProvider, as an application's instrumentation would, with an exporter that
// writes each collection's scope metrics (JSON) to the file named by ECS_IDENTITY_TEST_METRICS_FILE, every 100 ms.
// The test reads them back with toPoints() from otel.ts.
import { renameSync, writeFileSync } from 'node:fs';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

const file = process.env.ECS_IDENTITY_TEST_METRICS_FILE;
if (!file) throw new Error('otel-export-to-file.mjs: set ECS_IDENTITY_TEST_METRICS_FILE');

const exporter = {
  export(resourceMetrics, done) {
    // Replaced whole (write, then rename), so a reader never sees half a document.
    writeFileSync(`${file}.tmp`, JSON.stringify(resourceMetrics.scopeMetrics));
    renameSync(`${file}.tmp`, file);
    done({ code: 0 });
  },
  selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
  forceFlush: async () => {},
  shutdown: async () => {},
};

metrics.setGlobalMeterProvider(
  new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 100 })] }),
);
