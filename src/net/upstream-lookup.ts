// runsd's own name lookups (the proxy resolving *.run.app, the token room resolving the metadata
// host) go straight to the ORIGINAL nameservers, never through runsd's resolver and never through
// the search list: the names are fully qualified, and a lookup through 127.0.0.1 would walk
// `search REGION.run.internal …` first. Returns a dns.lookup-compatible function for
// net.connect({lookup}) / http(s).request({lookup}), with a small TTL cache.

import type { LookupAddress, LookupOptions } from 'node:dns';
import { Resolver } from 'node:dns';
import { isIP } from 'node:net';
import { parseNameserver } from '../domain/nameserver.ts';

type Callback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

export type LookupFn = (
  hostname: string,
  options: LookupOptions | number | Callback,
  callback?: Callback,
) => void;

export interface UpstreamLookupOptions {
  timeoutMs?: number;
  tries?: number;
  /** Cap on cached TTLs (s); answers are also kept at least 1 s. */
  maxTtlSec?: number;
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  addrs: LookupAddress[];
  expiresAt: number;
}

export function createUpstreamLookup(upstreams: string[], opts: UpstreamLookupOptions = {}): LookupFn {
  const resolver = new Resolver({ timeout: opts.timeoutMs ?? 2000, tries: opts.tries ?? 2 });
  // setServers takes "IP", "IP:PORT" and "[IPv6]:PORT"; normalise through our parser first.
  resolver.setServers(
    upstreams.map((u) => {
      const ns = parseNameserver(u);
      if (!ns) throw new Error(`invalid nameserver "${u}"`);
      return ns.family === 6 ? `[${ns.host}]:${ns.port}` : `${ns.host}:${ns.port}`;
    }),
  );
  const now = opts.now ?? Date.now;
  const maxTtl = opts.maxTtlSec ?? 300;
  const maxEntries = opts.maxEntries ?? 256;
  const cache = new Map<string, Entry>();

  const resolveFamily = (host: string, family: 4 | 6): Promise<{ addrs: LookupAddress[]; ttl: number }> =>
    new Promise((resolve) => {
      const cb = (err: NodeJS.ErrnoException | null, recs: { address: string; ttl: number }[]) => {
        if (err || !recs?.length) resolve({ addrs: [], ttl: 0 });
        else
          resolve({
            addrs: recs.map((r) => ({ address: r.address, family })),
            ttl: Math.min(...recs.map((r) => r.ttl)),
          });
      };
      if (family === 4) resolver.resolve4(host, { ttl: true }, cb);
      else resolver.resolve6(host, { ttl: true }, cb);
    });

  const lookupAll = async (host: string, family: 0 | 4 | 6): Promise<LookupAddress[]> => {
    const key = `${family}|${host}`;
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now()) return hit.addrs;
    const parts = await Promise.all(
      (family === 0 ? [4, 6] : [family]).map((f) => resolveFamily(host, f as 4 | 6)),
    );
    const addrs = parts.flatMap((p) => p.addrs);
    if (addrs.length > 0) {
      const ttl = Math.max(1, Math.min(maxTtl, ...parts.filter((p) => p.addrs.length).map((p) => p.ttl)));
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(key, { addrs, expiresAt: now() + ttl * 1000 });
    }
    return addrs;
  };

  return (hostname, options, callback) => {
    const cb = (typeof options === 'function' ? options : callback) as Callback;
    const o: LookupOptions =
      typeof options === 'object' ? options : typeof options === 'number' ? { family: options } : {};
    const fam = o.family === 'IPv4' ? 4 : o.family === 'IPv6' ? 6 : ((o.family ?? 0) as 0 | 4 | 6);
    const host = hostname.replace(/\.$/, '').toLowerCase();
    const literal = isIP(host);
    const done = (addrs: LookupAddress[]) => {
      if (addrs.length === 0) {
        const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        err.code = 'ENOTFOUND';
        (err as { hostname?: string }).hostname = hostname;
        process.nextTick(cb, err, o.all ? [] : '', 0);
      } else if (o.all) process.nextTick(cb, null, addrs);
      else process.nextTick(cb, null, addrs[0]?.address ?? '', addrs[0]?.family ?? 4);
    };
    if (literal) return done([{ address: host, family: literal }]);
    if (host === 'localhost') return done([{ address: '127.0.0.1', family: 4 }]);
    lookupAll(host, fam).then(done, () => done([]));
  };
}
