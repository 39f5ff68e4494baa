// Every message that crosses a thread boundary. Rooms are plain Workers: the supervisor passes a
// RoomInit as workerData (ports in the transfer list); the room answers once on parentPort with a
// RoomStatus (READY or FAILED) and from then on serves RoomApi<its name> over its control port
// (comlink): RoomControl plus the room's own extension (RoomExtensions). The token room's peer API
// (what the proxy calls) is TokenPortApi in workers/token/api.ts. The dns room's extra listener
// threads speak DnsHelper* over their Worker's parentPort. Errors cross as described in errors.ts.
import type { MessagePort } from 'node:worker_threads';
import type { LogFormat } from './config.ts';
import type { WireError } from './errors.ts';

export const PROTOCOL_VERSION = 1;

export type RoomName = 'dns' | 'proxy' | 'token';

/** Facts learnt at run time (flags, else the metadata server); pushed to rooms when they change. */
export interface Facts {
  region: string | null;
  projectNumber: string | null;
  projectId: string | null;
}

export interface RoomInit<S = unknown> {
  v: typeof PROTOCOL_VERSION;
  room: string;
  settings: S;
  facts: Facts;
  log: { verbosity: number; format: LogFormat };
  control: MessagePort;
  /** Direct channels to other rooms, by room name (e.g. proxy ↔ token). */
  peers: Record<string, MessagePort>;
}

export type RoomStatus =
  | { type: 'ready'; v: typeof PROTOCOL_VERSION; room: string; info: RoomInfo }
  | { type: 'failed'; v: typeof PROTOCOL_VERSION; room: string; error: WireError };

/** What a room reports at READY, e.g. the ports it actually bound. */
export type RoomInfo = Record<string, string | number | boolean | null>;

/** One metric as prom-client's Registry#getMetricsAsJSON() gives it (src/room-metrics.ts makes it). */
export interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  aggregator: string;
  /** metricName: a histogram's NAME_bucket / NAME_sum / NAME_count */
  values: { value: number; labels: Record<string, string | number>; metricName?: string }[];
}
export type MetricsJson = MetricJson[];

/** Served by every room on its control port. */
export interface RoomControl {
  metrics(): Promise<MetricsJson>;
  setFacts(facts: Facts): Promise<void>;
  /** A fresh channel to a peer room (after that room restarted). */
  attachPeer(name: string, port: MessagePort): Promise<void>;
  /** Stop serving and release sockets; the worker then exits. */
  close(): Promise<void>;
}

/** Each room's control API beyond RoomControl: what the supervisor may call on that room only. */
export interface RoomExtensions {
  dns: Record<never, never>;
  proxy: Record<never, never>;
  token: {
    /** Region, project number and id from the metadata server; rejects with RUNSD_METADATA. */
    facts(): Promise<Facts>;
  };
}

/** What room `N` serves on its control port. */
export type RoomApi<N extends RoomName> = RoomControl & RoomExtensions[N];

/** The dns room's primary thread → one of its helper threads (workers/dns/threads.ts → helper.ts).
 * `facts`: the own region changed (names without a region are checked against its list). */
export type DnsHelperRequest =
  | { id: number; type: 'metrics' }
  | { id: number; type: 'close' }
  | { id: number; type: 'facts'; region: string | null };

/** A helper thread's answer to the request with the same id. */
export type DnsHelperReply =
  | { id: number; type: 'metrics'; metrics: MetricsJson }
  | { id: number; type: 'close' }
  | { id: number; type: 'facts' };

/** A helper thread's workerData: the room's settings, and with -check_services a port serving the
 * token room's services() (relayed by the primary, workers/dns/services-relay.ts) and the own
 * region at start. */
export interface DnsHelperData<S = unknown> {
  settings: S;
  services: { port: MessagePort; region: string | null } | null;
}

/** Posted once by a helper thread when its listeners are bound (or could not be). */
export type DnsHelperStatus = { type: 'ready' } | { type: 'failed'; error: WireError };

export function isRoomStatus(v: unknown): v is RoomStatus {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as { type?: unknown; v?: unknown };
  return (m.type === 'ready' || m.type === 'failed') && m.v === PROTOCOL_VERSION;
}
