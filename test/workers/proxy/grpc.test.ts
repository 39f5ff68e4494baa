// gRPC through the proxy with @grpc/grpc-js on both ends: the app's client speaks h2c to "hello",
// the upstream is a TLS gRPC server standing in for the Cloud Run service.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { testCert } from '../../helpers/fake-upstream.ts';
import { type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

interface Msg {
  text: string;
}
type EchoClient = grpc.Client & {
  Unary(m: Msg, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Msg) => void): void;
  ServerStream(m: Msg): grpc.ClientReadableStream<Msg>;
  Bidi(): grpc.ClientDuplexStream<Msg, Msg>;
};

const def = loader.loadSync(new URL('../../fixtures/echo.proto', import.meta.url).pathname);
const proto = grpc.loadPackageDefinition(def) as unknown as {
  echo: { Echo: grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition } };
};

let server: grpc.Server;
let f: Fixture;
let client: EchoClient;

before(async () => {
  const { cert, key } = testCert();
  server = new grpc.Server();
  server.addService(proto.echo.Echo.service, {
    Unary: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => {
      if (call.request.text === 'fail') return cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
      const auth = call.metadata.get('x-serverless-authorization')[0];
      const basic = call.metadata.get('authorization')[0];
      cb(null, { text: `${call.request.text}|${auth}|${basic ?? ''}` });
    },
    ServerStream: (call: grpc.ServerWritableStream<Msg, Msg>) => {
      let i = 0;
      const t = setInterval(() => {
        call.write({ text: `${call.request.text}-${i++}` });
        if (i === 5) {
          clearInterval(t);
          if (call.request.text === 'late-fail')
            call.emit('error', { code: grpc.status.ABORTED, details: 'stopped after 5' });
          else call.end();
        }
      }, 10);
    },
    Bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      call.on('data', (m: Msg) => call.write({ text: m.text.toUpperCase() }));
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(
      '127.0.0.1:0',
      grpc.ServerCredentials.createSsl(null, [
        { cert_chain: Buffer.from(cert), private_key: Buffer.from(key) },
      ]),
      (e, p) => (e ? reject(e) : resolve(p)),
    ),
  );
  f = await startProxy({ port, caPem: cert });
  client = new proto.echo.Echo(`127.0.0.1:${f.port}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'hello',
  }) as unknown as EchoClient;
});
after(async () => {
  client.close();
  await f.proxy.close();
  server.forceShutdown();
});

const AUD = 'https://hello-123456789012.us-central1.run.app';

test("unary: token added, the app's Authorization intact", async () => {
  const md = new grpc.Metadata();
  md.set('authorization', 'Basic YTpi');
  const r = await new Promise<Msg>((resolve, reject) =>
    client.Unary({ text: 'hi' }, md, (e, m) => (e ? reject(e) : resolve(m!))),
  );
  assert.equal(r.text, `hi|Bearer tok-for-${AUD}|Basic YTpi`);
});

test('unary non-OK status (a trailers-only response) reaches the client', async () => {
  const err = await new Promise<grpc.ServiceError>((resolve) =>
    client.Unary({ text: 'fail' }, new grpc.Metadata(), (e) => resolve(e!)),
  );
  assert.equal(err.code, grpc.status.NOT_FOUND);
  assert.equal(err.details, 'no such thing');
});

test('server streaming, incl. a status after messages', async () => {
  const read = (text: string) =>
    new Promise<{ msgs: string[]; status: grpc.StatusObject | grpc.ServiceError }>((resolve) => {
      const msgs: string[] = [];
      const s = client.ServerStream({ text });
      s.on('data', (m: Msg) => msgs.push(m.text));
      s.on('error', (e: grpc.ServiceError) => resolve({ msgs, status: e }));
      s.on('status', (st: grpc.StatusObject) => {
        if (st.code === grpc.status.OK) resolve({ msgs, status: st });
      });
    });
  const ok = await read('s');
  assert.deepEqual(ok.msgs, ['s-0', 's-1', 's-2', 's-3', 's-4']);
  assert.equal(ok.status.code, grpc.status.OK);
  const bad = await read('late-fail');
  assert.equal(bad.msgs.length, 5);
  assert.equal(bad.status.code, grpc.status.ABORTED);
});

test('bidi streaming: replies interleave with requests', async () => {
  const s = client.Bidi();
  const replies: string[] = [];
  for (const w of ['a', 'b', 'c']) {
    const got = new Promise<string>((r) => s.once('data', (m: Msg) => r(m.text)));
    s.write({ text: w });
    // Each reply arrives before the next request is sent: nothing is buffered to the end.
    replies.push(await got);
  }
  s.end();
  await new Promise((r) => s.on('status', r));
  assert.deepEqual(replies, ['A', 'B', 'C']);
});
