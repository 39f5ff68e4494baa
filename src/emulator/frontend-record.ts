// What the fake front end saw: the last 10,000 requests and counters (requests per service and
// protocol, 404s, invoker-check failures, connections and their SNI, GOAWAYs, resets), read by tests.
import type { FrontendRequest, FrontendStats } from './frontend-types.ts';

const KEEP = 10_000;

const fresh = (): FrontendStats => ({
  requests: {},
  notFound: 0,
  authFailures: {},
  adminListCalls: {},
  connections: 0,
  serverNames: {},
  goaways: 0,
  resets: 0,
});

export function createRecorder() {
  const log: FrontendRequest[] = [];
  const recorder = {
    stats: fresh(),
    log,
    record: (r: FrontendRequest) => {
      log.push(r);
      if (log.length > KEEP) log.shift();
      if (r.service) {
        recorder.stats.requests[r.service] ??= {};
        const per = recorder.stats.requests[r.service]!;
        per[r.protocol] = (per[r.protocol] ?? 0) + 1;
      }
    },
    reset: () => {
      recorder.stats = fresh();
      log.length = 0;
    },
  };
  return recorder;
}
