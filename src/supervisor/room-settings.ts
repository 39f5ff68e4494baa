// Each room's settings slice, built from the one Config (rooms never read argv/env themselves).

import type { DnsSettings } from '../../workers/dns/settings.ts';
import type { ProxySettings } from '../../workers/proxy/settings.ts';
import { METADATA_BUDGET, TOKEN_WAIT_MS, type TokenSettings } from '../../workers/token/settings.ts';
import { type Config, cloudRunEnvSignal } from '../config.ts';
import type { Plan } from '../domain/activation.ts';

/** The nameservers runsd itself and the DNS room forward to: -nameserver, else resolv.conf's. */
export function upstreamNameservers(config: Config, fromResolvConf: readonly string[]): string[] {
  if (config.nameserver) return [config.nameserver];
  return [...fromResolvConf];
}

/**
 * -check_services, when it may run: on Cloud Run (K_SERVICE, …) or with an explicit metadata host
 * (the emulator). Elsewhere (-gcp_region on a laptop) there is no service account to list with,
 * and runsd must not start talking to Google on its own.
 */
export function servicesCheck(config: Config): { intervalSec: number } | null {
  if (!config.checkServices) return null;
  if (cloudRunEnvSignal(config.env) === null && config.metadataHost === null) return null;
  return { intervalSec: config.servicesRefreshSec };
}

export function dnsSettings(config: Config, upstreams: string[], ipv6: boolean) {
  const services = servicesCheck(config);
  return {
    host4: '127.0.0.1',
    host6: ipv6 ? '::1' : null,
    port: config.dnsPort,
    domain: config.domain,
    upstreams,
    threads: config.dnsThreads,
    ...(config.routes.length > 0 ? { routes: config.routes.map((r) => r.name) } : {}),
    ...(services ? { services } : {}),
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
    services: withPort(servicesCheck(config), config.devUpstreamPort),
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
    ...(servicesCheck(config) ? { services: servicesCheck(config)! } : {}),
    ...(config.accessLog ? { accessLog: true } : {}),
    tokenWaitMs: TOKEN_WAIT_MS,
    // Development only (npm start against the emulator, no root): the front end's port instead of 443.
    ...(config.devUpstreamPort !== null ? { upstreamPort: config.devUpstreamPort } : {}),
  } satisfies ProxySettings;
}

/** Development against the emulator (RUNSD_DEV_UPSTREAM_PORT): its front end also serves the Admin API. */
function withPort(s: { intervalSec: number } | null, devPort: number | null) {
  return s && devPort !== null ? { ...s, adminPort: devPort } : s;
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
