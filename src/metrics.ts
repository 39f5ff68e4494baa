// The supervisor's own metrics, kept like every room's (src/room-metrics.ts: plain numbers, no
// prom-client). The supervisor's metrics endpoint merges them with every room's at scrape time.
import { Counter, Gauge, MetricsRegistry } from './room-metrics.ts';

export interface SupervisorMetrics {
  registry: MetricsRegistry;
  roomRestarts: Counter<'room'>;
  roomsUp: Gauge<'room'>;
  childUp: Gauge;
  startupSeconds: Gauge;
}

export function createSupervisorMetrics(): SupervisorMetrics {
  const registry = new MetricsRegistry();
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
