// -check_services in the token room: one list per region it has been asked about (this service's
// own region first), refreshed in the background every -services_refresh seconds (jittered, with
// backoff on 429/5xx/unreachable), and at once when a room reports a miss — single-flight per
// region, at most every MISS_REFRESH_SPACING_MS. A refusal (403: no run.services.list) or an
// unreachable API is logged once with what to do, and the list stays "unchecked" (every name is a
// service, as without -check_services).
import {
  type ListState,
  MISS_REFRESH_SPACING_MS,
  nextRefreshMs,
  type RegionList,
} from '../../src/domain/service-list.ts';
import type { Logger } from '../../src/log.ts';
import type { AdminApi, ListOutcome } from './admin-api.ts';

export interface CatalogMetrics {
  refresh(outcome: 'ok' | 'refused' | 'unavailable'): void;
}

export interface CatalogOptions {
  api: AdminApi;
  intervalSec: number;
  log: Logger;
  metrics: CatalogMetrics;
  now?: () => number;
  rand?: () => number;
}

interface Entry {
  list: RegionList;
  failures: number;
  lastAttempt: number;
  inflight: Promise<RegionList> | null;
  timer: NodeJS.Timeout | null;
}

export const GRANT_HINT =
  'grant the service account roles/run.viewer (or a role with run.services.list) on the project, or pass -check_services=false';

export class Catalog {
  private readonly o: CatalogOptions;
  private readonly entries = new Map<string, Entry>();
  private project: string | null = null;
  private closed = false;
  private told = new Set<string>();

  constructor(o: CatalogOptions) {
    this.o = o;
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** The project (number, else id) from the facts; the first one known starts the lists. */
  setProject(project: string | null, ownRegion: string | null): void {
    const changed = project !== null && project !== this.project;
    if (project !== null) this.project = project;
    if (changed) for (const region of this.entries.keys()) void this.refresh(region);
    if (ownRegion !== null && !this.entries.has(ownRegion)) void this.get(ownRegion, false);
  }

  /** Every list held, for the metrics (size, age). */
  lists(): RegionList[] {
    return [...this.entries.values()].map((e) => e.list);
  }

  /** One region's list; the first ask (and a miss, spaced) waits for a fresh list. */
  async get(region: string, miss: boolean): Promise<RegionList> {
    let e = this.entries.get(region);
    if (!e) {
      e = {
        list: { region, names: null, fetchedAt: 0, state: 'pending' },
        failures: 0,
        lastAttempt: 0,
        inflight: null,
        timer: null,
      };
      this.entries.set(region, e);
      return this.refresh(region);
    }
    if (e.inflight) return e.inflight;
    if (miss && e.list.state === 'ok' && this.now() - e.lastAttempt >= MISS_REFRESH_SPACING_MS)
      return this.refresh(region);
    return e.list;
  }

  private refresh(region: string): Promise<RegionList> {
    const e = this.entries.get(region)!;
    if (e.inflight) return e.inflight;
    if (this.project === null || this.closed) return Promise.resolve(e.list);
    const project = this.project;
    e.lastAttempt = this.now();
    e.inflight = this.o.api
      .list(project, region)
      .then((out) => this.settle(e, out))
      .finally(() => {
        e.inflight = null;
      });
    return e.inflight;
  }

  private settle(e: Entry, out: ListOutcome): RegionList {
    const region = e.list.region;
    this.o.metrics.refresh(out.kind);
    let state: ListState;
    if (out.kind === 'ok') {
      state = 'ok';
      e.failures = 0;
      e.list = { region, names: [...out.names].sort(), fetchedAt: this.now(), state };
      this.told.delete(`unavailable ${region}`);
      this.o.log.info(2, 'service list refreshed', { region, services: out.names.length });
    } else {
      state = out.kind;
      e.failures++;
      // A refusal forgets the list (the permission was taken away); an outage keeps the last good
      // one, which verdict() stops trusting once it is old.
      e.list = out.kind === 'refused' ? { region, names: null, fetchedAt: 0, state } : { ...e.list, state };
      this.tellOnce(out, region);
    }
    if (!this.closed) {
      if (e.timer) clearTimeout(e.timer);
      const ms = nextRefreshMs(this.o.intervalSec, state, e.failures, (this.o.rand ?? Math.random)());
      e.timer = setTimeout(() => void this.refresh(region), ms);
      e.timer.unref();
    }
    return e.list;
  }

  private tellOnce(out: Exclude<ListOutcome, { kind: 'ok' }>, region: string): void {
    const key = `${out.kind} ${out.kind === 'refused' ? '' : region}`;
    if (this.told.has(key)) return;
    this.told.add(key);
    const what =
      out.kind === 'refused'
        ? `the Cloud Run Admin API refused to list services (HTTP ${out.status}: ${out.message}); every name is taken for a service, as without -check_services; ${GRANT_HINT}`
        : `the Cloud Run Admin API is unavailable (${out.status === null ? out.message : `HTTP ${out.status}: ${out.message}`}); every name is taken for a service until it answers`;
    this.o.log.warn(what, { region });
  }

  close(): void {
    this.closed = true;
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
  }
}
