// The supervisor's run: plan → rooms (token first, it knows the facts) → resolv.conf → child →
// wait → shutdown: resolv.conf is rewritten after every room is READY, before the command starts,
// and restored on every way out (test/e2e/resolv-conf.test.ts); the command's exit status becomes
// runsd's (test/e2e/process.test.ts). Never throws for the child's sake.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { constants } from 'node:os';
import type { Config } from '../config.ts';
import { decidePlan, type Plan } from '../domain/activation.ts';
import { renderResolvConf } from '../domain/resolv-conf-text.ts';
import { type Identity, resolveIdentity } from '../domain/users.ts';
import { RunsdError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Facts } from '../protocol.ts';
import { startChild } from './child.ts';
import { roomEntry } from './entries.ts';
import { loopbackIpv6Works } from './ipv6.ts';
import { ResolvConfFile } from './resolv-conf.ts';
import {
  dnsSettings,
  envModeChildEnv,
  proxySettings,
  tokenSettings,
  upstreamNameservers,
} from './room-settings.ts';
import { type RoomSpec, Rooms } from './rooms.ts';

// Signals whose default action would kill runsd (leaving resolv.conf rewritten) while there is no
// child to forward them to: during start-up they abort it; during shutdown they are ignored.
// (SIGUSR1 has bin/runsd's no-op listener; SIGWINCH is ignored by default.)
const EARLY_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'] as const;
const ignoreDuringShutdown = () => {};

export interface SupervisorDeps {
  log: Logger;
  isRoot: boolean;
  startedAt: number; // performance.now() origin of the process
}

function identityFor(config: Config): Identity | null {
  if (config.user === null) return null;
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  return resolveIdentity(config.user, read('/etc/passwd'), read('/etc/group'));
}

export async function runSupervisor(config: Config, deps: SupervisorDeps): Promise<number> {
  const { log } = deps;
  const identity = identityFor(config);
  const resolv = ResolvConfFile.read(config.resolvConfFile);
  const plan = decidePlan(config, deps.isRoot, resolv.parsed.nameservers);
  if (!plan.active) {
    log.info(1, plan.reason);
    const child = startChild({ command: config.command, env: { ...config.childEnv }, identity, log });
    return child.exited;
  }
  log.info(1, 'active', { mode: plan.mode, why: plan.reason });
  // prom-client costs ~20 MiB and tens of ms to load: only an active runsd needs it.
  const { createSupervisorMetrics } = await import('../metrics.ts');
  const metrics = createSupervisorMetrics();
  const rooms = new Rooms(
    { log, logSettings: { verbosity: config.verbosity, format: config.logFormat } },
    {
      region: config.region,
      projectNumber: config.projectNumber,
      projectId: null,
    },
  );
  rooms.on('restart', (room: string) => {
    metrics.roomRestarts.inc({ room });
    metrics.roomsUp.set({ room }, 0);
  });
  rooms.on('ready', (room: string) => {
    metrics.roomsUp.set({ room }, 1);
    // A series from the start, so rate() and increase() see the first restart (issue 13).
    metrics.roomRestarts.inc({ room }, 0);
  });
  let metricsServer: Server | null = null;
  // A signal before the child exists aborts start-up; the 'exit' hook restores resolv.conf.
  const early = (sig: NodeJS.Signals) => {
    log.warn(`received ${sig} during start-up; exiting`);
    process.exit(128 + (constants.signals[sig] ?? 0));
  };
  for (const sig of EARLY_SIGNALS) process.on(sig, early);
  try {
    const started = await startRooms(config, plan, rooms, resolv, log);
    if (plan.dns) {
      const ns = started.ipv6 ? ['127.0.0.1', '::1'] : ['127.0.0.1'];
      const write = (region: string | null) =>
        resolv.write(
          renderResolvConf({
            original: resolv.parsed,
            nameservers: ns,
            domain: config.domain,
            region,
            ndots: config.ndots,
          }),
        );
      write(started.facts.region);
      // The region may arrive later (metadata outage at start-up): then add it to the search list.
      if (started.facts.region === null) started.onFacts = (f) => f.region !== null && write(f.region);
      log.info(1, 'resolv.conf rewritten', { file: resolv.path, region: started.facts.region });
    }
    if (config.metricsAddr) {
      const { startMetricsEndpoint } = await import('./metrics-endpoint.ts');
      metricsServer = await startMetricsEndpoint(
        config.metricsAddr,
        {
          own: metrics.registry,
          rooms: async () => {
            const got = await Promise.allSettled(
              rooms.controls().map(([n, c]) => rooms.withTimeout(c.metrics(), `${n}.metrics`)),
            );
            return got.flatMap((g) => (g.status === 'fulfilled' ? [g.value] : []));
          },
        },
        log,
      );
    }
    const env =
      plan.mode === 'env' && plan.proxy
        ? envModeChildEnv(config.childEnv, Number(rooms.info('proxy')?.['port']))
        : { ...config.childEnv };
    const child = startChild({ command: config.command, env, identity, log });
    log.info(2, 'command started', { at_ms: Math.round(performance.now()) });
    for (const sig of EARLY_SIGNALS) process.off(sig, early);
    metrics.startupSeconds.set((performance.now() - deps.startedAt) / 1000);
    metrics.childUp.set(1);
    // DNS and proxy keep serving until the child has exited: its shutdown hooks may call services.
    const status = await child.exited;
    metrics.childUp.set(0);
    return status;
  } finally {
    // The child is gone (or never started): a late SIGTERM must not cut the restore short.
    for (const sig of EARLY_SIGNALS) {
      process.off(sig, early);
      process.on(sig, ignoreDuringShutdown);
    }
    metricsServer?.close();
    await rooms.closeAll();
    resolv.restore();
  }
}

interface Started {
  ipv6: boolean;
  facts: Facts;
  onFacts?: (f: Facts) => void;
}

async function startRooms(
  config: Config,
  plan: Extract<Plan, { active: true }>,
  rooms: Rooms,
  resolv: ResolvConfFile,
  log: Logger,
): Promise<Started> {
  const upstreams = upstreamNameservers(config, resolv.parsed.nameservers);
  if (plan.dns && upstreams.length === 0) {
    throw new RunsdError(
      'RUNSD_RESOLV_CONF',
      `runsd: no nameserver in ${resolv.path} to forward to; give one with -nameserver`,
    );
  }
  const ipv6 = plan.dns ? await loopbackIpv6Works() : false;
  // All rooms start at once (each thread costs ~100 ms of start-up CPU; on 2 cores that overlaps).
  // The proxy needs the facts only to serve requests: it gets them through setFacts before the
  // child starts, and the token room it asks for them is linked to it as soon as both are up.
  const specs: RoomSpec[] = [];
  if (plan.proxy) {
    specs.push({ name: 'token', entry: roomEntry('token'), settings: tokenSettings(config, upstreams) });
    specs.push({
      name: 'proxy',
      entry: roomEntry('proxy'),
      settings: proxySettings(config, plan, upstreams, ipv6),
      peers: ['token'],
    });
  }
  if (plan.dns) {
    const settings = dnsSettings(config, upstreams, ipv6);
    // -check_services: the dns room reads the service lists from the token room directly.
    const peers = plan.proxy && settings.services ? { peers: ['token'] } : {};
    specs.push({ name: 'dns', entry: roomEntry('dns'), settings, ...peers });
  }
  log.info(2, 'starting rooms', {
    rooms: specs.map((r) => r.name).join(','),
    at_ms: Math.round(performance.now()),
  });
  await rooms.startAll(specs);
  const started: Started = { ipv6, facts: await initialFacts(config, rooms, log) };
  await rooms.setFacts(started.facts);
  // A project hash makes the project number unnecessary (legacy URLs); the region is always needed.
  if (started.facts.region === null || (started.facts.projectNumber === null && config.projectHash === null))
    void retryFacts(config, rooms, started, log);
  return started;
}

async function askFacts(rooms: Rooms): Promise<Facts | null> {
  const token = rooms.control('token');
  if (!token) return null;
  return rooms.withTimeout(token.facts(), 'token.facts');
}

function merge(config: Config, got: Facts | null): Facts {
  return {
    region: config.region ?? got?.region ?? null,
    projectNumber: config.projectNumber ?? got?.projectNumber ?? null,
    projectId: got?.projectId ?? null,
  };
}

/** Flags first; the metadata server (through the token room) only for what flags did not give.
 * The wait is bounded twice: the room's facts() fails after its per-call timeouts (~1.2 s for a
 * silent server, docs/token.md "Timeouts"), and the control call after controlTimeoutMs (3 s). */
async function initialFacts(config: Config, rooms: Rooms, log: Logger): Promise<Facts> {
  const need = config.region === null || (config.projectNumber === null && config.projectHash === null);
  if (!need || !rooms.names().includes('token')) return merge(config, null);
  try {
    return merge(config, await askFacts(rooms));
  } catch (err) {
    log.warn(
      'metadata server unavailable at start-up; starting the command anyway and retrying in the background',
      {
        error: err instanceof Error ? err.message : String(err),
      },
    );
    return merge(config, null);
  }
}

async function retryFacts(config: Config, rooms: Rooms, started: Started, log: Logger): Promise<void> {
  for (let delay = 500; ; delay = Math.min(delay * 2, 30_000)) {
    await new Promise((r) => setTimeout(r, delay).unref());
    if (rooms.names().length === 0) return; // shutting down
    try {
      const facts = merge(config, await askFacts(rooms));
      if (facts.region === null && facts.projectNumber === null) continue;
      started.facts = facts;
      await rooms.setFacts(facts);
      started.onFacts?.(facts);
      log.info(1, 'facts learnt from the metadata server', {
        region: facts.region,
        project_number: facts.projectNumber,
      });
      return;
    } catch (err) {
      log.info(2, 'metadata server still unavailable', { error: String(err) });
    }
  }
}
