// Heap limits for every worker thread runsd starts (the rooms and the DNS room's helper threads).

/**
 * Each room's V8 heap. Left alone, V8 sizes a worker's heap from the machine's memory (here a young
 * generation of up to 192 MB and an old one of 4 GB) and lets both grow lazily: under load runsd went
 * from 104 to 323 MiB RSS, memory the app on a small Cloud Run instance needs. With these limits it
 * settles at ~170 MiB with no change in throughput (`bench/soak.ts`, docs/startup.md). A room that
 * really needed more than 512 MB would be a bug; it is then restarted like any crashed room.
 */
export const ROOM_HEAP = { maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 512 } as const;
