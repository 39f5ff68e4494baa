// Heap limits for every worker thread runsd starts (the rooms and the DNS room's helper threads).
import { getHeapStatistics } from 'node:v8';

/**
 * Each room's V8 heap. Left alone, V8 sizes a worker's heap from the machine's memory (on a 24 GiB
 * machine a young generation of up to 192 MB and an old one of 4 GB) and lets both grow lazily: under
 * load runsd went from 104 to 323 MiB RSS, memory the app on a Cloud Run instance needs. With a 16 MB
 * young generation and any old-generation cap it settled at ~170 MiB (`bench/soak.ts`); a busy room
 * fills whatever young generation it is given, so 4 MB instead of 16 (8 made no difference) took
 * another ~30 MiB off a run of large transfers (`bench/transfer.ts`, docs/startup.md). The cap is 512 MB — a room that needed more would be a bug, and is restarted like
 * any crashed room — or this process's own default if that is lower (a small instance), so the limit
 * never gives a room more room than V8 would have.
 */
export function roomHeap(): { maxYoungGenerationSizeMb: number; maxOldGenerationSizeMb: number } {
  const ownLimitMb = Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
  return { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: Math.min(512, ownLimitMb) };
}
