// Supervisor-side room lifecycle: start a Worker with a RoomInit, wait for READY (with a timeout),
// restart a room that dies after READY (with backoff, re-linking its peers), and never restart a
// room that failed its bootstrap (that is a configuration problem: fail loudly instead).
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort, type Worker } from 'node:worker_threads';
import * as Comlink from 'comlink';
import type { LogFormat } from '../config.ts';
import { RunsdError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { portEndpoint } from '../port-endpoint.ts';
import {
  type Facts,
  PROTOCOL_VERSION,
  type RoomApi,
  type RoomControl,
  type RoomInfo,
  type RoomInit,
  type RoomName,
} from '../protocol.ts';
import { roomHeap } from '../room-heap.ts';
import { withTimeout } from '../timeout.ts';
import { startWorker } from './entries.ts';
import { peerChannels } from './peer-channels.ts';
import { awaitReady } from './ready.ts';
import { crashStreak, pinPort, restartDelay } from './restart-policy.ts';
import type { RoomSpec } from './room-spec.ts';

export type { RoomSpec } from './room-spec.ts';

export interface RoomsOptions {
  log: Logger;
  logSettings: { verbosity: number; format: LogFormat };
  readyTimeoutMs?: number;
  controlTimeoutMs?: number;
  backoffMs?: { initial: number; max: number };
}

interface Live {
  spec: RoomSpec;
  worker: Worker;
  control: Comlink.Remote<RoomControl>;
  controlPort: MessagePort;
  info: RoomInfo;
  restarts: number;
  /** Crashes in a row, each soon after its start (restart-policy.ts): drives the backoff. */
  streak: number;
  startedAt: number;
  stopping: boolean;
}

/** A map from room name to that room's control API, typed per name. */
interface ControlApis {
  get<N extends RoomName>(name: N): Comlink.Remote<RoomApi<N>> | undefined;
  set<N extends RoomName>(name: N, api: Comlink.Remote<RoomApi<N>>): void;
}

/** Events: 'ready' (name), 'restart' (name, attempt). Crashes and failed restarts are logged. */
export class Rooms extends EventEmitter {
  private readonly live = new Map<string, Live>();
  /** The control API of each room started, typed by its name (the same object as its Live's). */
  private readonly apis: ControlApis = new Map();
  private readonly opts: Required<RoomsOptions>;
  private facts: Facts;
  private closing = false;

  constructor(opts: RoomsOptions, facts: Facts) {
    super();
    this.opts = {
      readyTimeoutMs: 5000,
      controlTimeoutMs: 3000,
      backoffMs: { initial: 100, max: 5000 },
      ...opts,
    };
    this.facts = facts;
  }

  info(name: string): RoomInfo | undefined {
    return this.live.get(name)?.info;
  }

  names(): string[] {
    return [...this.live.keys()];
  }

  restarts(name: string): number {
    return this.live.get(name)?.restarts ?? 0;
  }

  /** Starts rooms in the given order; peers must come earlier in the list or be started together. */
  async startAll(specs: RoomSpec[]): Promise<void> {
    await Promise.all(specs.map((s) => this.start(s, 0, 0)));
  }

  private async start(spec: RoomSpec, restarts: number, streak: number): Promise<Live> {
    const control = new MessageChannel();
    const { peers, transfer, pending } = peerChannels(
      spec,
      [...this.live.values()].map((l) => l.spec),
    );
    transfer.unshift(control.port2);
    const init: RoomInit = {
      v: PROTOCOL_VERSION,
      room: spec.name,
      settings: spec.settings,
      facts: this.facts,
      log: this.opts.logSettings,
      control: control.port2,
      peers,
    };
    const worker = startWorker(spec.entry, {
      workerData: init,
      transferList: transfer,
      name: `runsd-${spec.name}`,
      resourceLimits: roomHeap(spec.name),
    });
    const info = await awaitReady(spec.name, worker, this.opts.readyTimeoutMs);
    const live: Live = {
      spec: pinPort(spec, info),
      worker,
      control: this.wrapControl(spec.name, control.port1),
      controlPort: control.port1,
      info,
      restarts,
      streak,
      startedAt: performance.now(),
      stopping: false,
    };
    this.live.set(spec.name, live);
    this.emit('ready', spec.name);
    // Start-up time, as bench/startup.ts would see it: ms since this process started.
    this.opts.log.info(2, 'room ready', { room: spec.name, at_ms: Math.round(performance.now()) });
    worker.on('exit', (code) => this.onExit(live, code));
    worker.on('error', (err) => {
      // Say why a room died (the exit code alone does not): the uncaught error's first stack frame.
      this.opts.log.warn(`room ${spec.name} crashed: ${err.message}`, {
        at: err.stack
          ?.split('\n')
          .find((l: string) => l.trim().startsWith('at '))
          ?.trim(),
      });
    });
    // Hand the other ends to the peers that are already running (they may still be starting).
    for (const [peerName, port] of pending) this.deliverPeer(peerName, spec.name, port);
    return live;
  }

  private deliverPeer(target: string, from: string, port: MessagePort): void {
    const tryDeliver = (attempt: number) => {
      const t = this.live.get(target);
      if (!t) {
        if (attempt < 100 && !this.closing) setTimeout(() => tryDeliver(attempt + 1), 20);
        else port.close();
        return;
      }
      this.withTimeout(
        t.control.attachPeer(from, Comlink.transfer(port, [port as never])),
        `${target}.attachPeer`,
      ).catch((err) =>
        this.opts.log.warn(`could not link room ${from} to ${target}`, { error: String(err) }),
      );
    };
    tryDeliver(0);
  }

  private onExit(live: Live, code: number): void {
    if (live.stopping || this.closing || this.live.get(live.spec.name) !== live) return;
    this.live.delete(live.spec.name);
    live.controlPort.close();
    const attempt = live.restarts + 1;
    const streak = crashStreak(live.streak, performance.now() - live.startedAt);
    const delay = restartDelay(streak, this.opts.backoffMs);
    this.opts.log.warn(`room ${live.spec.name} stopped unexpectedly; restarting`, {
      exit_code: code,
      attempt,
      delay_ms: delay,
    });
    this.emit('restart', live.spec.name, attempt);
    setTimeout(() => {
      if (this.closing) return;
      this.start(live.spec, attempt, streak).catch((err: unknown) => {
        // A restart that fails its bootstrap is retried with backoff too: the room worked before.
        this.opts.log.error(`room ${live.spec.name} could not be restarted`, { error: String(err) });
        const ghost: Live = {
          ...live,
          restarts: attempt,
          streak,
          startedAt: performance.now(),
          stopping: false,
        };
        this.live.set(live.spec.name, ghost);
        this.onExit(ghost, -1);
      });
    }, delay).unref();
  }

  async setFacts(facts: Facts): Promise<void> {
    // Every room started with this.facts in its RoomInit: when nothing changed (all facts came from
    // flags), a round trip would only make the command wait for the busiest room.
    const same =
      facts.region === this.facts.region &&
      facts.projectNumber === this.facts.projectNumber &&
      facts.projectId === this.facts.projectId;
    this.facts = facts;
    if (same) return;
    await Promise.allSettled(
      [...this.live.values()].map((l) =>
        this.withTimeout(l.control.setFacts(facts), `${l.spec.name}.setFacts`),
      ),
    );
  }

  /** A live room's control API with its own extension, e.g. control('token').facts(). */
  control<N extends RoomName>(name: N): Comlink.Remote<RoomApi<N>> | undefined {
    return this.live.has(name) ? this.apis.get(name) : undefined;
  }

  private wrapControl<N extends RoomName>(name: N, port: MessagePort): Comlink.Remote<RoomApi<N>> {
    const api = Comlink.wrap<RoomApi<N>>(portEndpoint(port));
    this.apis.set(name, api);
    return api;
  }

  /** Each live room's control API, for metrics scrapes. */
  controls(): [string, Comlink.Remote<RoomControl>][] {
    return [...this.live.entries()].map(([n, l]) => [n, l.control]);
  }

  withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    const ms = this.opts.controlTimeoutMs;
    return withTimeout(
      p,
      ms,
      () => new RunsdError('RUNSD_PORT_TIMEOUT', `${what}: no answer within ${ms} ms`),
    );
  }

  /** Closes every room: asks it to release its sockets, then terminates the thread. */
  async closeAll(): Promise<void> {
    this.closing = true;
    await Promise.allSettled(
      [...this.live.values()].map(async (l) => {
        l.stopping = true;
        try {
          await this.withTimeout(l.control.close(), `${l.spec.name}.close`);
        } catch (err) {
          this.opts.log.warn(`room ${l.spec.name} did not close cleanly`, { error: String(err) });
        }
        l.controlPort.close();
        await l.worker.terminate();
      }),
    );
    this.live.clear();
  }
}
