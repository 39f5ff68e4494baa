// Stage 1 of the pipeline: where a request goes. The only place the proxy reads a request target
// or a Host: an internal name becomes a Cloud Run service route (its URL is the token's audience),
// an env-mode http:// URL for any other host a plain route, and anything else is refused.
import type { IncomingMessage } from 'node:http';
import { parseHost, serviceUrl, splitHostPort } from '../../src/domain/names.ts';
import type { RouteSpec } from '../../src/domain/routes.ts';
import { RunsdError } from '../../src/errors.ts';
import type { Facts } from '../../src/protocol.ts';
import type { ProxySettings } from './settings.ts';

export type Route =
  | {
      kind: 'service';
      service: string;
      /** the region the call goes to (named in the Host, else this service's own) */
      region: string;
      host: string;
      audience: string;
      /** The last token used for this route and its header value, so each request does not build
       * a fresh ~1 KB string (credential.ts). */
      bearer: { token: string; value: string } | null;
      /** A -route: its name, and where its requests go (the upstream port, a path prefix). */
      route?: string;
      port?: number;
      prefix?: string;
    }
  | { kind: 'plain'; host: string; port: number };

export interface RequestTarget {
  /** origin-form path + query */
  path: string;
  /** Host as the app sent it (absolute-form requests: the URL's authority). */
  authority: string;
  /** The request line was absolute-form (a client using runsd as HTTP_PROXY). */
  absolute: boolean;
}

/** Request target of an HTTP/1.1 request; absolute-form (RFC 9112 §3.2.2): the URL's authority wins. */
export function requestTarget(req: IncomingMessage): RequestTarget {
  const url = req.url ?? '/';
  if (url.charCodeAt(0) !== 47 /* '/' */ && /^http:\/\//i.test(url)) {
    // A malformed absolute URL (`http://%zz/`, `http://[::1/`) must not throw here (that would kill
    // the room): keep its raw authority, which routing then rejects with a 400 naming it.
    const raw = url.slice(7).split(/[/?#]/)[0] ?? '';
    // `http:///x` parses as host "x" (the URL parser skips empty authorities): that would route to
    // a service the app never named, so an empty authority stays empty (400 RUNSD_BAD_HOST).
    if (!URL.canParse(url) || raw === '') return { path: '/', authority: raw, absolute: true };
    const u = new URL(url);
    return { path: `${u.pathname}${u.search}`, authority: u.host, absolute: true };
  }
  return { path: url, authority: req.headers.host ?? '', absolute: false };
}

/** Routes are cached per authority; past this many the cache starts over (an app calling many names). */
const MAX_ROUTES = 10_000;

export class Router {
  private readonly s: ProxySettings;
  private facts: Facts;
  private readonly routes = new Map<string, Route>();
  /** -route entries by name; they win over the Cloud Run naming. */
  private readonly named: ReadonlyMap<string, RouteSpec>;

  constructor(s: ProxySettings, facts: Facts) {
    this.s = s;
    this.facts = facts;
    this.named = new Map((s.routes ?? []).map((r) => [r.name, r]));
  }

  /** The project id, once known (the access log's trace names the project). */
  get projectId(): string | null {
    return this.facts.projectId;
  }

  /** New facts (region, project number) change every service URL: the cache starts over. */
  setFacts(f: Facts): void {
    this.facts = f;
    this.routes.clear();
  }

  /** The route for a request's authority. Throws a RunsdError (400, 403, 503) naming what is wrong. */
  route(authority: string, absolute: boolean): Route {
    const hit = this.routes.get(authority);
    if (hit) return hit;
    const s = this.s;
    const spec = this.named.size > 0 ? this.named.get(splitHostPort(authority).name) : undefined;
    if (spec) return this.remember(authority, namedRoute(spec));
    const t = parseHost(authority, s.domain);
    if (t.kind === 'external') {
      // Env mode: the app uses us as its HTTP proxy for every http:// URL; those go out untouched.
      // An origin-form request for an external name (or anything in DNS mode) is refused.
      if (s.mode === 'env' && absolute) {
        // http.request throws on a port past 65535 and quietly takes port 0 for 80.
        if (t.port !== null && !(t.port >= 1 && t.port <= 65535))
          throw new RunsdError(
            'RUNSD_BAD_HOST',
            `"${authority}": port ${t.port} is not a TCP port (1-65535)`,
          );
        return { kind: 'plain', host: t.host, port: t.port ?? 80 };
      }
      throw new RunsdError(
        'RUNSD_NOT_RELAY',
        `"${authority}" is not an internal service name; this proxy is not an open relay`,
      );
    }
    const ctx = {
      urlFormat: s.urlFormat,
      projectHash: s.projectHash,
      projectNumber: s.projectNumber ?? this.facts.projectNumber,
      ownRegion: this.facts.region,
    };
    const origin = serviceUrl(t.service, t.region, ctx, t.tag);
    return this.remember(authority, {
      kind: 'service',
      service: t.service,
      // serviceUrl succeeded, so one of the two is known.
      region: (t.region ?? this.facts.region)!,
      host: origin.slice('https://'.length),
      // A tagged revision is called at its tag URL with a token for its service's URL: Cloud Run
      // checks the audience per service (its URL or a custom audience), not per revision
      // (docs/proxy.md, "Tagged revisions").
      audience: t.tag === undefined ? origin : serviceUrl(t.service, t.region, ctx),
      bearer: null,
    });
  }

  private remember(authority: string, r: Route): Route {
    if (this.routes.size > MAX_ROUTES) this.routes.clear();
    this.routes.set(authority, r);
    return r;
  }

  /** Whether a name is a -route (CONNECT tunnels and the service check skip it). */
  isNamedRoute(authority: string): boolean {
    return this.named.has(splitHostPort(authority).name);
  }

  /**
   * Checks a CONNECT target (env mode): only internal service names are tunnelled, and not to :443.
   * Throws RUNSD_NOT_RELAY or RUNSD_BAD_HOST naming the target.
   */
  checkConnect(target: string): void {
    if (this.isNamedRoute(target) && splitHostPort(target).port !== 443) return;
    const t = parseHost(target, this.s.domain);
    if (t.kind !== 'service')
      throw new RunsdError(
        'RUNSD_NOT_RELAY',
        `CONNECT "${target}": only internal service names are tunnelled`,
      );
    // CONNECT to :443 means the client is about to speak TLS (an https:// URL), which this proxy
    // can neither terminate nor add a token to: say so instead of answering its ClientHello with
    // an HTTP 400 from inside the tunnel.
    if (splitHostPort(target).port === 443)
      throw new RunsdError(
        'RUNSD_NOT_RELAY',
        `CONNECT "${target}": internal names are served over plain HTTP; call http://${t.service}${t.region ? `.${t.region}` : ''} instead of https://`,
      );
  }
}

/** The proxy route of a -route entry: its URL's host and port, the prefix, its audience. */
function namedRoute(r: RouteSpec): Route {
  return {
    kind: 'service',
    service: r.name,
    region: '',
    host: r.host,
    audience: r.audience,
    bearer: null,
    route: r.name,
    ...(r.port !== null ? { port: r.port } : {}),
    ...(r.prefix !== '' ? { prefix: r.prefix } : {}),
  };
}

/**
 * What no upstream kind can forward, refused before routing: CONNECT over HTTP/2 (RFC 8441 tunnels
 * included), and an absolute-form target with another scheme (`GET https://svc/ HTTP/1.1`), which
 * requestTarget keeps as the path — forwarded, an h2 upstream reset it and the app saw a misleading
 * 502 (test/workers/proxy/downstream-faults.test.ts, route.test.ts).
 */
export function checkTarget(protocol: string, method: string, path: string, authority: string): void {
  if (protocol !== 'http1' && method === 'CONNECT')
    throw new RunsdError('RUNSD_METHOD', `${authority}: CONNECT over HTTP/2 is not supported`);
  if (path.charCodeAt(0) !== 47 /* '/' */ && !(path === '*' && method === 'OPTIONS'))
    throw new RunsdError(
      'RUNSD_BAD_REQUEST',
      `request target "${path.slice(0, 200)}" is neither a path nor an http:// URL (https:// goes through CONNECT)`,
    );
}
