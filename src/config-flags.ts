// runsd's command line: every flag with its argument, default, help line and group (Go runsd's,
// added here, accepted and ignored), and the --help text made from it. --help lists every flag
// (test/e2e/process.test.ts); parsing is config.ts.
import type { FlagSpec } from './domain/goflags.ts';

export interface FlagDoc extends FlagSpec {
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
    arg: 'text|json|auto',
    def: 'text',
    help: 'json: one Cloud Logging object per line; auto: json on Cloud Run (K_SERVICE, CLOUD_RUN_JOB, …), else text',
    group: 'new',
  },
  {
    name: 'access_log',
    boolean: true,
    help: 'one JSON line per proxied request on stderr (Cloud Logging httpRequest, with the trace)',
    group: 'new',
  },
  {
    name: 'route',
    arg: 'NAME=URL[,audience=AUD]',
    repeatable: true,
    help: 'http://NAME goes to URL (https://HOST[:PORT][/PREFIX]) with an ID token for AUD (default the URL origin); repeatable; also env RUNSD_ROUTES (;-separated)',
    group: 'new',
  },
  {
    name: 'routes_file',
    arg: 'PATH',
    help: 'more -route entries, one per line (# comments)',
    group: 'new',
  },
  {
    name: 'check_services',
    boolean: true,
    def: 'true',
    help: "list the project's services (Cloud Run Admin API, run.services.list) so unknown names fail fast; refused or unreachable: every name is a service",
    group: 'new',
  },
  {
    name: 'services_refresh',
    arg: 'SECONDS',
    def: '60',
    help: 'service list refresh interval (10-3600, ±10% jitter)',
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
