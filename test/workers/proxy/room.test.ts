// The real proxy and token rooms (worker threads, started by the supervisor's Rooms) against the
// emulator: metadata server minting real JWTs, the HTTPS front end verifying them, the upstream DNS.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import http2 from 'node:http2';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { ECHO_PROTO_PATH, type Emulator, startEmulator } from '../../../src/emulator/index.ts';
import { createLogger } from '../../../src/log.ts';
import { Rooms } from '../../../src/supervisor/rooms.ts';
import type { ProxySettings } from '../../../workers/proxy/settings.ts';
import { METADATA_BUDGET } from '../../../workers/token/settings.ts';
import { baseProxySettings } from '../../helpers/proxy-settings.ts';
import { tokenSettings } from '../token/room-harness.ts';

const run = promisify(execFile);
let emu: Emulator;
let rooms: Rooms;
let port: number;
let legacyPort: number;
let legacyRooms: Rooms;

const entry = (room: string) => new URL(`../../../workers/${room}/worker.ts`, import.meta.url);

async function startRooms(over: Partial<ProxySettings>): Promise<{ rooms: Rooms; port: number }> {
  const r = new Rooms(
    {
      log: createLogger({ verbosity: 0, format: 'text', write: () => {} }),
      logSettings: { verbosity: 0, format: 'text' },
    },
    { region: emu.region, projectNumber: emu.projectNumber, projectId: 'emu-project' },
  );
  const proxy: ProxySettings = {
    ...baseProxySettings(),
    // *.run.app resolves through the emulator's upstream DNS, as through the original nameservers.
    upstreams: [emu.dns.address],
    upstreamPort: emu.frontend.port,
    ca: emu.frontend.caPem,
    ...over,
  };
  await r.startAll([
    {
      name: 'token',
      entry: entry('token'),
      settings: tokenSettings({
        metadataHost: emu.metadata.hostPort,
        upstreams: [emu.dns.address],
        ...METADATA_BUDGET,
      }),
    },
    { name: 'proxy', entry: entry('proxy'), settings: proxy, peers: ['token'] },
  ]);
  return { rooms: r, port: Number(r.info('proxy')?.['port']) };
}

before(async () => {
  emu = await startEmulator();
  ({ rooms, port } = await startRooms({}));
  ({ rooms: legacyRooms, port: legacyPort } = await startRooms({ projectHash: emu.projectHash }));
});
after(async () => {
  await rooms?.closeAll();
  await legacyRooms?.closeAll();
  await emu?.close();
});

const AUD = 'https://hello-123456789012.us-central1.run.app';

test('READY reports the bound port', () => {
  assert.ok(port > 0);
});

test('curl HTTP/1.1 and h2c: the front end verifies the token; legacy URLs with a project hash', async () => {
  for (const [p, extra] of [
    [port, []],
    [port, ['--http2-prior-knowledge']],
    [legacyPort, []],
  ] as const) {
    const { stdout } = await run('curl', [
      '-sS',
      '-H',
      'Authorization: Basic YTpi',
      ...extra,
      '-H',
      'Host: hello',
      `http://127.0.0.1:${p}/room`,
    ]);
    const echo = JSON.parse(stdout);
    assert.equal(echo.service, 'hello');
    assert.equal(echo.auth.via, 'x-serverless-authorization');
    assert.equal(echo.headers['authorization'], 'Basic YTpi');
    assert.equal(echo.form, p === legacyPort ? 'legacy' : 'deterministic', stdout);
  }
});

test('a service that does not exist upstream: its 404 passes through', async () => {
  const { stdout } = await run('curl', [
    '-sS',
    '-o',
    '/dev/null',
    '-w',
    '%{http_code}',
    '-H',
    'Host: nosuch',
    `http://127.0.0.1:${port}/`,
  ]);
  assert.equal(stdout, '404');
});

test('GOAWAY every 50 streams: 1,000 requests, zero failures, one identity call per audience', async (t) => {
  emu.frontend.knobs.goawayAfterStreams = 50;
  t.after(() => {
    emu.frontend.knobs.goawayAfterStreams = 0;
  });
  const before = emu.metadata.identityCalls(AUD);
  const c = http2.connect(`http://127.0.0.1:${port}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => {
    c.close();
    agent.destroy();
  });
  const statuses: number[] = [];
  let next = 0;
  const h2 = async () => {
    while (next < 1000) {
      const i = next++;
      statuses.push(
        await new Promise<number>((resolve) => {
          if (i % 2) {
            const s = c.request({ ':path': `/n/${i}`, ':authority': 'hello' });
            let st = 0;
            s.on('response', (h) => (st = Number(h[':status'])));
            s.resume();
            s.on('end', () => resolve(st));
            s.on('error', () => resolve(-1));
          } else {
            http
              .get({ host: '127.0.0.1', port, path: `/n/${i}`, headers: { host: 'hello' }, agent }, (r) => {
                r.resume();
                r.on('end', () => resolve(r.statusCode ?? 0));
              })
              .on('error', () => resolve(-1));
          }
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 24 }, h2));
  assert.equal(statuses.length, 1000);
  assert.deepEqual(
    statuses.filter((s) => s !== 200),
    [],
  );
  assert.ok(emu.frontend.stats().goaways >= 10, `goaways: ${emu.frontend.stats().goaways}`);
  // The token was minted at most once for this audience (before this test, by an earlier one).
  assert.ok(emu.metadata.identityCalls(AUD) - before <= 1);
  assert.equal(emu.metadata.identityCalls(AUD), 1);
});

test('gRPC against the front end: unary, non-OK trailers-only, server streaming', async (t) => {
  const def = loader.loadSync(ECHO_PROTO_PATH, { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    runsd: { emulator: { Echo: grpc.ServiceClientConstructor } };
  };
  const client = new pkg.runsd.emulator.Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'hello',
  }) as unknown as {
    Unary(
      m: object,
      cb: (e: grpc.ServiceError | null, r?: { message: string; metadata: Record<string, string> }) => void,
    ): void;
    ServerStream(m: object): grpc.ClientReadableStream<{ index: number }>;
    close(): void;
  };
  t.after(() => client.close());
  const ok = await new Promise<{ message: string; metadata: Record<string, string> }>((res, rej) =>
    client.Unary({ message: 'hi' }, (e, r) => (e ? rej(e) : res(r!))),
  );
  assert.equal(ok.message, 'hi');
  for (const trailers_only of [true, false]) {
    const err = await new Promise<grpc.ServiceError>((res) =>
      client.Unary({ message: 'x', status: 5, status_message: 'gone', trailers_only }, (e) => res(e!)),
    );
    assert.equal(err.code, 5);
    assert.equal(err.details, 'gone');
  }
  const got: number[] = [];
  await new Promise<void>((res, rej) => {
    const s = client.ServerStream({ message: 's', count: 4 });
    s.on('data', (m) => got.push(m.index));
    s.on('end', () => res());
    s.on('error', rej);
  });
  assert.equal(got.length, 4);
});

test('metrics come from the room registry', async () => {
  const proxy = rooms.controls().find(([n]) => n === 'proxy')![1];
  const m = await proxy.metrics();
  const names = new Set(m.map((x) => x.name));
  for (const n of [
    'runsd_proxy_requests_total',
    'runsd_proxy_upstream_duration_seconds',
    'runsd_proxy_active_streams',
    'runsd_proxy_upstream_sessions',
    'runsd_proxy_goaways_total',
    'runsd_proxy_errors_total',
  ])
    assert.ok(names.has(n), n);
  const reqs = m.find((x) => x.name === 'runsd_proxy_requests_total')!;
  const hello2xx = reqs.values
    .filter((v) => v.labels['service'] === 'hello' && v.labels['code_class'] === '2xx')
    .reduce((a, v) => a + v.value, 0);
  assert.ok(hello2xx >= 1000);
});
