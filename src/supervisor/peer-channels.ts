// Direct channels between rooms (e.g. proxy ↔ token), made by the supervisor each time a room
// (re)starts (test/supervisor/rooms.test.ts, "a room that crashes after READY is restarted and
// re-linked to its peer").
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { RoomSpec } from './room-spec.ts';

/**
 * The peer channels of a room about to (re)start: one per peer it names, and one per running room
 * that names it (that room's old channel died with it). `peers` and `transfer` go in its RoomInit;
 * `pending` are the other ends, for the peers' attachPeer().
 */
export function peerChannels(spec: RoomSpec, running: RoomSpec[]) {
  const peers: Record<string, MessagePort> = {};
  const transfer: MessagePort[] = [];
  const pending: [string, MessagePort][] = [];
  const names = [
    ...(spec.peers ?? []),
    ...running
      .filter((o) => o.peers?.includes(spec.name) && !spec.peers?.includes(o.name))
      .map((o) => o.name),
  ];
  for (const name of names) {
    const ch = new MessageChannel();
    peers[name] = ch.port1;
    transfer.push(ch.port1);
    pending.push([name, ch.port2]);
  }
  return { peers, transfer, pending };
}
