// dgram's `lookup` for sockets bound to an IP literal (every runsd listener binds 127.0.0.1 or ::1).
// The default lookup first asks net.isIP(), and the first IPv6 check in a thread compiles V8's
// IPv6 regular expression: ~4 ms of start-up per thread (measured: `net.isIPv6('::1')` cold).
import type { LookupOneOptions } from 'node:dns';

type Callback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

export function literalAddress(
  address: string,
  _options: LookupOneOptions | number,
  callback: Callback,
): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}
