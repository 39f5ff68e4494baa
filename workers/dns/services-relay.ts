// -check_services for the dns room's helper threads (-dns_threads > 1). Only the primary thread has
// a peer port to the token room (the supervisor makes one per room), so it relays: each helper gets
// its own MessageChannel end on which the primary serves services() by asking the token room. A
// helper then runs the same mirror (workers/token/services-client.ts) as the primary, and its known
// names are answered without crossing a thread; only first lists, refreshes and misses are relayed.
// The token room may restart with a new port (replacePort): the helpers' ports stay the same.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { portEndpoint } from '../../src/port-endpoint.ts';
import { withTimeout } from '../../src/timeout.ts';
import type { TokenPortApi } from '../token/api.ts';

type ServicesApi = Pick<TokenPortApi, 'services'>;

/** Bound on one relayed ask (the helper's mirror has its own, equal one): a token room that does
 * not answer must not leave promises behind in the primary. */
const RELAY_TIMEOUT_MS = 3000;

export interface ServicesRelay {
  /** A new port serving services() (transfer it to the helper thread). */
  open(): MessagePort;
  replacePort(tokenPort: MessagePort): void;
  close(): void;
}

export function createServicesRelay(tokenPort: MessagePort): ServicesRelay {
  let remote = Comlink.wrap<ServicesApi>(portEndpoint(tokenPort));
  const opened: MessagePort[] = [];
  return {
    open() {
      const { port1, port2 } = new MessageChannel();
      // services() only: a helper has no use for tokens, so its port cannot ask for one.
      const api: ServicesApi = {
        services: (region, miss) =>
          withTimeout(
            remote.services(region, miss),
            RELAY_TIMEOUT_MS,
            () => new Error('token room did not answer'),
          ),
      };
      Comlink.expose(api, portEndpoint(port1));
      opened.push(port1);
      return port2;
    },
    replacePort(p) {
      remote = Comlink.wrap<ServicesApi>(portEndpoint(p));
    },
    close() {
      for (const p of opened) p.close();
      opened.length = 0;
    },
  };
}
