// Where a task's connections go: the URL's host, the proxy (env mode: absolute-form requests), or
// --connect-to (Host and TLS SNI stay the URL's: the emulator's front end, a staging address).
import net, { isIP } from 'node:net';
import tls from 'node:tls';
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

/** A new socket to the dial target: TLS offering `alpn` (SNI and CA as the spec says), or plain TCP. */
export function openSocket(dial: Dial, ca: string | null, alpn: string[]): net.Socket {
  const socket = dial.tls
    ? tls.connect({
        host: dial.host,
        port: dial.port,
        ALPNProtocols: alpn,
        ...(dial.servername ? { servername: dial.servername } : {}),
        ...(ca ? { ca } : {}),
      })
    : net.connect({ host: dial.host, port: dial.port });
  // one small request at a time: never wait for Nagle
  socket.setNoDelay(true);
  return socket;
}
