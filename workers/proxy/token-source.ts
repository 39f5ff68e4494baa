// The proxy's view of the token room: the token room's client keeps a local mirror, so the hot path
// never crosses a thread; a fresh port arrives via attachPeer after the token room restarts.
import type { MessagePort } from 'node:worker_threads';
import { createTokenClient, type TokenClient } from '../token/client.ts';

export interface TokenPeer {
  client(): TokenClient | null;
  attach(port: MessagePort): void;
  close(): void;
}

export function tokenPeer(initial: MessagePort | undefined): TokenPeer {
  let c: TokenClient | null = initial ? createTokenClient(initial) : null;
  return {
    client: () => c,
    attach(port) {
      if (c) c.replacePort(port);
      else c = createTokenClient(port);
    },
    close() {
      c?.close();
    },
  };
}
