// When a room that died after READY is started again: `initial` ms after the first crash, the delay
// doubling with each crash in a row up to `max`; a room that had run CRASH_WINDOW_MS before it died
// starts a new streak. A restarted room keeps the port it bound first (pinPort).
// test/supervisor/rooms.test.ts ("a room that crashes after READY is restarted and re-linked to its
// peer") holds the restart; no test pins the delays.
import type { RoomInfo } from '../protocol.ts';
import type { RoomSpec } from './room-spec.ts';

/** A room that ran this long before crashing restarts without backoff again. */
export const CRASH_WINDOW_MS = 30_000;

/** The streak after a crash of a room that ran `ranMs` since it (re)started. */
export function crashStreak(previous: number, ranMs: number): number {
  return ranMs < CRASH_WINDOW_MS ? previous + 1 : 1;
}

/** Delay before the restart that ends a streak of `streak` crashes (1 = the first). */
export function restartDelay(streak: number, backoff: { initial: number; max: number }): number {
  return Math.min(backoff.max, backoff.initial * 2 ** Math.min(streak - 1, 16));
}

/**
 * A restarted room must come back on the port it bound first (port 0 = "any free port"): the
 * child's HTTP_PROXY (env mode) and resolv.conf point at it. Restarts use the returned spec.
 */
export function pinPort(spec: RoomSpec, info: RoomInfo): RoomSpec {
  const settings = spec.settings as { port?: unknown } | null;
  const bound = info['port'];
  if (typeof bound !== 'number' || bound <= 0 || typeof settings?.port !== 'number') return spec;
  return { ...spec, settings: { ...settings, port: bound } };
}
