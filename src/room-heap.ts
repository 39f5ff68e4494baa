// Heap limits for every worker thread runsd starts (the rooms and the DNS room's helper threads).
import { getHeapStatistics } from 'node:v8';
import type { RoomName } from './protocol.ts';

/**
 * Young generation per room, in MB. The proxy moves bodies and fills whatever it is given: 4 MB
 * instead of 16 (8 made no difference) took ~30 MiB off a run of large transfers
 * (`bench/transfer.ts`). The dns and token rooms allocate little per query or mint; 2 MB instead of
 * 4 takes ~1.6 MiB off the running process (`bench/startup.ts`, RssAnon) and did not change
 * `bench/dns.ts` (docs/startup.md). Below 2, V8 rounds up to its minimum pages anyway.
 */
const YOUNG_MB: Record<RoomName, number> = { proxy: 4, dns: 2, token: 2 };

/**
 * Each room's V8 heap. Left alone, V8 sizes a worker's heap from the machine's memory (on a 24 GiB
 * machine a young generation of up to 192 MB and an old one of 4 GB) and lets both grow lazily: under
 * load runsd went from 104 to 323 MiB RSS, memory the app on a Cloud Run instance needs. The old
 * generation is capped at 512 MB — a room that needed more would be a bug, and is restarted like any
 * crashed room — or this process's own default if that is lower (a small instance), so the limit
 * never gives a room more room than V8 would have. Held by test/supervisor/rooms.test.ts.
 */
export function roomHeap(room: RoomName): {
  maxYoungGenerationSizeMb: number;
  maxOldGenerationSizeMb: number;
} {
  const ownLimitMb = Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
  return { maxYoungGenerationSizeMb: YOUNG_MB[room], maxOldGenerationSizeMb: Math.min(512, ownLimitMb) };
}
