// Supervisor metrics and the per-scrape merge of every room's registry (DESIGN §4: each room has a
// registry; the supervisor aggregates their getMetricsAsJSON() with its own).
import { AggregatorRegistry, Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { MetricsJson } from './protocol.ts';

export interface SupervisorMetrics {
  registry: Registry;
  roomRestarts: Counter<'room'>;
  roomsUp: Gauge<'room'>;
  childUp: Gauge;
  startupSeconds: Gauge;
}

export function createSupervisorMetrics(): SupervisorMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'runsd_' });
  return {
    registry,
    roomRestarts: new Counter({
      name: 'runsd_supervisor_room_restarts_total',
      help: 'Rooms (worker threads) restarted after a crash',
      labelNames: ['room'],
      registers: [registry],
    }),
    roomsUp: new Gauge({
      name: 'runsd_supervisor_room_up',
      help: '1 while a room is running',
      labelNames: ['room'],
      registers: [registry],
    }),
    childUp: new Gauge({
      name: 'runsd_supervisor_child_up',
      help: '1 while the wrapped command runs',
      registers: [registry],
    }),
    startupSeconds: new Gauge({
      name: 'runsd_supervisor_startup_seconds',
      help: 'Seconds from process start to the command being spawned',
      registers: [registry],
    }),
  };
}

/** Merges the supervisor's registry with the rooms' metrics into Prometheus text. */
export async function renderMetrics(own: Registry, rooms: MetricsJson[]): Promise<string> {
  const all = [(await own.getMetricsAsJSON()) as MetricsJson, ...rooms];
  return AggregatorRegistry.aggregate(all as Parameters<typeof AggregatorRegistry.aggregate>[0]).metrics();
}
