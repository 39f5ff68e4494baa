// The proxy's view of the token room: the token room's client keeps a local mirror, so the hot path
// never crosses a thread; a fresh port arrives via attachPeer after the token room restarts.
import type { MessagePort } from 'node:worker_threads';
import { createTokenClient, type TokenClient } from '../token/client.ts';
import { TOKEN_WAIT_MS } from '../token/settings.ts';

export interface TokenPeer {
  client(): TokenClient | null;
  attach(port: MessagePort): void;
  close(): void;
}

/** `timeoutMs`: one wait for the token room (TOKEN_WAIT_MS: the room's own deadline plus 0.5 s). */
export function tokenPeer(initial: MessagePort | undefined, timeoutMs = TOKEN_WAIT_MS): TokenPeer {
  let c: TokenClient | null = initial ? createTokenClient(initial, { timeoutMs }) : null;
  return {
    client: () => c,
    attach(port) {
      if (c) c.replacePort(port);
      else c = createTokenClient(port, { timeoutMs });
    },
    close() {
      c?.close();
    },
  };
}
