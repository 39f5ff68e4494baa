// Prometheus text of a thread's metrics (src/room-metrics.ts), rendered by prom-client exactly as the
// supervisor's /metrics does: tests read the same text an operator would.
import { AggregatorRegistry } from 'prom-client';
import type { MetricsRegistry } from '../../src/room-metrics.ts';

export interface TextRegistry {
  getMetricsAsJSON: MetricsRegistry['getMetricsAsJSON'];
  metrics(): Promise<string>;
  getSingleMetricAsString(name: string): Promise<string>;
}

export function textRegistry(r: MetricsRegistry): TextRegistry {
  const rendered = async () => AggregatorRegistry.aggregate([(await r.getMetricsAsJSON()) as never]);
  return {
    getMetricsAsJSON: () => r.getMetricsAsJSON(),
    metrics: async () => (await rendered()).metrics(),
    getSingleMetricAsString: async (name) => (await rendered()).getSingleMetricAsString(name),
  };
}
