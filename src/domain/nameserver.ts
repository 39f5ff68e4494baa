// Parses a nameserver as written in resolv.conf or given with -nameserver: "IP", "IP:PORT" or
// "[IPv6]:PORT" (a bare IPv6 address has several colons and no port).
import { isIP, SocketAddress } from 'node:net';

export interface Nameserver {
  host: string;
  port: number;
  family: 4 | 6;
  /** Stable text for logs and metric labels: "1.2.3.4:53" or "[::1]:53". */
  label: string;
}

export function parseNameserver(text: string): Nameserver | null {
  let host = text.trim();
  let port = 53;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(host);
  if (bracket) {
    host = bracket[1] ?? '';
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else {
    const v4port = /^([0-9.]+):(\d+)$/.exec(host);
    if (v4port) {
      host = v4port[1] ?? '';
      port = Number(v4port[2]);
    }
  }
  // A zone id (fe80::1%eth0) is allowed by isIP.
  const family = isIP(host);
  if (family === 0 || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  const f = family === 6 ? 6 : 4;
  // The canonical text (0:0::1 → ::1) is what replies' source addresses are compared with.
  if (f === 6 && !host.includes('%')) host = new SocketAddress({ address: host, family: 'ipv6' }).address;
  return { host, port, family: f, label: f === 6 ? `[${host}]:${port}` : `${host}:${port}` };
}
