// The dns and proxy rooms' half of -check_services: a local mirror of the token room's service
// lists, so a known name is answered without crossing a thread. The token room is asked (comlink
// over the room's token peer port) the first time a region is seen — that one answer waits, at
// most FIRST_WAIT_MS — when the mirror is older than the refresh interval (in the background), and
// on a miss (DNS: in the background, the miss answered at once; proxy: awaited, bounded). Any
// failure or timeout means "unchecked": the name is treated as a service, as without the check.
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { type RegionList, type Verdict, verdict } from '../../src/domain/service-list.ts';
import { portEndpoint } from '../../src/port-endpoint.ts';
import { withTimeout } from '../../src/timeout.ts';
import type { TokenPortApi } from './api.ts';

export const FIRST_WAIT_MS = 1000;
const ASK_TIMEOUT_MS = 3000;

export interface ServicesMirror {
  /** known / missing / unchecked for `service` in `region`; a promise only while the region's
   * first list (or, with waitOnMiss, a miss's refresh) is on its way. */
  check(service: string, region: string, waitOnMiss: boolean): Verdict | Promise<Verdict>;
  /** The names held for a region (the 404's "did you mean"). */
  names(region: string): readonly string[];
  replacePort(port: MessagePort): void;
}

export interface MirrorOptions {
  intervalSec: number;
  /** Called whenever a region's list changes (the DNS room drops its memoised answers). */
  onChange?: () => void;
  now?: () => number;
}

export function createServicesMirror(port: MessagePort, o: MirrorOptions): ServicesMirror {
  const now = o.now ?? Date.now;
  let remote = Comlink.wrap<Pick<TokenPortApi, 'services'>>(portEndpoint(port));
  const lists = new Map<string, { list: RegionList; receivedAt: number }>();
  const inflight = new Map<string, Promise<RegionList | null>>();

  const ask = (region: string, miss: boolean): Promise<RegionList | null> => {
    const key = `${region} ${miss}`;
    let p = inflight.get(key);
    if (p) return p;
    p = withTimeout(remote.services(region, miss), ASK_TIMEOUT_MS, () => new Error('no answer'))
      .then(
        (list) => {
          const old = lists.get(region)?.list;
          lists.set(region, { list, receivedAt: now() });
          if (old?.fetchedAt !== list.fetchedAt || old?.state !== list.state) o.onChange?.();
          return list;
        },
        () => null,
      )
      .finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  };

  const decide = (service: string, region: string): Verdict =>
    verdict(lists.get(region)?.list, service, now());

  return {
    check(service, region, waitOnMiss) {
      const held = lists.get(region);
      if (!held) {
        const first = ask(region, false).then(() => decide(service, region));
        return withTimeout(first, FIRST_WAIT_MS, () => new Error('slow')).catch(() => 'unchecked' as const);
      }
      if (now() - held.receivedAt > o.intervalSec * 1000) void ask(region, false);
      const v = decide(service, region);
      if (v !== 'missing') return v;
      const fresh = ask(region, true);
      if (!waitOnMiss) return v;
      return withTimeout(
        fresh.then(() => decide(service, region)),
        ASK_TIMEOUT_MS,
        () => new Error('slow'),
      ).catch(() => v);
    },
    names: (region) => lists.get(region)?.list.names ?? [],
    replacePort(p) {
      remote = Comlink.wrap<Pick<TokenPortApi, 'services'>>(portEndpoint(p));
    },
  };
}
