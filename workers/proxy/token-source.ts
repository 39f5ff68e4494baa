// The proxy's view of the token room: get(audience) → token. The token room's client keeps a local
// mirror so the hot path never crosses a thread; a fresh port arrives via attachPeer after the token
// room restarts.
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { TokenSource } from './proxy.ts';

/** TEMPORARY until workers/token/client.ts (branch token) is merged: a plain comlink call. */
export function tokenSourceFromPort(port: MessagePort): TokenSource {
  const remote = Comlink.wrap<{ get(aud: string): Promise<string> }>(port as unknown as Comlink.Endpoint);
  return { get: (aud) => remote.get(aud) };
}
