// Starts the token room as a real worker thread, the way src/supervisor/rooms.ts does (RoomInit as
// workerData, ports in the transfer list), and hands back the test's ends of the ports.
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { PROTOCOL_VERSION, type RoomControl, type RoomInit, type RoomStatus } from '../../../src/protocol.ts';
import type { TokenPortApi } from '../../../workers/token/api.ts';
import type { TokenSettings } from '../../../workers/token/settings.ts';

export const TOKEN_WORKER = new URL('../../../workers/token/worker.ts', import.meta.url);

export interface RunningRoom {
  worker: Worker;
  status: RoomStatus;
  /** The proxy's end of the proxy↔token channel. */
  peer: MessagePort;
  control: Comlink.Remote<RoomControl & { facts(): Promise<unknown> }>;
  /** Everything the room wrote to stderr (its log). */
  logs(): string;
  stop(): Promise<void>;
}

export function tokenSettings(over: Partial<TokenSettings> = {}): TokenSettings {
  return {
    metadataHost: null,
    upstreams: [],
    staticToken: null,
    maxConcurrent: 8,
    refreshAheadSec: 300,
    idleSec: 3600,
    connectTimeoutMs: 2000,
    responseTimeoutMs: 2000,
    attempts: 3,
    deadlineMs: 10_000,
    ...over,
  };
}

export async function startTokenRoom(settings: TokenSettings, verbosity = 0): Promise<RunningRoom> {
  const control = new MessageChannel();
  const peer = new MessageChannel();
  const init: RoomInit<TokenSettings> = {
    v: PROTOCOL_VERSION,
    room: 'token',
    settings,
    facts: { region: null, projectNumber: null, projectId: null },
    log: { verbosity, format: 'text' },
    control: control.port2,
    peers: { proxy: peer.port2 },
  };
  const worker = new Worker(TOKEN_WORKER, {
    workerData: init,
    transferList: [control.port2, peer.port2],
    stderr: true,
  });
  let logs = '';
  worker.stderr.setEncoding('utf8');
  worker.stderr.on('data', (d: string) => {
    logs += d;
  });
  const status = await new Promise<RoomStatus>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let stopped = false;
  const remote = Comlink.wrap<RoomControl & { facts(): Promise<unknown> }>(
    control.port1 as unknown as Comlink.Endpoint,
  );
  return {
    worker,
    status,
    peer: peer.port1,
    control: remote,
    logs: () => logs,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await Promise.race([remote.close(), new Promise((r) => setTimeout(r, 1000))]);
      control.port1.close();
      peer.port1.close();
      await worker.terminate();
    },
  };
}

/** A raw comlink view of the peer port (bypasses the client's mirror: every call reaches the room). */
export function rawApi(port: MessagePort): Comlink.Remote<TokenPortApi> {
  return Comlink.wrap<TokenPortApi>(port as unknown as Comlink.Endpoint);
}

export async function metricValue(room: RunningRoom, name: string, labels: Record<string, string> = {}) {
  const all = await room.control.metrics();
  const m = all.find((x) => x.name === name);
  return (m?.values ?? [])
    .filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want))
    .reduce((a, v) => a + v.value, 0);
}
