// gRPC client for the e2e tests: unary, non-OK (trailers-only and not), server streaming, bidi
// through http://hello (h2c to runsd). Prints one JSON line.
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { ECHO_PROTO_PATH } from '../../../src/emulator/frontend-grpc.ts';

const target = process.argv[2] ?? 'hello:80';
const def = loader.loadSync(ECHO_PROTO_PATH, { keepCase: true, defaults: true });
const pkg = grpc.loadPackageDefinition(def) as unknown as {
  runsd: { emulator: { Echo: grpc.ServiceClientConstructor } };
};
// biome-ignore lint/suspicious/noExplicitAny: generated client
const c: any = new pkg.runsd.emulator.Echo(target, grpc.credentials.createInsecure());
const unary = (m: object) =>
  new Promise<{ code: number; details?: string; message?: string }>((res) =>
    c.Unary(m, (e: grpc.ServiceError | null, r?: { message: string }) =>
      res(e ? { code: e.code, details: e.details } : { code: 0, message: r!.message }),
    ),
  );
const out: Record<string, unknown> = {};
out['unary'] = await unary({ message: 'hi' });
out['notFound'] = await unary({ message: 'x', status: 5, status_message: 'gone', trailers_only: true });
out['aborted'] = await unary({ message: 'x', status: 10, status_message: 'stop' });
out['stream'] = await new Promise((res) => {
  const got: number[] = [];
  const s = c.ServerStream({ message: 's', count: 5 });
  s.on('data', (m: { index: number }) => got.push(m.index));
  s.on('status', (st: grpc.StatusObject) => res({ got, code: st.code }));
  s.on('error', () => {});
});
out['bidi'] = await new Promise((res) => {
  const s = c.Bidi();
  const got: string[] = [];
  s.on('data', (m: { message: string }) => {
    got.push(m.message);
    if (got.length < 3) s.write({ message: `m${got.length}` });
    else s.end();
  });
  s.on('status', (st: grpc.StatusObject) => res({ got, code: st.code }));
  s.on('error', () => {});
  s.write({ message: 'm0' });
});
c.close();
console.log(JSON.stringify(out));
