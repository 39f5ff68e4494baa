import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startUpstreamDns } from '../../../src/emulator/dns.ts';
import { MetricsRegistry as Registry } from '../../../src/room-metrics.ts';
import { createFetcher } from '../../../workers/token/fetcher.ts';
import { createMetadataClient, MetadataError } from '../../../workers/token/metadata-client.ts';
import { createTokenMetrics } from '../../../workers/token/metrics.ts';
import { fakeJwt } from '../../helpers/jwt.ts';

type T = { after(fn: () => unknown): void };
type Reply = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A scripted HTTP server on loopback; `replies` are used in order, the last one repeats. */
async function server(t: T, ...replies: Reply[]) {
  const seen: http.IncomingMessage[] = [];
  const srv = http.createServer((req, res) => {
    seen.push(req);
    (replies[Math.min(seen.length - 1, replies.length - 1)] as Reply)(req, res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => {
    srv.closeAllConnections();
    return new Promise((r) => srv.close(r));
  });
  return { hostPort: `127.0.0.1:${(srv.address() as AddressInfo).port}`, seen };
}

const flavored =
  (status: number, body: string): Reply =>
  (_req, res) => {
    res.writeHead(status, { 'Metadata-Flavor': 'Google' });
    res.end(body);
  };
const token = () => fakeJwt({ aud: 'https://a.run.app', exp: Math.floor(Date.now() / 1000) + 3600 });

const timeouts = (ms: number) => ({ connectTimeoutMs: ms, responseTimeoutMs: ms });

function fetcherFor(hostPort: string, registry = new Registry(), timeoutMs = 2000) {
  const client = createMetadataClient({
    metadataHost: hostPort,
    upstreams: [],
    connectTimeoutMs: timeoutMs,
    responseTimeoutMs: timeoutMs,
  });
  const metrics = createTokenMetrics(registry, () => null);
  const sleeps: number[] = [];
  const f = createFetcher({
    client,
    maxConcurrent: 2,
    attempts: 4,
    backoff: { baseMs: 100, maxMs: 1000 },
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    metrics,
  });
  return { f, sleeps, registry };
}

test('sends Metadata-Flavor: Google and the audience; reads exp', async (t) => {
  const tok = token();
  const s = await server(t, flavored(200, tok));
  const { f } = fetcherFor(s.hostPort);
  const got = await f.mint('https://a.run.app');
  assert.equal(got.value, tok);
  assert.equal(got.expiresAt % 1000, 0);
  assert.ok(got.expiresAt > Date.now());
  const req = s.seen[0]!;
  assert.equal(req.headers['metadata-flavor'], 'Google');
  const url = new URL(req.url!, 'http://x');
  assert.equal(url.pathname, '/computeMetadata/v1/instance/service-accounts/default/identity');
  assert.equal(url.searchParams.get('audience'), 'https://a.run.app');
  assert.equal(url.searchParams.get('format'), 'full');
});

test('an answer without Metadata-Flavor: Google is refused, not retried', async (t) => {
  const s = await server(t, (_req, res) => res.end(token()));
  const { f } = fetcherFor(s.hostPort);
  await assert.rejects(f.mint('https://a.run.app'), (err: unknown) => {
    assert.ok(err instanceof MetadataError);
    assert.equal(err.code, 'RUNSD_METADATA');
    assert.match(err.message, /not a metadata server/);
    return true;
  });
  assert.equal(s.seen.length, 1);
});

test('a 4xx is reported at once; 5xx and 429 are retried with the backoff schedule', async (t) => {
  const forbidden = await server(t, flavored(403, 'no permission'));
  const a = fetcherFor(forbidden.hostPort);
  await assert.rejects(
    a.f.mint('https://a.run.app'),
    /HTTP 403 to instance\/service-accounts\/default\/identity: no permission/,
  );
  assert.equal(forbidden.seen.length, 1);
  assert.deepEqual(a.sleeps, []);

  const flaky = await server(
    t,
    flavored(503, 'busy'),
    flavored(429, 'slow down'),
    flavored(500, 'oops'),
    flavored(200, token()),
  );
  const b = fetcherFor(flaky.hostPort);
  const got = await b.f.mint('https://a.run.app');
  assert.equal(got.value.split('.').length, 3);
  assert.equal(flaky.seen.length, 4);
  assert.deepEqual(b.sleeps, [75, 150, 300], 'exponential with jitter (random = 0.5)');
  const json = await b.registry.getMetricsAsJSON();
  const fetches = json.find((m) => m.name === 'runsd_token_fetches_total')!.values;
  // Every outcome is exported from the start (issue 13): error stays at 0.
  assert.deepEqual(Object.fromEntries(fetches.map((v) => [v.labels['outcome'], v.value])), {
    retry: 3,
    ok: 1,
    error: 0,
  });
  const hist = json.find((m) => m.name === 'runsd_token_fetch_duration_seconds')!.values;
  assert.equal(
    (hist as { metricName?: string; value: number }[]).find((v) => v.metricName?.endsWith('_count'))?.value,
    4,
  );

  const down = await server(t, flavored(503, 'down'));
  const c = fetcherFor(down.hostPort);
  await assert.rejects(c.f.mint('https://a.run.app'), /HTTP 503/);
  assert.equal(down.seen.length, 4, 'gives up after 4 attempts');
});

test('a metadata server that does not answer in time is a timeout (retried)', async (t) => {
  const s = await server(t, () => {}); // never answers
  const { f, sleeps, registry } = fetcherFor(s.hostPort, new Registry(), 150);
  await assert.rejects(f.mint('https://a.run.app'), (err: unknown) => {
    assert.ok(err instanceof MetadataError);
    assert.deepEqual(err.failure, { kind: 'timeout' });
    assert.match(err.message, /did not answer .* within 150 ms/);
    return true;
  });
  // Counted on our side: on a loaded machine an attempt can time out before the server sees it.
  assert.equal(sleeps.length, 3, 'retried 3 times');
  const fetches = (await registry.getMetricsAsJSON()).find(
    (m) => m.name === 'runsd_token_fetches_total',
  )!.values;
  assert.deepEqual(Object.fromEntries(fetches.map((v) => [v.labels['outcome'], v.value])), {
    retry: 3,
    error: 1,
    ok: 0,
  });
});

test('a token without exp, or already expired, is refused', async (t) => {
  const s = await server(t, flavored(200, 'opaque-token'));
  const { f } = fetcherFor(s.hostPort);
  await assert.rejects(f.mint('https://a.run.app'), /carries no readable exp/);
  const old = fakeJwt({ aud: 'https://a.run.app', exp: Math.floor(Date.now() / 1000) - 60 });
  const s2 = await server(t, flavored(200, old));
  const g = fetcherFor(s2.hostPort);
  await assert.rejects(g.f.mint('https://a.run.app'), /expired at .* \(clock skew\?\)/);
  assert.equal(s2.seen.length, 1, 'not retried');
});

test('metadata.google.internal is resolved through the original nameservers, not the system resolver', async (t) => {
  // Nothing listens on 127.0.0.77:80: the refused connection names the address the upstream gave.
  const dns = await startUpstreamDns({ frontendAddress: '127.0.0.2', metadataAddress: '127.0.0.77' });
  t.after(() => dns.close());
  const client = createMetadataClient({ metadataHost: null, upstreams: [dns.address], ...timeouts(2000) });
  t.after(() => client.close());
  assert.equal(client.origin, 'http://metadata.google.internal');
  await assert.rejects(client.get('instance/region'), (err: unknown) => {
    assert.ok(err instanceof MetadataError);
    assert.match(
      err.message,
      /cannot reach metadata server http:\/\/metadata\.google\.internal .*127\.0\.0\.77:80/,
    );
    return true;
  });
  assert.ok(dns.count((q) => q.name === 'metadata.google.internal') >= 1);
  // An unanswering nameserver: a coded error that says which nameserver was asked.
  dns.knobs.silent = true;
  const dead = createMetadataClient({ metadataHost: null, upstreams: [dns.address], ...timeouts(1000) });
  t.after(() => dead.close());
  await assert.rejects(dead.get('instance/region'), (err: unknown) => {
    assert.ok(err instanceof MetadataError);
    assert.equal(err.retryable, true);
    assert.match(err.message, /cannot resolve metadata\.google\.internal via 127\.0\.0\.1:\d+/);
    return true;
  });
});

test('the base comes from metadataHost as given (host:port or URL)', async () => {
  for (const [host, want] of [
    ['127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['http://127.0.0.1:9', 'http://127.0.0.1:9'],
  ] as const) {
    const c = createMetadataClient({ metadataHost: host, upstreams: [], ...timeouts(100) });
    assert.equal(c.origin, want);
  }
});
