// Worker-side half of the room lifecycle: read RoomInit, run the room's setup, report READY or
// FAILED, then serve RoomControl (+ the room's extension) on the control port. Every room is
// worker.ts (the thread entry: runRoom(setup) and nothing else) → room.ts (the setup: wiring) → the
// room's parts. A RunsdError thrown by a control method reaches the supervisor with its code
// (port-endpoint.ts).
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { toWire } from './errors.ts';
import { createLogger, type Logger } from './log.ts';
import { portEndpoint } from './port-endpoint.ts';
import {
  type Facts,
  type MetricsJson,
  PROTOCOL_VERSION,
  type RoomControl,
  type RoomInfo,
  type RoomInit,
  type RoomStatus,
} from './protocol.ts';
import { MetricsRegistry as Registry } from './room-metrics.ts';

export interface RoomContext<S> {
  init: RoomInit<S>;
  log: Logger;
  /** The room's own registry; the supervisor merges all rooms' registries per scrape. */
  registry: Registry;
}

/** What a room's setup returns. `X`: its extension of the control API (RoomExtensions in protocol.ts). */
export interface RoomHandle<X extends object = Record<string, (...args: never[]) => unknown>> {
  info?: RoomInfo;
  setFacts?(facts: Facts): void | Promise<void>;
  attachPeer?(name: string, port: MessagePort): void | Promise<void>;
  close(): Promise<void>;
  /** Extra methods served to the supervisor on the control port (e.g. the token room's facts()). */
  api?: X;
}

export type RoomSetup<S, X extends object = Record<string, (...args: never[]) => unknown>> = (
  ctx: RoomContext<S>,
) => Promise<RoomHandle<X>>;

export async function runRoom<S, X extends object = Record<never, never>>(
  setup: RoomSetup<S, X>,
): Promise<void> {
  const init = workerData as RoomInit<S>;
  const port = parentPort;
  if (!port || init?.v !== PROTOCOL_VERSION)
    throw new Error('runRoom must run in a room worker started by the supervisor');
  const log = createLogger({ verbosity: init.log.verbosity, format: init.log.format, room: init.room });
  const registry = new Registry();
  let handle: RoomHandle<X>;
  try {
    handle = await setup({ init, log, registry });
  } catch (err) {
    const status: RoomStatus = {
      type: 'failed',
      v: PROTOCOL_VERSION,
      room: init.room,
      error: toWire(err, 'RUNSD_ROOM_BOOTSTRAP'),
    };
    port.postMessage(status);
    // Let the message flush; the supervisor terminates us.
    return;
  }
  const control: RoomControl = {
    metrics: async (): Promise<MetricsJson> => (await registry.getMetricsAsJSON()) as MetricsJson,
    setFacts: async (facts) => {
      await handle.setFacts?.(facts);
    },
    attachPeer: async (name, p) => {
      await handle.attachPeer?.(name, p);
    },
    close: async () => {
      await handle.close();
      // Closing the control port last lets this reply reach the supervisor first.
      setImmediate(() => init.control.close());
    },
  };
  Comlink.expose({ ...handle.api, ...control }, portEndpoint(init.control));
  const status: RoomStatus = { type: 'ready', v: PROTOCOL_VERSION, room: init.room, info: handle.info ?? {} };
  port.postMessage(status);
}
