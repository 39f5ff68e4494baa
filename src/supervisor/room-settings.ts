// Each room's settings slice, built from the one Config (rooms never read argv/env themselves).

import type { DnsSettings } from '../../workers/dns/settings.ts';
import type { ProxySettings } from '../../workers/proxy/settings.ts';
import { METADATA_BUDGET, TOKEN_WAIT_MS, type TokenSettings } from '../../workers/token/settings.ts';
import type { Config } from '../config.ts';
import type { Plan } from '../domain/activation.ts';

/** The nameservers runsd itself and the DNS room forward to: -nameserver, else resolv.conf's. */
export function upstreamNameservers(config: Config, fromResolvConf: readonly string[]): string[] {
  if (config.nameserver) return [config.nameserver];
  return [...fromResolvConf];
}

export function dnsSettings(config: Config, upstreams: string[], ipv6: boolean) {
  return {
    host4: '127.0.0.1',
    host6: ipv6 ? '::1' : null,
    port: config.dnsPort,
    domain: config.domain,
    upstreams,
    threads: config.dnsThreads,
    ...(config.routes.length > 0 ? { routes: config.routes.map((r) => r.name) } : {}),
  } satisfies DnsSettings;
}

export function tokenSettings(config: Config, upstreams: string[]) {
  return {
    metadataHost: config.metadataHost,
    upstreams,
    staticToken: config.env.staticIdToken,
    maxConcurrent: 8,
    refreshAheadSec: 300,
    idleSec: 3600,
    ...METADATA_BUDGET,
  } satisfies TokenSettings;
}

export function proxySettings(
  config: Config,
  plan: Extract<Plan, { active: true }>,
  upstreams: string[],
  ipv6: boolean,
) {
  return {
    mode: plan.mode,
    host4: '127.0.0.1',
    host6: plan.mode === 'dns' && ipv6 ? '::1' : null,
    port: plan.mode === 'dns' ? config.httpProxyPort : 0,
    domain: config.domain,
    urlFormat: config.urlFormat,
    authHeader: config.authHeader,
    projectHash: config.projectHash,
    projectNumber: config.projectNumber,
    upstreams,
    ...(config.routes.length > 0 ? { routes: config.routes } : {}),
    ...(config.accessLog ? { accessLog: true } : {}),
    tokenWaitMs: TOKEN_WAIT_MS,
    // Development only (npm start against the emulator, no root): the front end's port instead of 443.
    ...(config.devUpstreamPort !== null ? { upstreamPort: config.devUpstreamPort } : {}),
  } satisfies ProxySettings;
}

/** The child's environment in env mode: clients send absolute-form requests to our proxy. */
export function envModeChildEnv(
  base: Readonly<Record<string, string>>,
  proxyPort: number,
): Record<string, string> {
  const url = `http://127.0.0.1:${proxyPort}`;
  const noProxy = (base['NO_PROXY'] ?? base['no_proxy'] ?? '').split(',').filter(Boolean);
  for (const local of ['localhost', '127.0.0.1', '::1']) if (!noProxy.includes(local)) noProxy.push(local);
  return {
    ...base,
    HTTP_PROXY: url,
    http_proxy: url,
    NO_PROXY: noProxy.join(','),
    no_proxy: noProxy.join(','),
    // Node ≥ 24 only honours HTTP_PROXY for fetch/http when asked to.
    NODE_USE_ENV_PROXY: '1',
  };
}
