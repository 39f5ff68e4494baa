// One request to a Cloud Run service and its attempts (service.ts drives them; service-h2.ts and
// the HTTP/1.1 path in service.ts are the two ways one attempt goes upstream).
import type { Headers } from '../../src/domain/http-headers.ts';
import type { BodyFeeder } from './body-feeder.ts';
import type { Downstream } from './downstream.ts';
import type { H1Client } from './h1-request.ts';
import type { UpstreamPool } from './upstream-pool.ts';

const MAX_ATTEMPTS = 4;

export interface ServiceOptions {
  pool: UpstreamPool;
  h1: H1Client;
  host: string;
  port: number;
  /** A -route's own port (part of the pool key and the Host), else the default upstream port. */
  ownPort?: number;
  /** The upstream path when it is not the app's (a -route's prefix + the app's path). */
  path?: string;
  timeoutMs: number;
  /** Called when the upstream's response headers arrive (latency metric). */
  onHeaders?: () => void;
}

export interface Attempt {
  ds: Downstream;
  /** The upstream request headers (end-to-end, with the credential), built once per request. */
  headers: Headers;
  feeder: BodyFeeder | null;
  o: ServiceOptions;
  /** Attempts made so far. */
  n: number;
}

/** Host / :authority sent upstream: the host (an IPv6 literal in brackets), with a -route's own port. */
export function authorityOf(o: Pick<ServiceOptions, 'host' | 'ownPort'>): string {
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return o.ownPort === undefined ? host : `${host}:${o.ownPort}`;
}

/** Whether another attempt may go: attempts left, and the body (if any) can still be replayed. */
export function canRetry(a: Attempt): boolean {
  return a.n < MAX_ATTEMPTS && (a.feeder === null || a.feeder.canReplay);
}
