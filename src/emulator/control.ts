// A small HTTP control plane for a running emulator, so a scenario can turn knobs while runsd is
// running (e.g. a metadata outage after start-up) from a shell inside the test bed, or a load run
// from outside: GET /report, GET|POST /knobs, POST /reset, POST /close-connections.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Emulator } from './index.ts';

export interface KnobPatch {
  metadata?: Partial<Emulator['metadata']['knobs']>;
  frontend?: Partial<Emulator['frontend']['knobs']>;
  dns?: Partial<Omit<Emulator['dns']['knobs'], 'truncate'>> & { truncate?: string[] };
}

export interface ControlServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const only = <T extends object>(target: T, patch: object | undefined) => {
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (!(k in target)) throw new Error(`unknown knob ${k}`);
    if (typeof v !== typeof (target as Record<string, unknown>)[k])
      throw new Error(`knob ${k}: expected ${typeof (target as Record<string, unknown>)[k]}`);
    (target as Record<string, unknown>)[k] = v;
  }
};

export function applyKnobs(emu: Emulator, patch: KnobPatch): void {
  only(emu.metadata.knobs, patch.metadata);
  only(emu.frontend.knobs, patch.frontend);
  const { truncate, ...dns } = patch.dns ?? {};
  only(emu.dns.knobs, dns);
  if (truncate) emu.dns.knobs.truncate = new Set(truncate.map((n) => n.toLowerCase().replace(/\.$/, '')));
}

function knobsOf(emu: Emulator) {
  return {
    metadata: emu.metadata.knobs,
    frontend: emu.frontend.knobs,
    dns: { ...emu.dns.knobs, truncate: [...emu.dns.knobs.truncate] },
  };
}

export async function startControlServer(
  emu: Emulator,
  opts: { host?: string; port?: number } = {},
): Promise<ControlServer> {
  const server = http.createServer(async (req, res) => {
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
    };
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      let body = '';
      for await (const c of req) body += c;
      if (req.method === 'GET' && path === '/report') return send(200, emu.report());
      if (path === '/knobs' && req.method === 'GET') return send(200, knobsOf(emu));
      if (path === '/knobs' && req.method === 'POST') {
        applyKnobs(emu, JSON.parse(body || '{}') as KnobPatch);
        return send(200, knobsOf(emu));
      }
      if (path === '/reset' && req.method === 'POST') {
        emu.metadata.resetStats();
        emu.frontend.resetStats();
        emu.dns.queries.length = 0;
        return send(200, { ok: true });
      }
      if (path === '/close-connections' && req.method === 'POST') {
        emu.frontend.closeConnections();
        return send(200, { ok: true });
      }
      return send(404, { error: 'GET /report, GET|POST /knobs, POST /reset, POST /close-connections' });
    } catch (err) {
      return send(400, { error: (err as Error).message });
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
