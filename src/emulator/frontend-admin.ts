// The Cloud Run Admin API's services.list, as the front end serves it for Host run.googleapis.com
// (the emulator DNS answers that name with the front end, like *.run.app):
//   GET /v2/projects/PROJECT/locations/REGION/services[?pageSize=N&pageToken=T]
// with an OAuth access token (the metadata server's …/token) → {services: [{name, uri, urls}],
// nextPageToken}; the adminApiForbidden knob answers 403 PERMISSION_DENIED like a service account
// without run.services.list.
import type { ServiceSpec } from './frontend-types.ts';
import { serviceUrls } from './routing.ts';

export const ADMIN_API_HOST = 'run.googleapis.com';

export interface AdminAnswer {
  status: number;
  body: unknown;
  region: string | null;
}

export interface AdminContext {
  projectNumber: string;
  projectHash?: string;
  projectId?: string;
  services: ReadonlyMap<string, ServiceSpec>;
  regions: readonly string[];
  forbidden: boolean;
  pageSize: number;
}

const error = (status: number, code: string, message: string, region: string | null = null): AdminAnswer => ({
  status,
  body: { error: { code: status, message, status: code } },
  region,
});

export function adminList(
  path: string,
  query: URLSearchParams,
  auth: string | undefined,
  c: AdminContext,
): AdminAnswer {
  const m = /^\/v2\/projects\/([^/]+)\/locations\/([^/]+)\/services$/.exec(path);
  if (!m) return error(404, 'NOT_FOUND', `the emulator serves only services.list, not ${path}`);
  const [, project, region] = m as unknown as [string, string, string];
  if (!/^Bearer ya29\.\S+$/.test(auth ?? ''))
    return error(401, 'UNAUTHENTICATED', 'Request is missing required authentication credential.', region);
  const resource = `projects/${project}/locations/${region}`;
  if (c.forbidden || (project !== c.projectNumber && project !== c.projectId))
    return error(
      403,
      'PERMISSION_DENIED',
      `Permission 'run.services.list' denied on resource '${resource}' (or it may not exist).`,
      region,
    );
  const all = [...c.services.values()]
    .filter((s) => (s.regions ?? c.regions).includes(region))
    .map((s) => {
      const urls = serviceUrls(s.name, region, c.projectNumber, c.projectHash);
      return { name: `${resource}/services/${s.name}`, uri: urls[0], urls };
    });
  // At most pageSize per page whatever the client asks, so every client exercises nextPageToken.
  const size = Math.max(1, Math.min(Number(query.get('pageSize')) || c.pageSize, c.pageSize));
  const start = Number(query.get('pageToken') ?? '0') || 0;
  const page = all.slice(start, start + size);
  const next = start + size < all.length ? String(start + size) : undefined;
  return { status: 200, body: { services: page, ...(next ? { nextPageToken: next } : {}) }, region };
}
