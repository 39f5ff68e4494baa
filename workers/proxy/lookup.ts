// How the proxy resolves upstream names: through the ORIGINAL nameservers (in DNS mode the system
// resolver points at our own DNS room and its search list). A session is opened rarely, so this is
// off the hot path.
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { createUpstreamLookup } from '../../src/net/upstream-lookup.ts';

type Cb = (
  err: NodeJS.ErrnoException | null,
  address?: string | dns.LookupAddress[],
  family?: number,
) => void;

function answer(ip: string, options: dns.LookupOptions, cb: Cb): void {
  const family = ip.includes(':') ? 6 : 4;
  if (options?.all) process.nextTick(cb, null, [{ address: ip, family }]);
  else process.nextTick(cb, null, ip, family);
}

/** Fixed answers (tests), e.g. {"*.run.app": "127.0.0.1"}; other names go to `fallback`. */
export function staticLookup(table: Record<string, string>, fallback: LookupFunction): LookupFunction {
  const match = (name: string): string | undefined => {
    const n = name.toLowerCase();
    if (table[n]) return table[n];
    for (const [pat, ip] of Object.entries(table))
      if (pat.startsWith('*.') && n.endsWith(pat.slice(1))) return ip;
    return undefined;
  };
  return ((hostname: string, options: dns.LookupOptions, cb: Cb) => {
    const ip = match(hostname);
    if (ip === undefined) return fallback(hostname, options, cb as never);
    answer(ip, options, cb);
  }) as LookupFunction;
}

/** Upstream names through the ORIGINAL nameservers (src/net/upstream-lookup.ts); the system
 * resolver only when none are known. */
export function upstreamLookup(servers: string[]): LookupFunction {
  if (servers.length === 0) return dns.lookup as unknown as LookupFunction;
  return createUpstreamLookup(servers) as unknown as LookupFunction;
}
