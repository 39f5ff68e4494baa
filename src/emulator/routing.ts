// Which emulated service a Host names, and the URLs (token audiences) a service answers to.
// Both Cloud Run URL forms: SERVICE-NUMBER.REGION.run.app and SERVICE-HASH-CODE.a.run.app.
import { regionCode, regionForCode } from '../domain/region-codes.ts';

export interface HostMatch {
  service: string;
  region: string;
  form: 'deterministic' | 'legacy' | 'domain';
  /** TAG of a TAG---SERVICE… host (a tagged revision) */
  tag?: string;
}

/** Splits Cloud Run's TAG---SERVICE first-label form. */
function untag(m: HostMatch): HostMatch {
  const i = m.service.indexOf('---');
  return i <= 0 ? m : { ...m, service: m.service.slice(i + 3), tag: m.service.slice(0, i) };
}

export function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const i = host.lastIndexOf(':');
  return i >= 0 ? host.slice(0, i) : host;
}

export function parseServiceHost(
  hostHeader: string,
  projectNumber: string,
  projectHash?: string,
): HostMatch | null {
  const host = stripPort(hostHeader).toLowerCase().replace(/\.$/, '');
  const labels = host.split('.');
  if (labels.length === 4 && labels[1] !== 'a' && labels[2] === 'run' && labels[3] === 'app') {
    const [first, region] = labels as [string, string];
    const suffix = `-${projectNumber}`;
    if (first.endsWith(suffix) && first.length > suffix.length) {
      return untag({ service: first.slice(0, -suffix.length), region, form: 'deterministic' });
    }
    return null;
  }
  if (projectHash && labels.length === 4 && labels[1] === 'a' && labels[2] === 'run' && labels[3] === 'app') {
    const m = labels[0]!.match(/^(.+)-([a-z0-9]+)-([a-z]{2})$/);
    if (!m || m[2] !== projectHash.toLowerCase()) return null;
    const region = regionForCode(m[3]!);
    return region ? untag({ service: m[1]!, region, form: 'legacy' }) : null;
  }
  return null;
}

/** Every URL of a service: the ID token `aud` must be one of these. */
export function serviceUrls(
  service: string,
  region: string,
  projectNumber: string,
  projectHash?: string,
): string[] {
  const urls = [`https://${service}-${projectNumber}.${region}.run.app`];
  const code = regionCode(region);
  if (projectHash && code) urls.push(`https://${service}-${projectHash}-${code}.a.run.app`);
  return urls;
}
