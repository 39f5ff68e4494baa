// The dns room's settings slice (built by the supervisor from Config; see room-settings.ts).

export interface DnsSettings {
  /** IPv4 listen address, normally 127.0.0.1. */
  host4: string;
  /** IPv6 listen address (::1) when the stack has IPv6, else null. */
  host6: string | null;
  /** UDP and TCP port on both addresses; 0 picks a free one (tests). */
  port: number;
  /** Canonical internal zone, e.g. "run.internal.". */
  domain: string;
  /** -route names ("billing", "billing.acme"): answered locally like service names. */
  routes?: string[];
  /** -check_services: names that are no service answer NXDOMAIN (lists from the token room). */
  services?: { intervalSec: number };
  /** Original nameservers: "IP", "IP:PORT" or "[IPv6]:PORT". */
  upstreams: string[];
  /** Per-attempt upstream timeout (ms); default 1000. */
  attemptMs?: number;
  /** Total budget before SERVFAIL (ms); default 3000 (below glibc's 5 s per try). */
  totalMs?: number;
  /** Idle TCP client connections are closed after this (ms); default 10000. */
  tcpIdleMs?: number;
  /** Listener threads sharing the port via SO_REUSEPORT (each with its own cache); default 2 when
   * there are 2+ CPUs, else 1. */
  threads?: number;
  /** Cache capacity in entries (per thread); default 10000. */
  cacheSize?: number;
}
