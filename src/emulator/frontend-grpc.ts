// A gRPC server written directly on node:http2 streams (the front end owns the HTTP/2 server, so
// @grpc/grpc-js's Server cannot share it). Real length-prefixed messages and real trailers.
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import protobuf from 'protobufjs';
import { ECHO_PROTO_PATH } from './echo-proto.ts';

export { ECHO_PROTO_PATH, isGrpc } from './echo-proto.ts';

const root = protobuf.loadSync(ECHO_PROTO_PATH);
const EchoRequest = root.lookupType('runsd.emulator.EchoRequest');
const EchoReply = root.lookupType('runsd.emulator.EchoReply');

interface Req {
  message?: string;
  count?: number;
  status?: number;
  statusMessage?: string;
  trailersOnly?: boolean;
}

export const GRPC_STATUS = { OK: 0, NOT_FOUND: 5, INTERNAL: 13, UNIMPLEMENTED: 12 } as const;

function frame(msg: Uint8Array): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

function metadataOf(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(':') || k.endsWith('-bin') || v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

export function handleGrpc(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, service: string): void {
  const method = String(headers[':path'] ?? '');
  const meta = metadataOf(headers);
  const respondHeaders = { ':status': 200, 'content-type': 'application/grpc+proto' };
  const trailersOnly = (code: number, message: string) => {
    stream.respond(
      { ...respondHeaders, 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) },
      { endStream: true },
    );
  };
  let started = false;
  let trailer = { 'grpc-status': '0', 'grpc-message': '' };
  const start = () => {
    if (started) return;
    started = true;
    stream.respond(respondHeaders, { waitForTrailers: true });
    // the h2 compat response (the front end's request handler) would send its own empty trailers
    stream.removeAllListeners('wantTrailers');
    stream.on('wantTrailers', () => stream.sendTrailers(trailer));
  };
  const reply = (message: string, index: number) => {
    start();
    const body = EchoReply.encode(EchoReply.fromObject({ message, index, service, metadata: meta })).finish();
    stream.write(frame(body));
  };
  const finish = (code: number, message = '') => {
    if (!started && code !== 0) return trailersOnly(code, message);
    start();
    trailer = { 'grpc-status': String(code), 'grpc-message': encodeURIComponent(message) };
    stream.end();
  };

  const kind = method.match(/^\/runsd\.emulator\.Echo\/(Unary|ServerStream|Bidi)$/)?.[1];
  if (!kind) {
    stream.resume();
    trailersOnly(GRPC_STATUS.UNIMPLEMENTED, `unknown method ${method}`);
    return;
  }
  let buf = Buffer.alloc(0);
  let index = 0;
  let first: Req | undefined;
  let done = false;
  const onRequest = (r: Req) => {
    if (done) return;
    const status = r.status ?? 0;
    if (kind === 'Unary') {
      done = true;
      if (status !== 0 && r.trailersOnly) return trailersOnly(status, r.statusMessage ?? '');
      if (status !== 0) return finish(status, r.statusMessage ?? '');
      reply(r.message ?? '', 0);
      return finish(0);
    }
    if (kind === 'ServerStream') {
      done = true;
      if (status !== 0 && r.trailersOnly) return trailersOnly(status, r.statusMessage ?? '');
      for (let i = 0; i < (r.count || 1); i++) reply(`${r.message ?? ''} ${i}`, i);
      return finish(status, r.statusMessage ?? '');
    }
    // Bidi
    if (status !== 0) {
      done = true;
      return finish(status, r.statusMessage ?? '');
    }
    reply(r.message ?? '', index++);
  };
  stream.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) break;
      if (buf[0] !== 0) {
        done = true;
        return trailersOnly(GRPC_STATUS.UNIMPLEMENTED, 'compressed messages are not supported');
      }
      const msg = EchoRequest.toObject(EchoRequest.decode(buf.subarray(5, 5 + len)), {
        defaults: true,
      }) as Req;
      buf = buf.subarray(5 + len);
      // unary and server-streaming answer once the client has half-closed, as grpc servers do
      if (kind === 'Bidi') onRequest(msg);
      else first ??= msg;
    }
  });
  stream.on('end', () => {
    if (kind !== 'Bidi' && first) return onRequest(first);
    if (done) return;
    done = true;
    if (kind === 'Bidi') finish(0);
    else finish(GRPC_STATUS.INTERNAL, 'no request message');
  });
  stream.on('error', () => {});
}
