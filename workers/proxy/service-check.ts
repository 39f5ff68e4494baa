// Stage 1b of the pipeline (-check_services): a Cloud Run route whose service is not in its
// region's list is answered 404 RUNSD_NO_SERVICE naming the closest existing service, before any
// token is fetched or connection made. The list is the token room's, mirrored in this thread
// (workers/token/services-client.ts); a miss is checked again against a fresh list (bounded wait).
// Whenever the list cannot be had, the request goes on as without the check.
import { noServiceMessage, type Verdict } from '../../src/domain/service-list.ts';
import { RunsdError } from '../../src/errors.ts';
import type { ServicesMirror } from '../token/services-client.ts';
import type { Route } from './route.ts';

type ServiceRoute = Extract<Route, { kind: 'service' }>;

/** What handle.ts and tunnel.ts call before any token is fetched: null to go on, or the 404. */
export type ServiceCheck = (r: ServiceRoute) => RunsdError | null | Promise<RunsdError | null>;

/** null: go on; a RunsdError: answer it; a promise of either while the list is on its way. */
export function checkService(
  mirror: ServicesMirror,
  r: ServiceRoute,
): RunsdError | null | Promise<RunsdError | null> {
  if (r.route !== undefined) return null; // a -route is not a Cloud Run service name
  const v = mirror.check(r.service, r.region, true);
  const decide = (w: Verdict) =>
    w === 'missing'
      ? new RunsdError('RUNSD_NO_SERVICE', noServiceMessage(r.service, r.region, mirror.names(r.region)))
      : null;
  return typeof v === 'string' ? decide(v) : v.then(decide);
}
