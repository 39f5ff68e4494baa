// What the supervisor needs to start one room (rooms.ts starts it; restart-policy.ts and
// peer-channels.ts read it).
import type { RoomName } from '../protocol.ts';
import type { WorkerEntry } from './entries.ts';

export interface RoomSpec {
  name: RoomName;
  entry: WorkerEntry;
  settings: unknown;
  /** Names of rooms this one gets a direct channel to. */
  peers?: string[];
}
