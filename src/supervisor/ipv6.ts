// Whether ::1 can be bound here (IPv6 may be disabled in the container or namespace). Checked by
// binding rather than by reading interfaces: that is the question the listeners will ask.
import { createSocket } from 'node:dgram';
import { literalAddress } from '../net/literal-address.ts';

export function loopbackIpv6Works(): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket({ type: 'udp6', ipv6Only: true, lookup: literalAddress });
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(0, '::1', () => {
      s.close();
      resolve(true);
    });
  });
}
