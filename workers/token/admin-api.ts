// The Cloud Run Admin API's services.list for -check_services: an OAuth access token from the
// metadata server (instance/service-accounts/default/token, cached until a minute before it
// expires), then GET https://run.googleapis.com/v2/projects/P/locations/R/services page by page
// (nextPageToken). run.googleapis.com is resolved through the original nameservers, like the
// metadata host. The access token goes to run.googleapis.com only and is never logged.
import https from 'node:https';
import { pageNames } from '../../src/domain/service-list.ts';
import { createUpstreamLookup, type LookupFn } from '../../src/net/upstream-lookup.ts';
import type { MetadataClient } from './metadata-client.ts';

export const ADMIN_API_HOST = 'run.googleapis.com';

/** One region's list, or why there is none. `status`: the HTTP status (null: no answer). */
export type ListOutcome =
  | { kind: 'ok'; names: string[] }
  | { kind: 'refused'; status: number; message: string }
  | { kind: 'unavailable'; status: number | null; message: string };

export interface AdminApiOptions {
  metadata: MetadataClient;
  upstreams: string[];
  /** Test-only: another port for run.googleapis.com (default 443). */
  port?: number;
  /** Test-only: the CA (PEM) to trust instead of the system's (the emulator's). */
  ca?: string;
  /** Whole list (all pages) bound (default 10 s). */
  timeoutMs?: number;
  lookup?: LookupFn;
}

const MAX_PAGES = 50;
const MAX_BODY = 4 * 1024 * 1024;

export interface AdminApi {
  list(project: string, region: string): Promise<ListOutcome>;
  close(): void;
}

export function createAdminApi(o: AdminApiOptions): AdminApi {
  const agent = new https.Agent({ keepAlive: true, timeout: 60_000, ...(o.ca ? { ca: o.ca } : {}) });
  const lookup = o.lookup ?? createUpstreamLookup(o.upstreams, { timeoutMs: 1000, tries: 2 });
  let access: { value: string; expiresAt: number } | null = null;

  const accessToken = async (): Promise<string> => {
    if (access && access.expiresAt - 60_000 > Date.now()) return access.value;
    const body = JSON.parse(await o.metadata.get('instance/service-accounts/default/token')) as {
      access_token?: unknown;
      expires_in?: unknown;
    };
    if (typeof body.access_token !== 'string' || body.access_token === '')
      throw new Error('the metadata server gave no access_token');
    const ttl = typeof body.expires_in === 'number' ? body.expires_in : 300;
    access = { value: body.access_token, expiresAt: Date.now() + ttl * 1000 };
    return access.value;
  };

  const page = (path: string, token: string, signal: AbortSignal) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = https.get(
        {
          host: ADMIN_API_HOST,
          port: o.port ?? 443,
          path,
          agent,
          signal,
          lookup: lookup as NonNullable<https.RequestOptions['lookup']>,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
            if (body.length > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });

  const list = async (project: string, region: string): Promise<ListOutcome> => {
    const signal = AbortSignal.timeout(o.timeoutMs ?? 10_000);
    const names: string[] = [];
    let next: string | null = null;
    try {
      const token = await accessToken();
      for (let i = 0; i < MAX_PAGES; i++) {
        const q = new URLSearchParams({ pageSize: '500', ...(next ? { pageToken: next } : {}) });
        const path = `/v2/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(region)}/services?${q}`;
        const res = await page(path, token, signal);
        if (res.status === 401 || res.status === 403)
          return { kind: 'refused', status: res.status, message: apiMessage(res.body) };
        if (res.status !== 200)
          return { kind: 'unavailable', status: res.status, message: apiMessage(res.body) };
        const p = pageNames(JSON.parse(res.body));
        names.push(...p.names);
        next = p.next;
        if (next === null) return { kind: 'ok', names };
      }
      return { kind: 'unavailable', status: null, message: `more than ${MAX_PAGES} pages` };
    } catch (err) {
      return { kind: 'unavailable', status: null, message: err instanceof Error ? err.message : String(err) };
    }
  };

  return { list, close: () => agent.destroy() };
}

/** The API's own words ({error: {message}}), one line, bounded. */
function apiMessage(body: string): string {
  try {
    const m = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof m === 'string') return m.slice(0, 300);
  } catch {
    // not JSON
  }
  return body.replace(/\s+/g, ' ').trim().slice(0, 200);
}
