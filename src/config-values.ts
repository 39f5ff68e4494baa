// The checks of single flag values behind parseConfig (config.ts): each error names the flag and
// the bad value and is RUNSD_USAGE (exit 2; test/config.test.ts).
import { BlockList, isIP } from 'node:net';
import { RunsdError } from './errors.ts';

export interface HostPort {
  host: string;
  port: number;
}

export function usage(msg: string): RunsdError {
  return new RunsdError('RUNSD_USAGE', `runsd: ${msg}`);
}

export function intFlag(name: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw usage(`invalid value "${text}" for -${name}: expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

export function choice<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  const lower = text.toLowerCase();
  if (!(allowed as readonly string[]).includes(lower)) {
    throw usage(`invalid value "${text}" for -${name}: expected one of ${allowed.join(', ')}`);
  }
  return lower as T;
}

const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseHostPort(name: string, text: string, defaultHost: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]+)$/.exec(text);
  if (!m) throw usage(`invalid value "${text}" for -${name}: expected [HOST]:PORT`);
  const host = m[1] ?? (m[2] || defaultHost);
  return { host, port: intFlag(name, m[3]!, 1, 65535) };
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** runsd never listens beyond loopback: /metrics shows service names and traffic, and the Cloud Run
 * Prometheus sidecar shares the instance's network, so 127.0.0.1 reaches it. */
export function loopbackOnly(name: string, a: HostPort): HostPort {
  const family = isIP(a.host);
  if (a.host.toLowerCase() === 'localhost') return { host: '127.0.0.1', port: a.port };
  if (family !== 0 && LOOPBACK.check(a.host, family === 6 ? 'ipv6' : 'ipv4')) return a;
  const shown = family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  throw usage(
    `invalid value "${shown}" for -${name}: ${a.host} is not a loopback address (use 127.0.0.1 or [::1]; a sidecar on the same instance reaches it)`,
  );
}

export function normalizeDomain(text: string): string {
  const d = text.toLowerCase().replace(/\.+$/, '');
  const labels = d.split('.');
  if (d.length === 0 || !labels.every((l) => LABEL_RE.test(l))) {
    throw usage(`invalid value "${text}" for -domain: expected a DNS name like run.internal.`);
  }
  return `${d}.`;
}

export function str(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}
