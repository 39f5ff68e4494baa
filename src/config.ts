// The only reader of argv and the environment. Produces one frozen, validated Config; every error
// names the flag and the bad value (exit 2 via RUNSD_USAGE).

import { BlockList, isIP } from 'node:net';
import { type FlagSpec, parseGoFlags } from './domain/goflags.ts';
import type { AuthHeader, Mode, UrlFormat } from './domain/vocabulary.ts';
import { REGION_RE } from './domain/vocabulary.ts';
import { RunsdError } from './errors.ts';

export type { AuthHeader, Mode, UrlFormat } from './domain/vocabulary.ts';
export type LogFormat = 'text' | 'json';

export interface HostPort {
  host: string;
  port: number;
}

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
  /** RUNSD_DEV_UPSTREAM_PORT: development against the emulator only (npm start): the front end's port instead of 443. */
  devUpstreamPort: number | null;
  env: EnvFacts;
  childEnv: Readonly<Record<string, string>>;
  command: readonly string[];
}

export type ParseResult = { kind: 'run'; config: Config } | { kind: 'help' } | { kind: 'version' };

interface FlagDoc extends FlagSpec {
  arg?: string;
  def?: string;
  help: string;
  group: 'runsd' | 'new' | 'ignored';
}

export const FLAGS: readonly FlagDoc[] = [
  { name: 'v', arg: 'N', def: '0', help: 'log verbosity 0-10 (0: only errors)', group: 'runsd' },
  {
    name: 'domain',
    arg: 'DOMAIN',
    def: 'run.internal.',
    help: 'internal DNS zone for service names',
    group: 'runsd',
  },
  { name: 'ndots', arg: 'N', def: '4', help: 'ndots option written to resolv.conf (1-15)', group: 'runsd' },
  {
    name: 'nameserver',
    arg: 'IP[:PORT]',
    help: 'upstream nameserver (default: those in resolv.conf)',
    group: 'runsd',
  },
  {
    name: 'gcp_region',
    arg: 'REGION',
    help: "this service's region (default: from the metadata server)",
    group: 'runsd',
  },
  {
    name: 'gcp_project_hash',
    arg: 'HASH',
    help: 'project hash for legacy *.a.run.app URLs (env CLOUD_RUN_PROJECT_HASH)',
    group: 'runsd',
  },
  {
    name: 'skip_dns_hijack',
    boolean: true,
    help: 'do not run the DNS server nor touch resolv.conf',
    group: 'runsd',
  },
  { name: 'skip_http_proxy', boolean: true, help: 'do not run the HTTP proxy', group: 'runsd' },
  {
    name: 'http_proxy_port',
    arg: 'PORT',
    def: '80',
    help: 'proxy port on loopback (DNS mode)',
    group: 'runsd',
  },
  { name: 'dns_port', arg: 'PORT', def: '53', help: 'DNS port on loopback', group: 'runsd' },
  { name: 'user', arg: 'NAME|UID[:GROUP|GID]', help: 'run the command as this user', group: 'runsd' },
  {
    name: 'resolv_conf_file',
    arg: 'PATH',
    def: '/etc/resolv.conf',
    help: 'resolv.conf to rewrite and restore',
    group: 'runsd',
  },
  {
    name: 'mode',
    arg: 'auto|dns|env',
    def: 'auto',
    help: 'dns: resolv.conf + :80 (root); env: HTTP_PROXY on a free port; auto: dns as root on Cloud Run, else env',
    group: 'new',
  },
  {
    name: 'metadata_host',
    arg: 'HOST[:PORT]',
    help: 'metadata server (default: env GCE_METADATA_HOST, else metadata.google.internal)',
    group: 'new',
  },
  {
    name: 'project_number',
    arg: 'NUMBER',
    help: 'project number for deterministic URLs (default: from the metadata server)',
    group: 'new',
  },
  {
    name: 'url_format',
    arg: 'auto|deterministic|hash',
    def: 'auto',
    help: 'service URL form; auto: hash when a project hash is given',
    group: 'new',
  },
  {
    name: 'auth_header',
    arg: 'NAME',
    def: 'x-serverless-authorization',
    help: 'header for the ID token; "authorization" = Go runsd behaviour',
    group: 'new',
  },
  {
    name: 'metrics_addr',
    arg: '[HOST]:PORT',
    help: 'serve Prometheus /metrics here (HOST must be loopback, default 127.0.0.1; default off)',
    group: 'new',
  },
  {
    name: 'dns_threads',
    arg: 'N',
    def: '1',
    help: 'DNS listener threads on one port (1-8); each extra one adds ~30 MiB and ~40% more queries/s',
    group: 'new',
  },
  {
    name: 'log_format',
    arg: 'text|json',
    def: 'text',
    help: 'json: one Cloud Logging object per line',
    group: 'new',
  },
  { name: 'help', boolean: true, help: 'show this help', group: 'new' },
  { name: 'h', boolean: true, help: 'show this help', group: 'new' },
  { name: 'version', boolean: true, help: 'print the version', group: 'new' },
  { name: 'logtostderr', boolean: true, help: 'accepted and ignored (klog)', group: 'ignored' },
  { name: 'alsologtostderr', boolean: true, help: 'accepted and ignored (klog)', group: 'ignored' },
  { name: 'stderrthreshold', arg: 'X', help: 'accepted and ignored (klog)', group: 'ignored' },
];

export const USAGE = 'usage: runsd [flags] -- COMMAND [ARGS...]   (runsd --help for the flags)';

function usage(msg: string): RunsdError {
  return new RunsdError('RUNSD_USAGE', `runsd: ${msg}`);
}

function intFlag(name: string, text: string, min: number, max: number): number {
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw usage(`invalid value "${text}" for -${name}: expected a whole number from ${min} to ${max}`);
  }
  return Number(text);
}

function choice<T extends string>(name: string, text: string, allowed: readonly T[]): T {
  const lower = text.toLowerCase();
  if (!(allowed as readonly string[]).includes(lower)) {
    throw usage(`invalid value "${text}" for -${name}: expected one of ${allowed.join(', ')}`);
  }
  return lower as T;
}

const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function parseHostPort(name: string, text: string, defaultHost: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):([0-9]+)$/.exec(text);
  if (!m) throw usage(`invalid value "${text}" for -${name}: expected [HOST]:PORT`);
  const host = m[1] ?? (m[2] || defaultHost);
  return { host, port: intFlag(name, m[3]!, 1, 65535) };
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
LOOPBACK.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

/** runsd never listens beyond loopback: /metrics shows service names and traffic, and the Cloud Run
 * Prometheus sidecar shares the instance's network, so 127.0.0.1 reaches it. */
function loopbackOnly(name: string, a: HostPort): HostPort {
  const family = isIP(a.host);
  if (a.host.toLowerCase() === 'localhost') return { host: '127.0.0.1', port: a.port };
  if (family !== 0 && LOOPBACK.check(a.host, family === 6 ? 'ipv6' : 'ipv4')) return a;
  const shown = family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  throw usage(
    `invalid value "${shown}" for -${name}: ${a.host} is not a loopback address (use 127.0.0.1 or [::1]; a sidecar on the same instance reaches it)`,
  );
}

function normalizeDomain(text: string): string {
  const d = text.toLowerCase().replace(/\.+$/, '');
  const labels = d.split('.');
  if (d.length === 0 || !labels.every((l) => LABEL_RE.test(l))) {
    throw usage(`invalid value "${text}" for -domain: expected a DNS name like run.internal.`);
  }
  return `${d}.`;
}

function str(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}

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

  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;

  const config: Config = {
    verbosity: intFlag('v', f.get('v') ?? '0', 0, 10),
    logFormat: choice('log_format', f.get('log_format') ?? 'text', ['text', 'json'] as const),
    domain: normalizeDomain(f.get('domain') ?? 'run.internal.'),
    ndots: intFlag('ndots', f.get('ndots') ?? '4', 1, 15),
    nameserver,
    region,
    projectHash,
    projectNumber,
    skipDnsHijack: f.get('skip_dns_hijack') === 'true',
    skipHttpProxy: f.get('skip_http_proxy') === 'true',
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
    devUpstreamPort:
      str(env['RUNSD_DEV_UPSTREAM_PORT']) === null
        ? null
        : intFlag('RUNSD_DEV_UPSTREAM_PORT (env)', env['RUNSD_DEV_UPSTREAM_PORT']!, 1, 65535),
    env: Object.freeze({
      kService: str(env['K_SERVICE']),
      cloudRunJob: str(env['CLOUD_RUN_JOB']),
      cloudRunWorkerPool: str(env['CLOUD_RUN_WORKER_POOL']),
      port: str(env['PORT']),
      staticIdToken: str(env['CLOUD_RUN_ID_TOKEN']),
      metadataHostEnv: str(env['GCE_METADATA_HOST']) ?? str(env['GCE_METADATA_IP']),
    }),
    childEnv: Object.freeze(childEnv),
    command: Object.freeze([...parsed.rest]),
  };
  if (config.urlFormat === 'hash' && config.projectHash === null) {
    throw usage('-url_format=hash needs a project hash: set -gcp_project_hash or CLOUD_RUN_PROJECT_HASH');
  }
  return { kind: 'run', config: Object.freeze(config) };
}

export function helpText(version: string): string {
  const lines = [`runsd ${version}: service discovery and authentication for Cloud Run`, '', USAGE, ''];
  const groups: [FlagDoc['group'], string][] = [
    ['runsd', 'Flags of the Go runsd (same syntax: -flag=v, --flag=v, -flag v):'],
    ['new', 'Flags added by this runsd:'],
    ['ignored', 'Accepted for compatibility:'],
  ];
  for (const [g, title] of groups) {
    lines.push(title);
    for (const d of FLAGS.filter((x) => x.group === g && x.name !== 'h')) {
      const left = `  -${d.name}${d.arg ? ` ${d.arg}` : ''}`;
      lines.push(`${left.padEnd(36)} ${d.help}${d.def ? ` (default ${d.def})` : ''}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}
