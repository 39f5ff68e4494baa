// Fake Cloud Run front end: HTTPS with ALPN h2 + http/1.1 on one port, routing by Host to named
// services under both URL forms, Cloud Run's invoker check, built-in services (echo, status, SSE,
// WebSocket, gRPC) and reliability knobs (GOAWAY, stream resets, delay, dropped connections).
import { writeFileSync } from 'node:fs';
import http2, { type Http2ServerRequest, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { REGION_CODES } from '../domain/region-codes.ts';
import { makeTlsMaterial } from './certs.ts';
import { isGrpc } from './echo-proto.ts';
import { ADMIN_API_HOST, adminList } from './frontend-admin.ts';
import { createAdmission } from './frontend-admission.ts';
import { PAGES } from './frontend-auth.ts';
import { createRecorder } from './frontend-record.ts';
import { type AnyRes, type Req, type Res, type RouteContext, serveBuiltin } from './frontend-services.ts';
import type {
  Frontend,
  FrontendKnobs,
  FrontendOptions,
  FrontendRequest,
  ServiceSpec,
} from './frontend-types.ts';
import { attachWebSocketEcho } from './frontend-ws.ts';
import { serviceUrls, stripPort } from './routing.ts';

export type * from './frontend-types.ts';

export const DEFAULT_SERVICES: ServiceSpec[] = [
  // hello also has a tagged revision (green---hello-…) and sits behind a custom domain with a
  // custom audience, as a load balancer would put it.
  { name: 'hello', tags: ['green'], domains: ['api.custom.test'], audiences: ['hello-custom-audience'] },
  { name: 'world' },
  { name: 'public', public: true },
];
export const DEFAULT_REGIONS = ['us-central1', 'europe-west1'];

export async function startFrontend(opts: FrontendOptions): Promise<Frontend> {
  const regions = opts.regions ?? DEFAULT_REGIONS;
  const services = new Map((opts.services ?? DEFAULT_SERVICES).map((s) => [s.name, s]));
  const domains = [...new Set([...services.values()].flatMap((s) => s.domains ?? []))];
  const host = opts.host ?? '127.0.0.1';
  // protobufjs loads while the keys are generated (off the main thread)
  const grpcModule = import('./frontend-grpc.ts');
  const tls = await makeTlsMaterial({
    dnsNames: [
      'run.app',
      '*.run.app',
      '*.a.run.app',
      ...new Set([...regions, ...Object.keys(REGION_CODES)].map((r) => `*.${r}.run.app`)),
      ADMIN_API_HOST,
      ...domains,
      'localhost',
    ],
    ips: ['127.0.0.1', '::1', host],
  });
  const { handleGrpc } = await grpcModule;
  const knobs: FrontendKnobs = {
    goawayAfterStreams: 0,
    resetStreams: 0,
    delayMs: 0,
    refuseConnections: false,
    adminApiForbidden: false,
  };
  const recorder = createRecorder();
  const { log, record } = recorder;
  const stats = () => recorder.stats;
  const admit = createAdmission(opts, services, regions, stats);

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const streamsPerSession = new WeakMap<object, number>();
  const sessions = new Set<Http2Session>();
  const sockets = new Set<Socket>();

  const onRequest = async (req: Req, anyRes: AnyRes) => {
    const res = anyRes as unknown as Res & AnyRes;
    const h2 = req.httpVersion === '2.0';
    const stream = h2 ? (req as Http2ServerRequest).stream : undefined;
    const hostHeader = String(req.headers[':authority'] ?? req.headers.host ?? '');
    const url = new URL(req.url ?? '/', 'https://x');
    const grpc = h2 && isGrpc(req.headers);
    const entry: FrontendRequest = {
      service: null,
      region: null,
      host: hostHeader,
      protocol: grpc ? 'grpc' : h2 ? 'h2' : 'http/1.1',
      method: req.method ?? '',
      path: url.pathname,
      status: 0,
      authVia: null,
      authFailure: null,
      aud: null,
    };
    // knobs: per-connection stream count (GOAWAY), resets, delay
    const conn: object = stream ? stream.session! : req.socket;
    const n = (streamsPerSession.get(conn) ?? 0) + 1;
    streamsPerSession.set(conn, n);
    const goaway =
      knobs.goawayAfterStreams > 0 &&
      (stream ? n === knobs.goawayAfterStreams : n >= knobs.goawayAfterStreams);
    if (goaway && stream) {
      stats().goaways++;
      stream.session!.close();
    } else if (goaway) {
      res.setHeader('connection', 'close');
    }
    if (knobs.resetStreams > 0 || url.pathname === '/reset') {
      if (url.pathname !== '/reset') knobs.resetStreams--;
      stats().resets++;
      entry.status = -1;
      record(entry);
      if (stream) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      else req.socket.destroy();
      return;
    }
    if (knobs.delayMs > 0) await sleep(knobs.delayMs);
    if (stripPort(hostHeader).toLowerCase() === ADMIN_API_HOST) {
      const a = adminList(url.pathname, url.searchParams, req.headers.authorization, {
        projectNumber: opts.projectNumber,
        ...(opts.projectHash ? { projectHash: opts.projectHash } : {}),
        ...(opts.projectId ? { projectId: opts.projectId } : {}),
        services,
        regions,
        forbidden: knobs.adminApiForbidden,
        pageSize: opts.adminApi?.pageSize ?? 2,
      });
      if (a.region) stats().adminListCalls[a.region] = (stats().adminListCalls[a.region] ?? 0) + 1;
      entry.status = a.status;
      record(entry);
      res.writeHead(a.status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(a.body));
      return;
    }

    const a = admit(hostHeader, req.headers);
    entry.service = a.m?.service ?? null;
    entry.region = a.m?.region ?? null;
    if (a.kind === 'not-found') {
      stats().notFound++;
      entry.service = null;
      entry.status = 404;
      record(entry);
      res.writeHead(404, { 'content-type': 'text/html; charset=UTF-8' });
      res.end(PAGES[404]());
      return;
    }
    if (a.kind === 'denied') {
      entry.status = a.auth.status;
      entry.authFailure = a.auth.reason;
      record(entry);
      const headers: Record<string, string> = { 'content-type': 'text/html; charset=UTF-8' };
      if (entry.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
      res.writeHead(entry.status, headers);
      res.end(entry.status === 401 ? PAGES[401](url.pathname) : PAGES[403](url.pathname));
      return;
    }
    entry.authVia = a.auth?.via ?? null;
    entry.aud = a.auth ? String(a.auth.claims.aud) : null;
    if (grpc && stream) {
      entry.status = 200;
      record(entry);
      handleGrpc(stream as ServerHttp2Stream, req.headers, a.m.service);
      return;
    }
    if (url.pathname === '/goaway' && stream) {
      stats().goaways++;
      stream.session!.close();
    }
    const ctx: RouteContext = {
      service: a.m.service,
      region: a.m.region,
      form: a.m.form,
      ...(a.m.tag !== undefined ? { tag: a.m.tag } : {}),
      protocol: h2 ? 'h2' : 'http/1.1',
      auth: a.auth ? { via: a.auth.via, aud: a.auth.claims.aud, email: a.auth.claims.email } : null,
    };
    try {
      entry.status = await serveBuiltin(req, res, ctx);
    } catch {
      entry.status = -1;
    }
    record(entry);
  };

  const server = http2.createSecureServer(
    {
      key: tls.keyPem,
      cert: tls.certPem,
      allowHTTP1: true,
      ALPNProtocols: ['h2', 'http/1.1'],
      settings: { maxConcurrentStreams: opts.maxConcurrentStreams ?? 100 },
    },
    onRequest as (req: Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  );
  server.on('secureConnection', (sock: Socket) => {
    if (knobs.refuseConnections) {
      sock.destroy();
      return;
    }
    stats().connections++;
    // runsd sends no SNI for an IP literal (RFC 6066; src/net/server-name.ts): tests read this.
    const sni = (sock as TLSSocket).servername || '(none)';
    stats().serverNames[sni] = (stats().serverNames[sni] ?? 0) + 1;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
  });
  server.on('session', (s: Http2Session) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('sessionError', () => {});

  const wss = attachWebSocketEcho(server, admit, record, () => stats().notFound++);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let caPath: string | undefined;
  const writeCa = (path: string) => {
    writeFileSync(path, tls.caPem, { mode: 0o644 });
    caPath = path;
    return path;
  };
  if (opts.caPath) writeCa(opts.caPath);

  return {
    host,
    port,
    url: (service, region = regions[0]!, form = 'deterministic') =>
      form === 'legacy'
        ? (serviceUrls(service, region, opts.projectNumber, opts.projectHash)[1] ?? '')
        : serviceUrls(service, region, opts.projectNumber)[0]!,
    domains,
    caPem: tls.caPem,
    get caPath() {
      return caPath;
    },
    writeCa,
    knobs,
    log,
    stats: () => structuredClone(stats()),
    requestCount: (service, protocol) =>
      log.filter(
        (r) =>
          (service === undefined || r.service === service) &&
          (protocol === undefined || r.protocol === protocol),
      ).length,
    resetStats: recorder.reset,
    closeConnections: () => {
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
