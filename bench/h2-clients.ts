// Upstream client choice for the proxy's hot path (docs/proxy.md, "Decision"): core node:http2
// (one session, session.request per request — what workers/proxy uses) vs http2-wrapper (https-like
// API over its Agent), N GETs with C in flight against a bare TLS h2 server in a child process, so
// this process's CPU is the client's alone. Also counts GOAWAY survival: the server sends GOAWAY
// every 50 streams.
// Run: ./node_modules/.bin/node bench/h2-clients.ts          (env N=20000 C=32)
import { fork } from 'node:child_process';
import http2 from 'node:http2';
import http2wrapper from 'http2-wrapper';

if (process.argv[2] === 'server') {
  const { makeTlsMaterial } = await import('../src/emulator/certs.ts');
  const tlsm = await makeTlsMaterial({ dnsNames: ['localhost', '*.us-central1.run.app'] });
  const goawayEvery = Number(process.argv[3] ?? 0);
  const server = http2.createSecureServer({ key: tlsm.keyPem, cert: tlsm.certPem });
  const count = new WeakMap<object, number>();
  server.on('stream', (s) => {
    const n = (count.get(s.session!) ?? 0) + 1;
    count.set(s.session!, n);
    s.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': '3' });
    s.end('ok\n');
    if (goawayEvery && n === goawayEvery) s.session!.close();
  });
  server.listen(0, '127.0.0.1', () =>
    process.send!({ port: (server.address() as { port: number }).port, ca: tlsm.caPem }),
  );
} else {
  const N = Number(process.env['N'] ?? 20000);
  const C = Number(process.env['C'] ?? 32);
  const start = async (goaway: number) => {
    const child = fork(new URL(import.meta.url).pathname, ['server', String(goaway)]);
    const m = await new Promise<{ port: number; ca: string }>((r) =>
      child.once('message', (x) => r(x as never)),
    );
    return { ...m, child };
  };
  const measure = async (name: string, one: () => Promise<number>) => {
    let next = 0;
    let failed = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next++ < N) {
          const status = await one().catch((e: unknown) => {
            if (process.env['DEBUG']) console.error(String(e));
            return 0;
          });
          if (status !== 200) failed++;
        }
      }),
    );
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMsPer1k = ((cpu.user + cpu.system) / 1000 / N) * 1000;
    console.log(`| ${name} | ${Math.round(N / (ms / 1000))} | ${cpuMsPer1k.toFixed(0)} | ${failed} |`);
  };
  console.log(`Node ${process.version}; ${N} GETs, ${C} in flight; server in a child process.`);
  console.log('| client | req/s | client CPU ms per 1,000 req | failed |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const goaway of [0, 50]) {
    const srv = await start(goaway);
    const origin = `https://localhost:${srv.port}`;
    const g = goaway ? ', GOAWAY every 50 streams' : '';
    // core: one session, replaced when it goes away (as workers/proxy/upstream-pool.ts does)
    let session: http2.ClientHttp2Session | null = null;
    const core = () =>
      new Promise<number>((resolve, reject) => {
        if (!session || session.closed || session.destroyed) {
          session = http2.connect(origin, { ca: srv.ca });
          const s0 = session;
          s0.on('goaway', () => {
            if (session === s0) session = null;
          });
          s0.on('error', () => {});
        }
        const s = session.request({ ':path': '/' });
        let status = 0;
        s.on('response', (h) => (status = Number(h[':status'])));
        s.on('data', () => {});
        s.on('end', () => resolve(status));
        s.on('error', reject);
      });
    await measure(`core node:http2${g}${goaway ? ' (no retry in this client)' : ''}`, core);
    const agent = new http2wrapper.Agent();
    const wrapper = () =>
      new Promise<number>((resolve, reject) => {
        const req = http2wrapper.request(`${origin}/`, { agent, ca: srv.ca } as never, (res) => {
          res.on('data', () => {});
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end();
      });
    await measure(`http2-wrapper${g}`, wrapper);
    agent.destroy();
    (session as http2.ClientHttp2Session | null)?.close();
    srv.child.kill();
  }
}
