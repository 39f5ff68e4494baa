// Minimal local lookup through the ORIGINAL nameservers (a shared src/net/upstream-lookup.ts is
// being written on branch `dns`; switch to it once merged). After start-up /etc/resolv.conf points at
// runsd's own resolver, so dns.lookup() must not be used for metadata.google.internal.
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';

export type Lookup = (host: string, signal?: AbortSignal) => Promise<string>;

/** Resolves A (then AAAA) records of `host` through `servers` ("IP", "IP:PORT", "[IPv6]:PORT"). */
export function upstreamLookup(servers: string[], timeoutMs: number): Lookup {
  return async (host, signal) => {
    if (isIP(host)) return host;
    if (servers.length === 0) throw new Error(`no upstream nameserver to resolve ${host}`);
    const r = new Resolver({ timeout: Math.max(1, Math.floor(timeoutMs / 2)), tries: 2 });
    r.setServers(servers);
    const onAbort = () => r.cancel();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Only "no such record" is worth asking for AAAA; a timeout would just repeat itself.
      const v4 = await r.resolve4(host).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENODATA' || err.code === 'ENOTFOUND') return [] as string[];
        throw err;
      });
      if (v4[0]) return v4[0];
      const v6 = await r.resolve6(host);
      if (v6[0]) return v6[0];
      throw new Error(`${host} has no address`);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  };
}
