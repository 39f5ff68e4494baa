// The only reader of argv and the environment. Produces one frozen, validated Config; every error
// names the flag and the bad value (exit 2 via RUNSD_USAGE). The flag table and --help text are in
// config-flags.ts, the checks of single values in config-values.ts.

import { readFileSync } from 'node:fs';
import { FLAGS } from './config-flags.ts';
import {
  choice,
  type HostPort,
  intFlag,
  loopbackOnly,
  normalizeDomain,
  parseHostPort,
  str,
  usage,
} from './config-values.ts';
import { parseGoFlags } from './domain/goflags.ts';
import {
  envRouteEntries,
  parseRoutes,
  type RouteEntry,
  type RouteSpec,
  routesFileEntries,
} from './domain/routes.ts';
import type { AuthHeader, Mode, UrlFormat } from './domain/vocabulary.ts';
import { REGION_RE } from './domain/vocabulary.ts';

export { FLAGS, helpText, USAGE } from './config-flags.ts';

export type { AuthHeader, Mode, UrlFormat } from './domain/vocabulary.ts';
export type LogFormat = 'text' | 'json';

export type { HostPort } from './config-values.ts';
export type { RouteSpec } from './domain/routes.ts';

/** Environment facts runsd cares about, read once here. */
export interface EnvFacts {
  kService: string | null;
  cloudRunJob: string | null;
  cloudRunWorkerPool: string | null;
  port: string | null;
  staticIdToken: string | null; // CLOUD_RUN_ID_TOKEN (Go runsd compatibility)
  metadataHostEnv: string | null; // GCE_METADATA_HOST, else GCE_METADATA_IP
}

export interface Config {
  verbosity: number;
  logFormat: LogFormat;
  domain: string; // lower case, with trailing dot: "run.internal."
  ndots: number;
  nameserver: string | null;
  region: string | null;
  projectHash: string | null;
  projectNumber: string | null;
  skipDnsHijack: boolean;
  skipHttpProxy: boolean;
  /** -access_log: a Cloud Logging httpRequest line per proxied request. */
  accessLog: boolean;
  httpProxyPort: number;
  dnsPort: number;
  user: string | null;
  resolvConfFile: string;
  mode: Mode;
  metadataHost: string | null; // flag, else env; null = metadata.google.internal
  urlFormat: UrlFormat;
  authHeader: AuthHeader;
  metricsAddr: HostPort | null;
  dnsThreads: number;
  /** -route, RUNSD_ROUTES, -routes_file: short names sent to any HTTPS URL (src/domain/routes.ts). */
  routes: readonly RouteSpec[];
  /** -check_services (default on): list the project's services; refused or unreachable = off. */
  checkServices: boolean;
  /** -services_refresh: seconds between service list refreshes (jittered). */
  servicesRefreshSec: number;
  /** RUNSD_DEV_UPSTREAM_PORT: development against the emulator only (npm start): the front end's port instead of 443. */
  devUpstreamPort: number | null;
  env: EnvFacts;
  childEnv: Readonly<Record<string, string>>;
  command: readonly string[];
}

export type ParseResult = { kind: 'run'; config: Config } | { kind: 'help' } | { kind: 'version' };

export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): ParseResult {
  const parsed = parseGoFlags(argv, FLAGS);
  if (!parsed.ok) throw usage(parsed.error);
  const f = parsed.values;
  if (f.get('help') === 'true' || f.get('h') === 'true') return { kind: 'help' };
  if (f.get('version') === 'true') return { kind: 'version' };
  if (parsed.rest.length === 0) throw usage('no command given: put the program to run after --');

  const region = str(f.get('gcp_region'));
  if (region !== null && !REGION_RE.test(region)) {
    throw usage(`invalid value "${region}" for -gcp_region: expected a region like us-central1`);
  }
  const projectHash = str(f.get('gcp_project_hash')) ?? str(env['CLOUD_RUN_PROJECT_HASH']);
  if (projectHash !== null && !/^[a-z0-9]{1,20}$/.test(projectHash)) {
    throw usage(
      `invalid project hash "${projectHash}" (-gcp_project_hash / CLOUD_RUN_PROJECT_HASH): expected lower-case letters and digits like "abcdefghij"`,
    );
  }
  const projectNumber = str(f.get('project_number'));
  if (projectNumber !== null && !/^[1-9][0-9]{0,19}$/.test(projectNumber)) {
    throw usage(`invalid value "${projectNumber}" for -project_number: expected the numeric project number`);
  }
  const nameserver = str(f.get('nameserver'));
  if (nameserver !== null && !/^(\[[0-9a-fA-F:.]+\](:[0-9]+)?|[0-9a-fA-F:.]+)$/.test(nameserver)) {
    throw usage(
      `invalid value "${nameserver}" for -nameserver: expected an IP address, IP:PORT or [IPv6]:PORT`,
    );
  }
  const metricsText = str(f.get('metrics_addr'));
  const metadataHost =
    str(f.get('metadata_host')) ?? str(env['GCE_METADATA_HOST']) ?? str(env['GCE_METADATA_IP']);
  if (metadataHost !== null && !/^[A-Za-z0-9.\-[\]:]+$/.test(metadataHost)) {
    throw usage(
      `invalid metadata host "${metadataHost}" (-metadata_host / GCE_METADATA_HOST): expected HOST[:PORT]`,
    );
  }
  const resolvConfFile = f.get('resolv_conf_file') ?? '/etc/resolv.conf';
  if (resolvConfFile === '') throw usage('invalid value "" for -resolv_conf_file: expected a file path');
  const user = str(f.get('user'));
  if (user !== null && !/^[A-Za-z0-9._-]+(:[A-Za-z0-9._-]+)?$/.test(user)) {
    throw usage(`invalid value "${user}" for -user: expected NAME, UID, NAME:GROUP or UID:GID`);
  }

  const domain = normalizeDomain(f.get('domain') ?? 'run.internal.');
  const routes = Object.freeze(parseRoutes(routeEntries(parsed.lists.get('route') ?? [], f, env), domain));

  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;

  const envFacts: EnvFacts = Object.freeze({
    kService: str(env['K_SERVICE']),
    cloudRunJob: str(env['CLOUD_RUN_JOB']),
    cloudRunWorkerPool: str(env['CLOUD_RUN_WORKER_POOL']),
    port: str(env['PORT']),
    staticIdToken: str(env['CLOUD_RUN_ID_TOKEN']),
    metadataHostEnv: str(env['GCE_METADATA_HOST']) ?? str(env['GCE_METADATA_IP']),
  });
  const logFlag = choice('log_format', f.get('log_format') ?? 'text', ['text', 'json', 'auto'] as const);
  const config: Config = {
    verbosity: intFlag('v', f.get('v') ?? '0', 0, 10),
    // auto: Cloud Logging's JSON where Cloud Run collects stderr, text elsewhere.
    logFormat: logFlag !== 'auto' ? logFlag : cloudRunEnvSignal(envFacts) !== null ? 'json' : 'text',
    domain,
    ndots: intFlag('ndots', f.get('ndots') ?? '4', 1, 15),
    nameserver,
    region,
    projectHash,
    projectNumber,
    skipDnsHijack: f.get('skip_dns_hijack') === 'true',
    skipHttpProxy: f.get('skip_http_proxy') === 'true',
    accessLog: f.get('access_log') === 'true',
    httpProxyPort: intFlag('http_proxy_port', f.get('http_proxy_port') ?? '80', 1, 65535),
    dnsPort: intFlag('dns_port', f.get('dns_port') ?? '53', 1, 65535),
    user,
    resolvConfFile,
    mode: choice('mode', f.get('mode') ?? 'auto', ['auto', 'dns', 'env'] as const),
    metadataHost,
    urlFormat: choice('url_format', f.get('url_format') ?? 'auto', [
      'auto',
      'deterministic',
      'hash',
    ] as const),
    authHeader: choice('auth_header', f.get('auth_header') ?? 'x-serverless-authorization', [
      'x-serverless-authorization',
      'authorization',
    ] as const),
    metricsAddr:
      metricsText === null
        ? null
        : loopbackOnly('metrics_addr', parseHostPort('metrics_addr', metricsText, '127.0.0.1')),
    dnsThreads: intFlag('dns_threads', f.get('dns_threads') ?? '1', 1, 8),
    routes,
    checkServices: f.get('check_services') !== 'false',
    servicesRefreshSec: intFlag('services_refresh', f.get('services_refresh') ?? '60', 10, 3600),
    devUpstreamPort:
      str(env['RUNSD_DEV_UPSTREAM_PORT']) === null
        ? null
        : intFlag('RUNSD_DEV_UPSTREAM_PORT (env)', env['RUNSD_DEV_UPSTREAM_PORT']!, 1, 65535),
    env: envFacts,
    childEnv: Object.freeze(childEnv),
    command: Object.freeze([...parsed.rest]),
  };
  if (config.urlFormat === 'hash' && config.projectHash === null) {
    throw usage('-url_format=hash needs a project hash: set -gcp_project_hash or CLOUD_RUN_PROJECT_HASH');
  }
  return { kind: 'run', config: Object.freeze(config) };
}

/** Every route entry in order: -route flags, then RUNSD_ROUTES, then -routes_file lines. */
function routeEntries(
  flags: readonly string[],
  f: ReadonlyMap<string, string>,
  env: Readonly<Record<string, string | undefined>>,
): RouteEntry[] {
  const out: RouteEntry[] = flags.map((text, i) => ({ text, source: `-route #${i + 1}` }));
  out.push(...envRouteEntries(env['RUNSD_ROUTES'] ?? ''));
  const file = str(f.get('routes_file'));
  if (file !== null) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw usage(`cannot read -routes_file "${file}": ${(err as Error).message}`);
    }
    out.push(...routesFileEntries(text, file));
  }
  return out;
}

/** The Cloud Run variable that says this container runs there (a service, job or worker pool), or
 * null. Activation (src/domain/activation.ts) and -log_format=auto both ask this. */
export function cloudRunEnvSignal(env: EnvFacts): string | null {
  if (env.kService) return `K_SERVICE=${env.kService}`;
  if (env.cloudRunJob) return `CLOUD_RUN_JOB=${env.cloudRunJob}`;
  if (env.cloudRunWorkerPool) return `CLOUD_RUN_WORKER_POOL=${env.cloudRunWorkerPool}`;
  return null;
}
