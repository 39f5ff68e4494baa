// The floor for any Node.js proxy on this path: a bare forwarder with none of runsd's work (no
// routing, no token lookup, no header rules, no retries, no metrics, no error handling) — HTTP/1.1
// and h2c in, one multiplexed HTTP/2 TLS session out, a fixed token. bench/proxy.ts runs it beside
// runsd so the README can say how much of the gap to direct is Node's and how much is runsd's.
// Not for use: it trusts every input. argv[2]: JSON [upstreamPort, host, bearer, caPem].
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';

const [port, host, bearer, ca] = JSON.parse(process.argv[2]!) as [number, string, string, string];
const session = http2.connect(`https://127.0.0.1:${port}`, {
  ca,
  servername: host,
  settings: { initialWindowSize: 4 << 20 },
} as http2.SecureClientSessionOptions);
session.on('error', (e) => {
  console.error(`node-floor: upstream session failed: ${e.message}`);
  process.exit(1);
});

const upstream = (method: string, path: string, headers: Record<string, unknown>) => {
  const out: http2.OutgoingHttpHeaders = {};
  for (const k in headers)
    if (k[0] !== ':' && k !== 'host' && k !== 'connection') out[k] = headers[k] as string;
  out[':method'] = method;
  out[':path'] = path;
  out[':authority'] = host;
  out['x-serverless-authorization'] = bearer;
  return session.request(out, { endStream: true });
};

const h1 = http.createServer((req, res) => {
  const s = upstream(req.method ?? 'GET', req.url ?? '/', req.headers);
  s.on('response', (h) => {
    const status = Number(h[':status']);
    delete h[':status'];
    res.writeHead(status, h as http.OutgoingHttpHeaders);
    s.on('data', (c: Buffer) => res.write(c));
    s.on('end', () => res.end());
  });
});
const h2c = http2.createServer();
h2c.on('stream', (ds, headers) => {
  const s = upstream(String(headers[':method']), String(headers[':path']), headers);
  // Load generators close their connections at the end of a run: only what keeps this alive then.
  ds.on('error', () => {});
  s.on('error', () => {});
  s.on('response', (h) => {
    if (ds.destroyed) return void s.close();
    ds.respond(h);
    s.on('data', (c: Buffer) => ds.write(c));
    s.on('end', () => ds.end());
  });
});
const listen = (srv: http.Server | http2.Http2Server) =>
  new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as AddressInfo).port)));
process.stdout.write(`${await listen(h1)} ${await listen(h2c)}\n`);
process.on('SIGTERM', () => process.exit(0));
