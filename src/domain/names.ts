// Host header → Cloud Run service → upstream URL. Pure: the proxy calls it per request, the tests
// drive it with tables. Accepted forms (any case, optional trailing dot, optional :port):
//   svc                    → svc in this service's own region
//   svc.REGION             → svc in REGION
//   svc.REGION.<domain>    → svc in REGION            (svc.<domain> → own region)
//   TAG---svc[.REGION…]    → the revision tagged TAG of svc (Cloud Run's tag URL form)
// Anything else is "external": the proxy never relays it with a token.
import { RunsdError } from '../errors.ts';
import { REGION_CODES } from './region-codes.ts';
import { REGION_RE, type UrlFormat } from './vocabulary.ts';

export type { UrlFormat } from './vocabulary.ts';

export type HostTarget =
  | { kind: 'service'; service: string; region: string | null; tag?: string }
  | { kind: 'external'; host: string; port: number | null };

export interface UrlContext {
  urlFormat: UrlFormat;
  projectHash: string | null;
  projectNumber: string | null;
  /** This service's own region (flag or metadata server); null while unknown. */
  ownRegion: string | null;
}

// Cloud Run service names: lower-case letters, digits and hyphens, a letter first, no trailing hyphen.
const SERVICE_RE = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const MAX_SERVICE = 49;
const MAX_LABEL = 63;
/** Cloud Run's separator between a traffic tag and the service in a URL's first label. */
export const TAG_SEPARATOR = '---';
// A tag is a DNS label part: lower-case letters, digits and inner hyphens.
const TAG_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function badHost(host: string, why: string): RunsdError {
  return new RunsdError('RUNSD_BAD_HOST', `"${host}" ${why}`);
}

/** Splits "name:port", "[v6]:port", "name." into a lower-case name without the dot, and the port. */
export function splitHostPort(raw: string): { name: string; port: number | null; ip: boolean } {
  const text = raw.trim();
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::([0-9]+))?$/.exec(text);
  if (v6) return { name: v6[1]!.toLowerCase(), port: v6[2] ? Number(v6[2]) : null, ip: true };
  const m = /^([^:]*)(?::([0-9]*))?$/.exec(text);
  if (!m) return { name: text.toLowerCase(), port: null, ip: text.includes(':') };
  const name = m[1]!.toLowerCase().replace(/\.$/, '');
  const port = m[2] ? Number(m[2]) : null;
  return { name, port, ip: /^[0-9.]+$/.test(name) };
}

/**
 * Classifies a Host header. Throws RUNSD_BAD_HOST for names that are clearly meant as internal
 * names (inside <domain>, or a bare label) but cannot be a Cloud Run service.
 * @param domain the internal zone, e.g. "run.internal." (trailing dot optional)
 */
export function parseHost(raw: string, domain: string): HostTarget {
  const { name, port, ip } = splitHostPort(raw);
  if (name === '') throw badHost(raw, 'is empty: the request needs a Host naming a Cloud Run service');
  const zone = domain.toLowerCase().replace(/\.$/, '');
  // splitHostPort strips the trailing dot, except from colon-ridden text (":.x.run.internal.").
  const bare = ip ? name.replace(/\.$/, '') : name;
  const inZone = bare === zone || bare.endsWith(`.${zone}`);
  // Colon-ridden text that ends in the zone is no IP address but a bad internal name, never an
  // external one (found by test/domain/names.property.test.ts).
  if ((ip && !inZone) || name === 'localhost') return { kind: 'external', host: name, port };
  let labels = bare.split('.');
  if (inZone) labels = bare === zone ? [] : bare.slice(0, -(zone.length + 1)).split('.');
  else if (!(labels.length === 1 || (labels.length === 2 && REGION_RE.test(labels[1]!))))
    return { kind: 'external', host: name, port };
  if (labels.length === 0 || labels.length > 2)
    throw badHost(raw, `is not SERVICE, SERVICE.REGION or SERVICE.REGION.${zone}`);
  const [first, region] = labels as [string, string | undefined];
  const cut = first.indexOf(TAG_SEPARATOR);
  const tag = cut < 0 ? undefined : first.slice(0, cut);
  const service = cut < 0 ? first : first.slice(cut + TAG_SEPARATOR.length);
  if (tag !== undefined && !TAG_RE.test(tag))
    throw badHost(
      raw,
      `has "${tag}" where a revision tag belongs (TAG---SERVICE: lower-case letters, digits and inner hyphens)`,
    );
  if (!SERVICE_RE.test(service))
    throw badHost(
      raw,
      `is not a Cloud Run service name ("${service}": lower-case letters, digits and hyphens, starting with a letter)`,
    );
  if (service.length > MAX_SERVICE)
    throw badHost(raw, `names a service longer than ${MAX_SERVICE} characters ("${service}")`);
  if (region !== undefined && !REGION_RE.test(region))
    throw badHost(raw, `has "${region}" where a region like us-central1 belongs`);
  return { kind: 'service', service, region: region ?? null, ...(tag !== undefined ? { tag } : {}) };
}

/** The origin (scheme + host, no path) of a service; this is also the ID token audience. */
export function serviceUrl(service: string, region: string | null, ctx: UrlContext, tag?: string): string {
  const named = tag === undefined ? service : `${tag}${TAG_SEPARATOR}${service}`;
  const where = region ?? ctx.ownRegion;
  if (where === null)
    throw new RunsdError(
      'RUNSD_FACT_MISSING',
      `"${service}" needs this service's own region, which is not known yet (metadata server unreachable?); use ${service}.REGION or -gcp_region`,
    );
  const hash = ctx.urlFormat === 'hash' || (ctx.urlFormat === 'auto' && ctx.projectHash !== null);
  if (hash) {
    if (ctx.projectHash === null)
      throw new RunsdError(
        'RUNSD_FACT_MISSING',
        `"${service}": -url_format=hash needs a project hash (-gcp_project_hash or CLOUD_RUN_PROJECT_HASH)`,
      );
    const code = REGION_CODES[where];
    if (code === undefined)
      throw new RunsdError(
        'RUNSD_BAD_HOST',
        `"${service}.${where}": region ${where} has no known legacy URL code; use -url_format=deterministic (https://SERVICE-PROJECT_NUMBER.REGION.run.app)`,
      );
    const label = `${named}-${ctx.projectHash}-${code}`;
    if (label.length > MAX_LABEL)
      throw new RunsdError(
        'RUNSD_BAD_HOST',
        `"${named}": the URL label "${label}" would be ${label.length} characters, over the DNS limit of ${MAX_LABEL}`,
      );
    return `https://${label}.a.run.app`;
  }
  if (ctx.projectNumber === null)
    throw new RunsdError(
      'RUNSD_FACT_MISSING',
      `"${service}": the project number is not known yet (metadata server unreachable?); set -project_number or -gcp_project_hash`,
    );
  const label = `${named}-${ctx.projectNumber}`;
  if (label.length > MAX_LABEL)
    throw new RunsdError(
      'RUNSD_BAD_HOST',
      `"${named}": the deterministic URL label "${label}" would be ${label.length} characters, over the DNS limit of ${MAX_LABEL}${tag === undefined ? '; use the legacy form with -gcp_project_hash' : ''}`,
    );
  return `https://${label}.${where}.run.app`;
}
