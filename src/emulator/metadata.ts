// Fake GCE/Cloud Run metadata server: the facts runsd reads at start-up and real RS256 ID tokens,
// with knobs (latency, errors, outage, blackhole, token lifetime) and counters for tests and load runs.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generateSigningKey, type Jwk, publicJwk, type SigningKey, signJwt } from './jwt.ts';

export interface MetadataOptions {
  host?: string;
  port?: number;
  projectId?: string;
  projectNumber?: string;
  region?: string;
  zone?: string;
  email?: string;
  tokenLifetimeSec?: number;
  latencyMs?: number;
  errorRate?: number;
  outage?: boolean;
  blackhole?: boolean;
}

export interface MetadataKnobs {
  /** Added before every answer. */
  latencyMs: number;
  /** 0..1: share of requests answered 500 (after the flavor check). */
  errorRate: number;
  /** Every connection and request is reset: the server is "down". */
  outage: boolean;
  /** Connections are accepted and requests read, but nothing is ever sent back (an overloaded or
   * partitioned host): clients must time out. Outage wins when both are set. */
  blackhole: boolean;
  /** Lifetime of minted ID tokens (exp - iat); negative mints already expired tokens. */
  tokenLifetimeSec: number;
}

export interface MetadataStats {
  requests: number;
  identityCalls: Record<string, number>;
  identityInFlight: number;
  identityInFlightMax: number;
  rejected: { noFlavor: number; badRequest: number; errors: number; outage: number; blackhole: number };
}

export interface MetadataServer {
  url: string;
  hostPort: string;
  host: string;
  port: number;
  knobs: MetadataKnobs;
  identityCalls(audience?: string): number;
  readonly inFlight: number;
  readonly inFlightMax: number;
  stats(): MetadataStats;
  resetStats(): void;
  jwks(): { keys: Jwk[] };
  signingKey: SigningKey;
  facts: { projectId: string; projectNumber: string; region: string; zone: string; email: string };
  close(): Promise<void>;
}

const FORBIDDEN = (path: string) =>
  `<!DOCTYPE html>\n<html lang=en>\n  <meta charset=utf-8>\n  <title>Error 403 (Forbidden)!!1</title>\n` +
  `  <p><b>403.</b> <ins>That’s an error.</ins>\n  <p>Your client does not have permission to get URL ` +
  `<code>${path}</code> from this server. Missing Metadata-Flavor:Google header. <ins>That’s all we know.</ins>\n`;

export async function startMetadataServer(opts: MetadataOptions = {}): Promise<MetadataServer> {
  const facts = {
    projectId: opts.projectId ?? 'emulated-project',
    projectNumber: opts.projectNumber ?? '123456789012',
    region: opts.region ?? 'us-central1',
    zone: opts.zone ?? `${opts.region ?? 'us-central1'}-1`,
    email: opts.email ?? `${opts.projectNumber ?? '123456789012'}-compute@developer.gserviceaccount.com`,
  };
  const knobs: MetadataKnobs = {
    latencyMs: opts.latencyMs ?? 0,
    errorRate: opts.errorRate ?? 0,
    outage: opts.outage ?? false,
    blackhole: opts.blackhole ?? false,
    tokenLifetimeSec: opts.tokenLifetimeSec ?? 3600,
  };
  const key = await generateSigningKey();
  const jwk = publicJwk(key);
  const fresh = (): MetadataStats => ({
    requests: 0,
    identityCalls: {},
    identityInFlight: 0,
    identityInFlightMax: 0,
    rejected: { noFlavor: 0, badRequest: 0, errors: 0, outage: 0, blackhole: 0 },
  });
  let stats = fresh();
  const sub = String(100000000000000000000n + BigInt(facts.projectNumber.replace(/\D/g, '') || '0'));

  const simple: Record<string, () => string> = {
    'project/project-id': () => facts.projectId,
    'project/numeric-project-id': () => facts.projectNumber,
    'instance/region': () => `projects/${facts.projectNumber}/regions/${facts.region}`,
    'instance/zone': () => `projects/${facts.projectNumber}/zones/${facts.zone}`,
    'instance/id': () => '0042',
    'instance/service-accounts/default/email': () => facts.email,
    'instance/service-accounts/default/aliases': () => 'default',
    'instance/service-accounts/default/scopes': () => 'https://www.googleapis.com/auth/cloud-platform',
    'instance/service-accounts/': () => `default/\n${facts.email}/\n`,
  };

  const send = (res: http.ServerResponse, code: number, body: string, type = 'application/text') => {
    res.writeHead(code, {
      'Metadata-Flavor': 'Google',
      'Content-Type': type,
      Server: 'Metadata Server for Serverless',
    });
    res.end(body);
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  const server = http.createServer(async (req, res) => {
    if (knobs.outage) {
      stats.rejected.outage++;
      req.socket.destroy();
      return;
    }
    if (knobs.blackhole) {
      stats.rejected.blackhole++; // never answered; close() or the client ends the connection
      return;
    }
    stats.requests++;
    const url = new URL(req.url ?? '/', 'http://metadata.google.internal');
    const path = url.pathname;
    if (path === '/emulator/stats') return send(res, 200, JSON.stringify(stats), 'application/json');
    if (path === '/emulator/jwks' || path === '/oauth2/v3/certs') {
      return send(res, 200, JSON.stringify({ keys: [jwk] }), 'application/json');
    }
    if (req.headers['x-forwarded-for'] !== undefined || req.headers['metadata-flavor'] !== 'Google') {
      // the real server also refuses proxied requests (X-Forwarded-For) this way
      stats.rejected.noFlavor++;
      return send(res, 403, FORBIDDEN(path), 'text/html; charset=UTF-8');
    }
    // identity calls count as in flight from arrival (incl. emulated latency) to answer
    const identityCall = /\/service-accounts\/[^/]+\/identity$/.test(path);
    const mine = stats;
    if (identityCall) {
      mine.identityInFlight++;
      mine.identityInFlightMax = Math.max(mine.identityInFlightMax, mine.identityInFlight);
    }
    try {
      await answer(req, res, url, path);
    } finally {
      if (identityCall) mine.identityInFlight--;
    }
  });

  const answer = async (_req: http.IncomingMessage, res: http.ServerResponse, url: URL, path: string) => {
    if (knobs.latencyMs > 0) await sleep(knobs.latencyMs);
    if (knobs.errorRate > 0 && Math.random() < knobs.errorRate) {
      stats.rejected.errors++;
      return send(res, 500, 'Internal error (emulated)\n');
    }
    if (path === '/') return send(res, 200, 'computeMetadata/\n');
    const rest = path.startsWith('/computeMetadata/v1/') ? path.slice('/computeMetadata/v1/'.length) : null;
    if (rest === null) return send(res, 404, 'Not Found\n', 'text/html; charset=UTF-8');
    const fact = simple[rest.replace('/service-accounts/' + facts.email + '/', '/service-accounts/default/')];
    if (fact) return send(res, 200, fact());
    const sa = rest.match(/^instance\/service-accounts\/([^/]+)\/(identity|token)$/);
    if (sa && (sa[1] === 'default' || sa[1] === facts.email)) {
      if (sa[2] === 'token') {
        const body = { access_token: `ya29.emulated-${Date.now()}`, expires_in: 3599, token_type: 'Bearer' };
        return send(res, 200, JSON.stringify(body), 'application/json');
      }
      const audience = url.searchParams.get('audience') ?? '';
      if (!audience) {
        stats.rejected.badRequest++;
        return send(res, 400, 'non-empty audience parameter required\n');
      }
      stats.identityCalls[audience] = (stats.identityCalls[audience] ?? 0) + 1;
      const now = Math.floor(Date.now() / 1000);
      const full = url.searchParams.get('format') === 'full';
      const claims: Record<string, unknown> = {
        aud: audience,
        azp: sub,
        ...(full ? { email: facts.email, email_verified: true } : {}),
        exp: now + knobs.tokenLifetimeSec,
        iat: now,
        iss: 'https://accounts.google.com',
        sub,
      };
      const token = await signJwt(claims, key);
      return send(res, 200, token);
    }
    return send(res, 404, 'Not Found\n', 'text/html; charset=UTF-8');
  };
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    if (knobs.outage) {
      stats.rejected.outage++;
      s.destroy();
      return;
    }
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return {
    url: `http://${hostPort}`,
    hostPort,
    host,
    port,
    knobs,
    facts,
    signingKey: key,
    identityCalls: (audience) =>
      audience === undefined
        ? Object.values(stats.identityCalls).reduce((a, b) => a + b, 0)
        : (stats.identityCalls[audience] ?? 0),
    get inFlight() {
      return stats.identityInFlight;
    },
    get inFlightMax() {
      return stats.identityInFlightMax;
    },
    stats: () => structuredClone(stats),
    resetStats: () => {
      stats = fresh();
    },
    jwks: () => ({ keys: [jwk] }),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
