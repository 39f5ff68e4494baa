// -route NAME=https://HOST[:PORT][/PREFIX][,audience=AUD]: a short name the app calls over plain
// HTTP that the proxy sends to any HTTPS URL with a Google ID token for AUD (default: the URL's
// origin). Pure: the config parses every entry once at start-up; each error names the entry and
// where it came from (-route, RUNSD_ROUTES, -routes_file line N) and is a usage error (exit 2).
import { RunsdError } from '../errors.ts';
import { canonicalName } from './dns-names.ts';

export interface RouteSpec {
  /** The name the app calls: lower case, no trailing dot ("billing", "billing.acme"). */
  name: string;
  /** Upstream host name (or IP), without the port. */
  host: string;
  /** Upstream port; null = 443. */
  port: number | null;
  /** Path prefix put in front of every request's path: "" or "/v1" (no trailing slash). */
  prefix: string;
  /** The ID token audience: `audience=`, else the URL's origin. */
  audience: string;
  /** Where the entry came from, for messages: "-route", "RUNSD_ROUTES", "routes.txt:3". */
  source: string;
}

export interface RouteEntry {
  text: string;
  source: string;
}

const LABEL_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** Names no route may take: loopback, and zones runsd answers itself. */
const RESERVED_ZONES = ['google.internal.', 'localhost.'];

function bad(e: RouteEntry, why: string): RunsdError {
  return new RunsdError('RUNSD_USAGE', `runsd: invalid route "${e.text}" (${e.source}): ${why}`);
}

function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

/** Parses one entry. `zone` is the internal DNS zone (canonical, "run.internal."). */
export function parseRoute(e: RouteEntry, zone: string): RouteSpec {
  const text = e.text.trim();
  const eq = text.indexOf('=');
  if (eq < 0) throw bad(e, 'expected NAME=https://HOST[:PORT][/PREFIX][,audience=AUD]');
  const name = text.slice(0, eq).trim().toLowerCase().replace(/\.$/, '');
  if (name === '') throw bad(e, 'the name before "=" is empty');
  if (name.length > 253) throw bad(e, `the name is longer than 253 characters`);
  const labels = name.split('.');
  for (const l of labels)
    if (!LABEL_RE.test(l))
      throw bad(e, `"${l}" in the name is not a DNS label (letters, digits and inner hyphens, ≤ 63)`);
  if (labels.every((l) => /^[0-9]+$/.test(l))) throw bad(e, 'the name is an IP address, not a name');
  const canon = canonicalName(name);
  for (const z of [zone, ...RESERVED_ZONES])
    if (inZone(canon, z))
      throw bad(e, `the name "${name}" is inside ${z.replace(/\.$/, '')}, which runsd answers itself`);

  const [urlText = '', ...options] = text.slice(eq + 1).split(',');
  const raw = urlText.trim();
  if (!/^https:\/\//i.test(raw))
    throw bad(e, `"${raw}" is not an https:// URL (an ID token only travels encrypted)`);
  if (!URL.canParse(raw)) throw bad(e, `"${raw}" is not a valid URL`);
  const u = new URL(raw);
  if (u.hostname === '') throw bad(e, `"${raw}" has no host`);
  if (u.username !== '' || u.password !== '') throw bad(e, `"${raw}" has a user or password in it`);
  if (u.search !== '' || raw.includes('?'))
    throw bad(e, `"${raw}" has a query; only a path prefix is allowed`);
  if (u.hash !== '' || raw.includes('#')) throw bad(e, `"${raw}" has a fragment`);

  let audience: string | null = null;
  for (const o of options) {
    const m = /^\s*([a-z_]+)\s*=(.*)$/i.exec(o);
    if (!m) throw bad(e, `option "${o}" is not KEY=VALUE`);
    const key = m[1]!.toLowerCase();
    const value = m[2]!.trim();
    if (key !== 'audience') throw bad(e, `unknown option "${m[1]}" (the only option is audience=AUD)`);
    if (audience !== null) throw bad(e, 'audience= is given twice');
    if (value === '' || /\s/.test(value)) throw bad(e, 'audience= needs a value without spaces');
    audience = value;
  }
  const prefix = u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '');
  return {
    name,
    host: u.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, ''),
    port: u.port === '' ? null : Number(u.port),
    prefix,
    audience: audience ?? u.origin,
    source: e.source,
  };
}

/** Parses every entry; a name given twice is an error naming both entries. */
export function parseRoutes(entries: readonly RouteEntry[], zone: string): RouteSpec[] {
  const byName = new Map<string, RouteSpec>();
  for (const e of entries) {
    if (e.text.trim() === '') continue;
    const r = parseRoute(e, zone);
    const seen = byName.get(r.name);
    if (seen) throw bad(e, `the name "${r.name}" is already routed by ${seen.source}`);
    byName.set(r.name, r);
  }
  return [...byName.values()];
}

/** `-routes_file` text → entries: one per line, `#` starts a comment, blank lines skipped. */
export function routesFileEntries(text: string, file: string): RouteEntry[] {
  const out: RouteEntry[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const body = line.replace(/(^|\s)#.*$/, '').trim();
    if (body !== '') out.push({ text: body, source: `${file}:${i + 1}` });
  });
  return out;
}

/** `RUNSD_ROUTES`: entries separated by `;`. */
export function envRouteEntries(text: string): RouteEntry[] {
  return text
    .split(';')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .map((t, i) => ({ text: t, source: `RUNSD_ROUTES entry ${i + 1}` }));
}

/** The URL a route's requests go to, for messages and the access log: https://HOST[:PORT]PREFIX. */
export function routeUrl(r: RouteSpec): string {
  return `https://${r.host.includes(':') ? `[${r.host}]` : r.host}${r.port === null ? '' : `:${r.port}`}${r.prefix}`;
}

/** A route's path prefix in front of the app's path ("/v1" + "/x?y" → "/v1/x?y"; "*" → "/v1"). */
export function routePath(prefix: string, path: string): string {
  return path.startsWith('/') ? `${prefix}${path}` : prefix;
}
