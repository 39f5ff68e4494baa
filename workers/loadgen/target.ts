// Where a task's connections go: the URL's host, the proxy (env mode: absolute-form requests), or
// --connect-to (Host and TLS SNI stay the URL's: the emulator's front end, a staging address).
import { isIP } from 'node:net';
import type { TaskSpec } from './spec.ts';

export interface Dial {
  host: string;
  port: number;
  tls: boolean;
  /** SNI (never an IP address: TLS forbids it) */
  servername: string | undefined;
}

export function dialOf(spec: Pick<TaskSpec, 'url' | 'proxy' | 'connectTo'>): Dial {
  const url = new URL(spec.url);
  const tls = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (spec.proxy) {
    const p = new URL(spec.proxy);
    return {
      host: p.hostname.replace(/^\[|\]$/g, ''),
      port: Number(p.port || 80),
      tls: false,
      servername: undefined,
    };
  }
  const port = Number(url.port || (tls ? 443 : 80));
  return {
    host: spec.connectTo?.host ?? hostname,
    port: spec.connectTo?.port ?? port,
    tls,
    servername: tls && isIP(hostname) === 0 ? hostname : undefined,
  };
}
