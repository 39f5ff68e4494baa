// How the proxy resolves upstream names. Production: through the original nameservers (the app's
// resolv.conf points at our own DNS room). Tests: fixed answers like {"*.run.app": "127.0.0.1"}.
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';

export function staticLookup(table: Record<string, string>, fallback: LookupFunction): LookupFunction {
  const match = (name: string): string | undefined => {
    const n = name.toLowerCase();
    if (table[n]) return table[n];
    for (const [pat, ip] of Object.entries(table))
      if (pat.startsWith('*.') && n.endsWith(pat.slice(1))) return ip;
    return undefined;
  };
  return ((hostname: string, options: dns.LookupOptions, cb: (...a: unknown[]) => void) => {
    const ip = match(hostname);
    if (ip === undefined) return fallback(hostname, options, cb as never);
    const family = ip.includes(':') ? 6 : 4;
    if (options?.all) process.nextTick(cb, null, [{ address: ip, family }]);
    else process.nextTick(cb, null, ip, family);
  }) as LookupFunction;
}

/** Until the DNS room's upstream lookup is merged: the system resolver. */
export function defaultLookup(_upstreams: string[]): LookupFunction {
  return dns.lookup as unknown as LookupFunction;
}
