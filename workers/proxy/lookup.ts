// How the proxy resolves upstream names: through the ORIGINAL nameservers (in DNS mode the system
// resolver points at our own DNS room; asking it would work but adds a hop and a dependency).
// Answers are cached for their TTL (bounded); a session is opened rarely, so this is off the hot path.
import dns from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';

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

/** A dns.lookup-compatible function asking `servers` ("IP", "IP:PORT", "[IPv6]:PORT") directly. */
export function upstreamLookup(servers: string[]): LookupFunction {
  if (servers.length === 0) return dns.lookup as unknown as LookupFunction;
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers(servers);
  const cache = new Map<string, { ip: string; until: number }>();
  return ((hostname: string, options: dns.LookupOptions, cb: Cb) => {
    if (isIP(hostname)) return answer(hostname, options, cb);
    const hit = cache.get(hostname);
    if (hit && hit.until > Date.now()) return answer(hit.ip, options, cb);
    (async () => {
      const v4 = await resolver.resolve4(hostname, { ttl: true }).catch(() => []);
      const r = v4[0] ?? (await resolver.resolve6(hostname, { ttl: true }))[0];
      if (!r) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
      if (cache.size > 1000) cache.clear();
      cache.set(hostname, { ip: r.address, until: Date.now() + Math.min(r.ttl, 300) * 1000 });
      return r.address;
    })().then(
      (ip) => answer(ip, options, cb),
      (err: NodeJS.ErrnoException) => cb(Object.assign(err, { code: err.code ?? 'ENOTFOUND', hostname })),
    );
  }) as LookupFunction;
}
