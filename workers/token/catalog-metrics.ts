// -check_services metrics (token room): the list sizes and ages per region, read at scrape time,
// and the refreshes by outcome, each outcome at 0 from start-up.
import type { RegionList } from '../../src/domain/service-list.ts';
import { Counter, Gauge, type MetricsRegistry as Registry } from '../../src/room-metrics.ts';
import type { CatalogMetrics } from './catalog.ts';

export const REFRESH_OUTCOMES = ['ok', 'refused', 'unavailable'] as const;

export function catalogMetrics(
  registry: Registry,
  lists: () => RegionList[],
  now = Date.now,
): CatalogMetrics {
  const registers = [registry];
  const refreshes = new Counter({
    name: 'runsd_token_services_refreshes_total',
    help: 'Cloud Run Admin API service list refreshes (all pages of one region), by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of REFRESH_OUTCOMES) refreshes.inc({ outcome }, 0);
  new Gauge({
    name: 'runsd_token_services_listed',
    help: 'Services in the last good list of each region (-check_services)',
    labelNames: ['region'] as const,
    registers,
    collect() {
      this.reset();
      for (const l of lists()) if (l.names !== null) this.set({ region: l.region }, l.names.length);
    },
  });
  new Gauge({
    name: 'runsd_token_services_age_seconds',
    help: 'Seconds since each region’s service list was last refreshed successfully',
    labelNames: ['region'] as const,
    registers,
    collect() {
      this.reset();
      for (const l of lists())
        if (l.fetchedAt > 0) this.set({ region: l.region }, (now() - l.fetchedAt) / 1000);
    },
  });
  return { refresh: (outcome) => refreshes.inc({ outcome }) };
}
