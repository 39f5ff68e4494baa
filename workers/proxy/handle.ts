// The pipeline for one request: route → credential → upstream. handle() only chooses: which route,
// which credential, which upstream kind; each stage is its own module, and every failure ends in
// one place (sendError: a status, x-runsd-error and a body naming what went wrong).
import { upstreamRequestHeaders } from '../../src/domain/http-headers.ts';
import { RunsdError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { AccessEntry } from './access-log.ts';
import type { Credentials } from './credential.ts';
import type { Downstream } from './downstream.ts';
import { sendError } from './errors.ts';
import type { ProxyMetrics } from './metrics.ts';
import { checkTarget, type Route, type Router } from './route.ts';
import type { ServiceCheck } from './service-check.ts';

export interface Stages {
  router: Router;
  credentials: Credentials;
  /** Upstream kind 1: a Cloud Run service (service.ts), given the upstream request headers. */
  service(
    ds: Downstream,
    r: Extract<Route, { kind: 'service' }>,
    headers: ReturnType<typeof upstreamRequestHeaders>,
  ): Promise<number>;
  /** Upstream kind 2: env mode's plain http:// forwarding (plain.ts). */
  plain(ds: Downstream, r: Extract<Route, { kind: 'plain' }>): Promise<number>;
  metrics: ProxyMetrics;
  log: Logger;
  /** -access_log: called once per request when it ends (access-log.ts). */
  access?: (e: AccessEntry) => void;
  /** -check_services: null to go on, or the 404 for a name that is no service (service-check.ts). */
  check?: ServiceCheck;
}

// The hot path avoids async frames: a token from the local mirror is used synchronously, and the
// upstream exchange is one promise.
export function createHandler(p: Stages): (ds: Downstream) => void {
  const m = p.metrics;
  const header = p.credentials.header;
  const access = p.access;
  return (ds) => {
    m.activeStreams.inc();
    let service = '-';
    let region = '';
    let route: string | undefined;
    let upstream: string | undefined;
    let runsdError: string | undefined;
    const t0 = performance.now();
    const done = (status: number) => {
      m.activeStreams.dec();
      m.countRequest(service, region, ds.protocol, status, (performance.now() - t0) / 1000);
      if (route !== undefined) m.countRoute(route, status);
      // The access line waits for the end of the response: its size and the whole latency.
      if (access)
        ds.onClosed(() =>
          access({
            method: ds.method,
            url: `http://${ds.authority}${ds.path}`,
            protocol: ds.protocol === 'http1' ? 'HTTP/1.1' : 'HTTP/2',
            status,
            latencySeconds: (performance.now() - t0) / 1000,
            requestHeaders: ds.headers,
            responseSize: ds.bytesOut,
            ...(upstream ? { service, upstream } : {}),
            ...(runsdError ? { runsdError } : {}),
          }),
        );
    };
    const fail = (err: unknown) => {
      const e = sendError(ds, err);
      m.errors.inc({ code: e.code });
      runsdError = e.code;
      if (e.status >= 500)
        p.log.info(1, 'request failed', { host: ds.authority, code: e.code, status: e.status });
      done(e.status);
    };
    try {
      if (ds.framingProblem !== null) throw new RunsdError('RUNSD_BAD_REQUEST', ds.framingProblem);
      checkTarget(ds.protocol, ds.method, ds.path, ds.authority);
      const r = p.router.route(ds.authority, ds.absolute);
      if (r.kind === 'plain') {
        service = '-external';
        p.plain(ds, r).then(done, fail);
        return;
      }
      service = r.service;
      region = r.region;
      route = r.route;
      upstream = r.host;
      const send = (credential: string | null) => {
        try {
          p.service(ds, r, upstreamRequestHeaders(ds.headers, credential, header)).then(done, fail);
        } catch (err) {
          fail(err);
        }
      };
      const go = () => {
        const credential = p.credentials.for(ds.headers, r);
        if (typeof credential === 'object' && credential !== null) credential.then(send, fail);
        else send(credential);
      };
      const refused = p.check?.(r) ?? null;
      if (refused === null) go();
      else if (refused instanceof RunsdError) fail(refused);
      else refused.then((e) => (e ? fail(e) : go()), fail);
    } catch (err) {
      fail(err);
    }
  };
}
