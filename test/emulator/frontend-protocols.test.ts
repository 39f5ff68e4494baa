import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import WebSocket from 'ws';
import { ECHO_PROTO_PATH } from '../../src/emulator/frontend-grpc.ts';
import { HELLO, startBed } from './fixture.ts';

type Reply = { message: string; index: number; service: string; metadata: Record<string, string> };
// biome-ignore lint/suspicious/noExplicitAny: grpc-js dynamic client methods
type Fn = (...a: any[]) => any;
type Client = grpc.Client & { Unary: Fn; ServerStream: Fn; Bidi: Fn };

const def = protoLoader.loadSync(ECHO_PROTO_PATH, { keepCase: false, defaults: true });
const Echo = (grpc.loadPackageDefinition(def) as unknown as { runsd: { emulator: { Echo: unknown } } }).runsd
  .emulator.Echo as new (
  target: string,
  creds: grpc.ChannelCredentials,
  options: object,
) => Client;

const lookupLoopback = ((_h: string, o: { all?: boolean }, cb: (...a: unknown[]) => void) =>
  o?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) as never;

test('gRPC (@grpc/grpc-js): unary, server-streaming, bidi, non-OK status, trailers-only', async (t) => {
  const bed = await startBed(t);
  const tok = await bed.token(`https://${HELLO}`);
  const client = new Echo(`127.0.0.1:${bed.fe.port}`, grpc.credentials.createSsl(Buffer.from(bed.fe.caPem)), {
    'grpc.ssl_target_name_override': HELLO,
    'grpc.default_authority': HELLO,
  });
  t.after(() => client.close());
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${tok}`);
  md.set('x-app', 'yes');

  const unary = (req: object) =>
    new Promise<{ err: grpc.ServiceError | null; reply?: Reply }>((resolve) =>
      client.Unary(req, md, (err: grpc.ServiceError | null, reply?: Reply) => resolve({ err, reply })),
    );
  const ok = await unary({ message: 'hi' });
  assert.equal(ok.err, null);
  assert.equal(ok.reply!.message, 'hi');
  assert.equal(ok.reply!.service, 'hello');
  assert.equal(ok.reply!.metadata['x-app'], 'yes');
  const nf = await unary({
    status: grpc.status.NOT_FOUND,
    statusMessage: 'no such thing',
    trailersOnly: true,
  });
  assert.equal(nf.err?.code, grpc.status.NOT_FOUND);
  assert.equal(nf.err?.details, 'no such thing');
  const perm = await unary({ status: grpc.status.PERMISSION_DENIED, statusMessage: 'nope' });
  assert.equal(perm.err?.code, grpc.status.PERMISSION_DENIED);

  // server streaming: N messages, then a non-OK status in real trailers
  const got: Reply[] = [];
  const streamErr = await new Promise<grpc.ServiceError | null>((resolve) => {
    const call = client.ServerStream(
      { message: 'm', count: 3, status: grpc.status.ABORTED, statusMessage: 'after three' },
      md,
    ) as grpc.ClientReadableStream<Reply>;
    call.on('data', (r: Reply) => got.push(r));
    call.on('error', (e: grpc.ServiceError) => resolve(e));
    call.on('status', (s: grpc.StatusObject) => s.code === 0 && resolve(null));
  });
  assert.deepEqual(
    got.map((r) => [r.message, r.index]),
    [
      ['m 0', 0],
      ['m 1', 1],
      ['m 2', 2],
    ],
  );
  assert.equal(streamErr?.code, grpc.status.ABORTED);

  // bidi: one reply per message, OK when the client half-closes
  const bidi = client.Bidi(md) as grpc.ClientDuplexStream<object, Reply>;
  const echoed: string[] = [];
  const done = new Promise<grpc.StatusObject>((resolve) => bidi.on('status', resolve));
  bidi.on('data', (r: Reply) => echoed.push(r.message));
  for (const m of ['a', 'b', 'c']) bidi.write({ message: m });
  bidi.end();
  assert.equal((await done).code, grpc.status.OK);
  assert.deepEqual(echoed, ['a', 'b', 'c']);

  // without a token the front end answers 403 before gRPC: grpc-js maps it to a non-OK status
  const anon = await new Promise<grpc.ServiceError | null>((resolve) =>
    client.Unary({ message: 'x' }, (err: grpc.ServiceError | null) => resolve(err)),
  );
  assert.equal(anon?.code, grpc.status.PERMISSION_DENIED);
  assert.equal(bed.fe.stats().requests.hello?.grpc, 6);
});

test('WebSocket echo with a token, rejected without one', async (t) => {
  const bed = await startBed(t);
  const tok = await bed.token(`https://${HELLO}`);
  const open = (headers: Record<string, string>) =>
    new WebSocket(`wss://${HELLO}:${bed.fe.port}/chat`, {
      ca: bed.fe.caPem,
      headers,
      lookup: lookupLoopback,
    });
  const ws = open({ 'X-Serverless-Authorization': `Bearer ${tok}` });
  const replies: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.on('open', () => ws.send('ping'));
    ws.on('message', (d) => {
      replies.push(d.toString());
      if (replies.length === 1) ws.send('close');
    });
    ws.on('close', (code) => (code === 1000 ? resolve() : reject(new Error(`close ${code}`))));
    ws.on('error', reject);
  });
  assert.deepEqual(replies, ['hello: ping']);
  const rejected = await new Promise<number>((resolve) => {
    const anon = open({});
    anon.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    anon.on('error', () => {});
  });
  assert.equal(rejected, 403);
  assert.equal(bed.fe.requestCount('hello', 'ws'), 2);
});

test('knobs: GOAWAY after N streams is seen by an h2 client; reset streams; refused connections', async (t) => {
  const bed = await startBed(t);
  const pub = `public-123456.us-central1.run.app`;
  const connect = () =>
    http2.connect(`https://${pub}:${bed.fe.port}`, { ca: bed.fe.caPem, lookup: lookupLoopback });
  const get = (s: http2.ClientHttp2Session, path: string) =>
    new Promise<{ status: number; err?: Error }>((resolve) => {
      const req = s.request({ ':path': path, ':authority': pub });
      let status = 0;
      req.on('response', (h) => {
        status = Number(h[':status']);
      });
      req.on('error', (err) => resolve({ status, err }));
      req.on('close', () => resolve({ status }));
      req.resume();
      req.end();
    });

  bed.fe.knobs.goawayAfterStreams = 2;
  const s = connect();
  const settings = await new Promise<http2.Settings>((resolve) => s.once('remoteSettings', resolve));
  assert.equal(
    settings.maxConcurrentStreams,
    100,
    'advertises 100 concurrent streams like Google front ends',
  );
  const goaway = new Promise<number>((resolve) => s.on('goaway', (code) => resolve(code)));
  s.on('error', () => {});
  assert.equal((await get(s, '/')).status, 200);
  assert.equal((await get(s, '/')).status, 200, 'the stream that triggered GOAWAY still completes');
  assert.equal(await goaway, http2.constants.NGHTTP2_NO_ERROR);
  assert.equal(bed.fe.stats().goaways, 1);
  bed.fe.knobs.goawayAfterStreams = 0;

  bed.fe.knobs.resetStreams = 1;
  const s2 = connect();
  s2.on('error', () => {});
  t.after(() => s2.destroy());
  const reset = await get(s2, '/');
  assert.match(String(reset.err), /NGHTTP2_INTERNAL_ERROR/);
  assert.equal((await get(s2, '/')).status, 200, 'only the next N streams are reset');
  assert.match(String((await get(s2, '/reset')).err), /NGHTTP2_INTERNAL_ERROR/);

  // http/1.1: GOAWAY knob becomes Connection: close
  bed.fe.knobs.goawayAfterStreams = 1;
  assert.match(await bed.curl(['--http1.1', '-sI', 'https://HOST/'], pub), /connection: close/i);
  bed.fe.knobs.goawayAfterStreams = 0;

  bed.fe.knobs.refuseConnections = true;
  await assert.rejects(bed.curl(['https://HOST/'], pub));
  bed.fe.knobs.refuseConnections = false;
  bed.fe.closeConnections();
  assert.equal(await bed.curl(['-o', '/dev/null', '-w', '%{http_code}', 'https://HOST/'], pub), '200');
});
