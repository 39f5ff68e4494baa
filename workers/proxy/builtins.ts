// The Node built-ins the proxy needs only once traffic flows — HTTP/2 (h2c clients, upstream
// sessions), TLS and HTTPS (upstreams) — loaded on first use, or by the proxy's warm-up just after
// READY (room.ts), rather than before READY: compiling them was ~25 ms of the room's start-up (docs/startup.md). Types
// come from `import type`; only these functions load the modules.
type Http2 = typeof import('node:http2');
type Https = typeof import('node:https');
type Tls = typeof import('node:tls');

let h2: Http2 | undefined;
let hs: Https | undefined;
let t: Tls | undefined;

export const http2 = (): Http2 => (h2 ??= process.getBuiltinModule('node:http2') as Http2);
export const https = (): Https => (hs ??= process.getBuiltinModule('node:https') as Https);
export const tls = (): Tls => (t ??= process.getBuiltinModule('node:tls') as Tls);

/** RFC 9113 wire values (http2.constants has them too, but reading it loads node:http2). */
export const H2 = { NO_ERROR: 0, REFUSED_STREAM: 7, CANCEL: 8, FLAG_END_STREAM: 0x1 } as const;
