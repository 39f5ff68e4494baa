// -check_services in one dns thread (the primary, room.ts, and each helper, helper.ts): the token
// room's lists mirrored in this thread (workers/token/services-client.ts), and the own region, which
// names without one (`hello.run.internal`, what the search list asks while the region is unknown)
// are checked in. Until the region is known such names are "unchecked" (answered as before).
import type { MessagePort } from 'node:worker_threads';
import { createServicesMirror } from '../token/services-client.ts';
import type { ServiceChecker } from './resolver.ts';

export interface ThreadServices {
  checker: ServiceChecker;
  /** New facts: the own region's list is fetched at once, before the command's first lookup. */
  setRegion(region: string | null): void;
  /** The token room restarted (primary thread only: a helper's port is the primary's relay). */
  replacePort(port: MessagePort): void;
}

export function threadServices(
  port: MessagePort,
  intervalSec: number,
  region: string | null,
): ThreadServices {
  const mirror = createServicesMirror(port, { intervalSec });
  let own = region;
  const prefetch = () => {
    if (own !== null) void mirror.check('', own, false);
  };
  prefetch();
  return {
    checker: {
      check: (service, r) => {
        const where = r ?? own;
        return where === null ? 'unchecked' : mirror.check(service, where, false);
      },
    },
    setRegion(r) {
      own = r;
      prefetch();
    },
    replacePort: (p) => mirror.replacePort(p),
  };
}
