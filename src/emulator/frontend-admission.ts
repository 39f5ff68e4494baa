// The fake front end's routing and invoker check, shared by plain requests, gRPC and WebSocket
// upgrades: a Host of a known service in one of its regions (either URL form), then — unless the
// service is public — an ID token for one of its audiences, as Cloud Run checks it.
import type { IncomingMessage } from 'node:http';
import { checkAuth, withoutSignature } from './frontend-auth.ts';
import type { Admission, FrontendOptions, FrontendStats, ServiceSpec } from './frontend-types.ts';
import { type HostMatch, parseServiceHost, serviceUrls, stripPort } from './routing.ts';

const host = (h: string) => stripPort(h).toLowerCase().replace(/\.$/, '');

export function createAdmission(
  opts: FrontendOptions,
  services: ReadonlyMap<string, ServiceSpec>,
  regions: readonly string[],
  stats: () => FrontendStats,
): (hostHeader: string, headers: IncomingMessage['headers']) => Admission {
  const domains = new Map<string, HostMatch>();
  for (const spec of services.values())
    for (const d of spec.domains ?? [])
      domains.set(d, { service: spec.name, region: (spec.regions ?? regions)[0]!, form: 'domain' });
  const keys = () => (typeof opts.jwks === 'function' ? opts.jwks() : opts.jwks)?.keys ?? [];
  return (hostHeader, headers) => {
    const m =
      parseServiceHost(hostHeader, opts.projectNumber, opts.projectHash) ??
      domains.get(host(hostHeader)) ??
      null;
    const spec = m ? services.get(m.service) : undefined;
    if (!m || !spec || !(spec.regions ?? regions).includes(m.region))
      return { kind: 'not-found' as const, m };
    if (m.tag !== undefined && !(spec.tags ?? []).includes(m.tag)) return { kind: 'not-found' as const, m };
    if (spec.public) return { kind: 'ok' as const, m, auth: null };
    const audiences = [
      ...serviceUrls(m.service, m.region, opts.projectNumber, opts.projectHash),
      ...(spec.audiences ?? []),
    ];
    const auth = checkAuth(headers, keys(), audiences);
    if (!auth.ok) {
      const failures = stats().authFailures;
      failures[auth.reason] = (failures[auth.reason] ?? 0) + 1;
      return { kind: 'denied' as const, m, auth };
    }
    // the service sees the token it was called with, minus its signature (like Cloud Run)
    const h = auth.via === 'x-serverless-authorization' ? 'x-serverless-authorization' : 'authorization';
    if (typeof headers[h] === 'string') headers[h] = withoutSignature(headers[h] as string);
    return { kind: 'ok' as const, m, auth };
  };
}
