// The proxy settings tests and benches start from: DNS mode on a free loopback port, defaults as
// the supervisor builds them; callers add the upstream (emulator) fields.
import type { ProxySettings } from '../../workers/proxy/settings.ts';

export function baseProxySettings(over: Partial<ProxySettings> = {}): ProxySettings {
  return {
    mode: 'dns',
    host4: '127.0.0.1',
    host6: null,
    port: 0,
    domain: 'run.internal.',
    urlFormat: 'auto',
    authHeader: 'x-serverless-authorization',
    projectHash: null,
    projectNumber: null,
    upstreams: [],
    ...over,
  };
}
