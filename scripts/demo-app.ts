// The "unchanged app" of the demo: it calls http://hello like any other URL. runsd (env mode) is its
// HTTP proxy, finds the Cloud Run service, adds the ID token and speaks HTTPS.
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { ECHO_PROTO_PATH } from '../src/emulator/frontend-grpc.ts';

const r = await fetch('http://hello/demo?from=app');
const echo = (await r.json()) as {
  service: string;
  host: string;
  auth: { via: string; aud: string; email: string } | null;
};
console.log(`GET http://hello/demo → ${r.status} from service "${echo.service}" at https://${echo.host}`);
console.log(`  the front end verified an ID token (${echo.auth?.via}) for aud=${echo.auth?.aud}`);
console.log(`  minted for ${echo.auth?.email}`);

const def = loader.loadSync(ECHO_PROTO_PATH, { keepCase: true, defaults: true });
const pkg = grpc.loadPackageDefinition(def) as unknown as {
  runsd: { emulator: { Echo: grpc.ServiceClientConstructor } };
};
// grpc-js honours http_proxy: it opens CONNECT hello:80 to runsd and speaks h2c inside.
// biome-ignore lint/suspicious/noExplicitAny: generated client
const client: any = new pkg.runsd.emulator.Echo('hello:80', grpc.credentials.createInsecure());
const reply = await new Promise<{ message: string; service: string }>((resolve, reject) =>
  client.Unary({ message: 'hello over gRPC' }, (e: Error | null, m: { message: string; service: string }) =>
    e ? reject(e) : resolve(m),
  ),
);
console.log(
  `gRPC runsd.emulator.Echo/Unary on hello:80 → "${reply.message}" from service "${reply.service}"`,
);
client.close();
