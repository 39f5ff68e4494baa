// The DNS room settings tests and benches start from: loopback IPv4 on a free port, the default
// zone; callers add the upstreams and what they vary.
import type { DnsSettings } from '../../workers/dns/settings.ts';

export function baseDnsSettings(over: Partial<DnsSettings> & Pick<DnsSettings, 'upstreams'>): DnsSettings {
  return { host4: '127.0.0.1', host6: null, port: 0, domain: 'run.internal.', ...over };
}
