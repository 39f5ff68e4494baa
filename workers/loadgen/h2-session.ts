// One HTTP/2 client connection for the load tool, on a raw socket (h2c with prior knowledge, or TLS
// with ALPN h2). node:http2's client spends about as much CPU per stream as the emulator's front end
// does answering it, so against a fast target the tool measured itself; this does what a load run
// needs and no more: the request's header block is encoded once (src/domain/hpack.ts) and reused
// for every stream, frames queued in one tick go out in one write, and answers are read for
// :status, x-runsd-error, grpc-status and the body's length. What it still does in full, because a
// server relies on it: SETTINGS (and their ACK), the server's stream limit (streams over it wait),
// flow control both ways, PING answers, GOAWAY (streams past its last id fail, the session takes no
// more), RST_STREAM, CONTINUATION, padding, and HPACK's dynamic table across every header block.
import type net from 'node:net';
import tls from 'node:tls';
import {
  DEFAULT_MAX_FRAME,
  DEFAULT_WINDOW,
  FLAG,
  FRAME,
  type Frame,
  FrameReader,
  frame,
  frameHeader,
  goawayFrame,
  H2_ERROR,
  H2ConnectionError,
  headerBlockFragment,
  MAX_WINDOW,
  PREFACE,
  rstStreamFrame,
  SETTING,
  settingsFrame,
  unpadded,
  windowUpdateFrame,
} from '../../src/domain/h2-frames.ts';
import {
  DEFAULT_TABLE_SIZE,
  HpackDecoder,
  HpackError,
  type RequestBlocks,
  tableSizeUpdate,
} from '../../src/domain/hpack.ts';
import { errorCode, type Outcome } from './spec.ts';

// Receive windows as h2load's defaults for the connection (2^30 - 1) and a large one per stream: with
// 64 KiB the client would send a WINDOW_UPDATE every few dozen small answers, frames the target
// must parse too — a cost h2load does not put on it.
const CONNECTION_WINDOW = 2 ** 30 - 1;
const STREAM_WINDOW = 2 ** 24;
const MAX_STREAM_ID = 2 ** 31 - 1;

export interface H2Stream {
  /** the session it runs on (its timeout cancels it there) */
  session: H2Session;
  id: number;
  resolve: ((o: Outcome) => void) | null;
  status: number;
  runsdError: string | null;
  grpcStatus: string | null;
  bytes: number;
  body: Buffer | null;
  bodyAt: number;
  sendWindow: number;
  unacked: number;
}

export interface SessionOptions {
  /** the request's header blocks (HPACK), encoded once for every stream of the run */
  blocks: RequestBlocks;
  body: Buffer | null;
  grpc: boolean;
}

const H2_ERROR_NAMES = new Map(Object.entries(H2_ERROR).map(([k, v]) => [v, k]));
const codeName = (code: number) => H2_ERROR_NAMES.get(code as never) ?? String(code);

export class H2Session {
  private readonly socket: net.Socket;
  private readonly o: SessionOptions;
  private readonly reader = new FrameReader();
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, H2Stream>();
  private readonly waiting: H2Stream[] = [];
  private readonly blocked = new Set<H2Stream>();
  private out: Buffer[] = [];
  private flushing = false;
  private nextId = 1;
  private maxConcurrent = Number.POSITIVE_INFINITY;
  private peerInitialWindow = DEFAULT_WINDOW;
  private maxFrameOut = DEFAULT_MAX_FRAME;
  private connSendWindow = DEFAULT_WINDOW;
  private connUnacked = 0;
  // Which request block the next stream sends: the table-filling first one, then indexes — or
  // literals, once the server's table is too small for our entries. A server that lowers its
  // table size must see a size update at the start of our next block (RFC 7541 §4.2).
  private blockState: 'first' | 'next' | 'plain' = 'first';
  private tableMax = DEFAULT_TABLE_SIZE;
  private resizePending = false;
  private headersFor = 0; // a header block continues in CONTINUATION frames on this stream
  private headerParts: Buffer[] = [];
  private headersEnd = false;
  private goaway = false;
  /** our side is shut (end() after GOAWAY): nothing more is written */
  private ended = false;
  private closed = false;
  private socketError: string | null = null;
  // the fields of the header block being decoded
  private fStatus = 0;
  private fRunsdError: string | null = null;
  private fGrpc: string | null = null;
  private readonly onField = (name: string, value: string) => {
    if (name === ':status') this.fStatus = Number(value);
    else if (name === 'x-runsd-error') this.fRunsdError = value;
    else if (name === 'grpc-status') this.fGrpc = value;
  };

  constructor(socket: net.Socket, o: SessionOptions, onClose: () => void) {
    this.socket = socket;
    this.o = o;
    this.queue(PREFACE);
    this.queue(
      settingsFrame([
        [SETTING.ENABLE_PUSH, 0],
        [SETTING.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
      ]),
    );
    this.queue(windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW));
    if (socket instanceof tls.TLSSocket)
      socket.once('secureConnect', () => {
        const alpn = socket.alpnProtocol;
        // a server that does not speak h2 over TLS (it chose http/1.1, or no ALPN at all)
        if (alpn !== 'h2') this.fail('ALPN_NOT_H2');
      });
    socket.on('data', (chunk: Buffer) => {
      try {
        this.reader.feed(chunk, (f) => this.onFrame(f));
      } catch (err) {
        this.connectionError(err);
      }
    });
    socket.on('error', (err) => {
      this.socketError = errorCode(err);
    });
    socket.on('close', () => {
      this.closed = true;
      this.failAll(this.socketError ?? 'ECONNRESET');
      onClose();
    });
  }

  /** whether a new stream may start here (else the caller opens another session) */
  get usable(): boolean {
    return !this.closed && !this.goaway && this.nextId <= MAX_STREAM_ID;
  }

  request(resolve: (o: Outcome) => void): H2Stream {
    const s: H2Stream = {
      session: this,
      id: 0,
      resolve,
      status: 0,
      runsdError: null,
      grpcStatus: null,
      bytes: 0,
      body: this.o.body,
      bodyAt: 0,
      sendWindow: 0,
      unacked: 0,
    };
    // a caller that did not check `usable` gets an answer, not a stream that waits forever
    if (!this.usable) this.settle(s, { kind: 'error', code: this.closed ? 'SESSION_CLOSED' : 'GOAWAY' });
    else if (this.streams.size >= this.maxConcurrent) this.waiting.push(s);
    else this.start(s);
    return s;
  }

  /** Give up on a stream (its timeout): RST_STREAM CANCEL; whatever comes for it later is dropped. */
  cancel(s: H2Stream) {
    s.resolve = null;
    const w = this.waiting.indexOf(s);
    if (w >= 0) this.waiting.splice(w, 1);
    if (s.id && this.streams.delete(s.id)) {
      this.blocked.delete(s);
      this.queue(rstStreamFrame(s.id, H2_ERROR.CANCEL));
      this.startWaiting();
    }
  }

  destroy() {
    this.socket.destroy();
  }

  private start(s: H2Stream) {
    s.id = this.nextId;
    this.nextId += 2;
    s.sendWindow = this.peerInitialWindow;
    this.streams.set(s.id, s);
    const block = this.nextBlock();
    const endStream = s.body === null ? FLAG.END_STREAM : 0;
    if (block.length <= this.maxFrameOut) {
      const f = Buffer.allocUnsafe(9 + block.length);
      frameHeader(f, 0, block.length, FRAME.HEADERS, FLAG.END_HEADERS | endStream, s.id);
      block.copy(f, 9);
      this.queue(f);
    } else {
      // a header block over the peer's frame size: HEADERS, then CONTINUATION frames
      for (let at = 0; at < block.length; at += this.maxFrameOut) {
        const part = block.subarray(at, at + this.maxFrameOut);
        const last = at + this.maxFrameOut >= block.length ? FLAG.END_HEADERS : 0;
        this.queue(
          at === 0
            ? frame(FRAME.HEADERS, endStream | last, s.id, part)
            : frame(FRAME.CONTINUATION, last, s.id, part),
        );
      }
    }
    if (s.body) this.sendBody(s);
  }

  private nextBlock(): Buffer {
    const b = this.o.blocks;
    let block: Buffer;
    if (this.blockState === 'first') {
      block = b.first;
      this.blockState = 'next';
    } else block = this.blockState === 'next' ? b.next : b.plain;
    if (!this.resizePending) return block;
    this.resizePending = false;
    return Buffer.concat([tableSizeUpdate(this.tableMax), block]);
  }

  private sendBody(s: H2Stream) {
    const body = s.body as Buffer;
    while (s.bodyAt < body.length) {
      const n = Math.min(body.length - s.bodyAt, this.connSendWindow, s.sendWindow, this.maxFrameOut);
      if (n <= 0) {
        this.blocked.add(s);
        return;
      }
      const end = s.bodyAt + n >= body.length ? FLAG.END_STREAM : 0;
      this.queue(frame(FRAME.DATA, end, s.id, body.subarray(s.bodyAt, s.bodyAt + n)));
      s.bodyAt += n;
      s.sendWindow -= n;
      this.connSendWindow -= n;
    }
    this.blocked.delete(s);
  }

  private onFrame(f: Frame) {
    if (this.headersFor && f.type !== FRAME.CONTINUATION)
      throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'a header block interrupted');
    switch (f.type) {
      case FRAME.DATA:
        return this.onData(f);
      case FRAME.HEADERS: {
        if (f.stream === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'HEADERS on stream 0');
        const fragment = headerBlockFragment(f);
        const endStream = (f.flags & FLAG.END_STREAM) !== 0;
        if (f.flags & FLAG.END_HEADERS) return this.onHeaderBlock(f.stream, fragment, endStream);
        this.headersFor = f.stream;
        this.headersEnd = endStream;
        this.headerParts = [Buffer.from(fragment)];
        return;
      }
      case FRAME.CONTINUATION: {
        if (!this.headersFor || f.stream !== this.headersFor)
          throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'CONTINUATION without a header block');
        this.headerParts.push(Buffer.from(f.payload));
        if (!(f.flags & FLAG.END_HEADERS)) return;
        const id = this.headersFor;
        this.headersFor = 0;
        return this.onHeaderBlock(id, Buffer.concat(this.headerParts), this.headersEnd);
      }
      case FRAME.RST_STREAM: {
        if (f.payload.length !== 4)
          throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'RST_STREAM not 4 bytes');
        const s = this.streams.get(f.stream);
        if (s) this.finish(s, { kind: 'error', code: `RST_STREAM_${readU32(f.payload)}` });
        return;
      }
      case FRAME.SETTINGS:
        return this.onSettings(f);
      case FRAME.PING:
        if (f.payload.length !== 8)
          throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'PING not 8 bytes');
        if (!(f.flags & FLAG.ACK)) this.queue(frame(FRAME.PING, FLAG.ACK, 0, f.payload));
        return;
      case FRAME.GOAWAY:
        return this.onGoaway(f);
      case FRAME.WINDOW_UPDATE:
        return this.onWindowUpdate(f);
      case FRAME.PUSH_PROMISE:
        throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'PUSH_PROMISE with push disabled');
      default:
        return; // PRIORITY and unknown types carry nothing for a client
    }
  }

  private onHeaderBlock(id: number, block: Uint8Array, endStream: boolean) {
    this.fStatus = 0;
    this.fRunsdError = null;
    this.fGrpc = null;
    // decoded even for a stream given up on: the dynamic table must follow every block
    try {
      this.decoder.decode(block, this.onField);
    } catch (err) {
      if (err instanceof HpackError) throw new H2ConnectionError(H2_ERROR.COMPRESSION_ERROR, err.message);
      throw err;
    }
    const s = this.streams.get(id);
    if (!s) return;
    if (s.status === 0) {
      if (this.fStatus >= 100 && this.fStatus < 200 && !endStream) return; // interim (100 Continue)
      s.status = this.fStatus;
      s.runsdError = this.fRunsdError;
      if (this.o.grpc && this.fGrpc !== null) s.grpcStatus = this.fGrpc; // trailers-only answer
    } else if (this.fGrpc !== null) s.grpcStatus = this.fGrpc; // trailers
    if (endStream) this.complete(s);
  }

  private onData(f: Frame) {
    if (f.stream === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'DATA on stream 0');
    const len = f.payload.length; // padding counts against flow control too
    this.connUnacked += len;
    if (this.connUnacked >= CONNECTION_WINDOW / 2) {
      this.queue(windowUpdateFrame(0, this.connUnacked));
      this.connUnacked = 0;
    }
    const s = this.streams.get(f.stream);
    if (!s) return;
    s.bytes += unpadded(f).length;
    if (f.flags & FLAG.END_STREAM) return this.complete(s);
    s.unacked += len;
    if (s.unacked >= STREAM_WINDOW / 2) {
      this.queue(windowUpdateFrame(s.id, s.unacked));
      s.unacked = 0;
    }
  }

  private onSettings(f: Frame) {
    if (f.stream !== 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (f.flags & FLAG.ACK) return;
    if (f.payload.length % 6)
      throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'SETTINGS not a multiple of 6 bytes');
    const view = Buffer.from(f.payload.buffer, f.payload.byteOffset, f.payload.length);
    for (let at = 0; at < view.length; at += 6) {
      const id = view.readUInt16BE(at);
      const value = view.readUInt32BE(at + 2);
      if (id === SETTING.MAX_CONCURRENT_STREAMS) this.maxConcurrent = value;
      else if (id === SETTING.HEADER_TABLE_SIZE && value < this.tableMax) {
        this.tableMax = value;
        this.resizePending = true;
        // entries already sent that no longer fit: the server evicts them; literals from now on
        if (value < this.o.blocks.tableBytes) this.blockState = 'plain';
      } else if (id === SETTING.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW)
          throw new H2ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, `INITIAL_WINDOW_SIZE ${value}`);
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const s of this.streams.values()) s.sendWindow += delta;
      } else if (id === SETTING.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME || value > 2 ** 24 - 1)
          throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `MAX_FRAME_SIZE ${value}`);
        this.maxFrameOut = value;
      }
    }
    this.queue(frame(FRAME.SETTINGS, FLAG.ACK, 0));
    this.unblock();
    this.startWaiting();
  }

  private onGoaway(f: Frame) {
    if (f.payload.length < 8) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'GOAWAY too short');
    const last = readU32(f.payload) & 0x7fffffff;
    this.goaway = true;
    // streams past `last` were never processed; those at or below it may still complete
    for (const s of [...this.streams.values()])
      if (s.id > last) this.finish(s, { kind: 'error', code: 'GOAWAY' });
    for (const s of this.waiting.splice(0)) this.settle(s, { kind: 'error', code: 'GOAWAY' });
    if (this.streams.size === 0) this.end();
  }

  private onWindowUpdate(f: Frame) {
    if (f.payload.length !== 4)
      throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'WINDOW_UPDATE not 4 bytes');
    const inc = readU32(f.payload) & 0x7fffffff;
    if (f.stream === 0) {
      if (inc === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0');
      this.connSendWindow += inc;
    } else {
      const s = this.streams.get(f.stream);
      if (s) s.sendWindow += inc;
    }
    this.unblock();
  }

  private unblock() {
    for (const s of [...this.blocked]) this.sendBody(s);
  }

  private startWaiting() {
    while (this.waiting.length > 0 && this.streams.size < this.maxConcurrent && this.usable)
      this.start(this.waiting.shift() as H2Stream);
  }

  private complete(s: H2Stream) {
    if (s.status === 0) return this.finish(s, { kind: 'error', code: 'NO_RESPONSE' });
    this.finish(s, {
      kind: 'response',
      status: s.status,
      runsdError: s.runsdError,
      // a gRPC answer without grpc-status is broken (grpc-js calls it UNKNOWN, 2)
      grpcStatus: this.o.grpc && s.status === 200 ? (s.grpcStatus ?? '2') : s.grpcStatus,
      bytes: s.bytes,
    });
  }

  private finish(s: H2Stream, o: Outcome) {
    this.streams.delete(s.id);
    this.blocked.delete(s);
    this.settle(s, o);
    this.startWaiting();
    if (this.goaway && this.streams.size === 0) this.end();
  }

  private settle(s: H2Stream, o: Outcome) {
    const resolve = s.resolve;
    s.resolve = null;
    resolve?.(o);
  }

  private failAll(code: string) {
    for (const s of [...this.streams.values(), ...this.waiting]) this.settle(s, { kind: 'error', code });
    this.streams.clear();
    this.waiting.length = 0;
    this.blocked.clear();
  }

  private fail(code: string) {
    this.failAll(code);
    this.closed = true;
    this.socket.destroy();
  }

  private connectionError(err: unknown) {
    const h2code = err instanceof H2ConnectionError ? err.h2code : H2_ERROR.PROTOCOL_ERROR;
    // tell the server why, then drop the connection; the streams fail with the code's name
    this.socket.write(goawayFrame(0, h2code));
    this.fail(`H2_${codeName(h2code)}`);
  }

  /** After GOAWAY, once the last stream is done: what is queued (a PING ACK, a RST) goes first. */
  private end() {
    if (this.ended) return;
    this.flush();
    this.ended = true;
    this.socket.end();
  }

  private queue(buf: Buffer) {
    if (this.closed || this.ended) return;
    this.out.push(buf);
    if (this.flushing) return;
    this.flushing = true;
    // everything queued in this turn of the event loop goes out in one write (one TLS record)
    setImmediate(this.flush);
  }

  private readonly flush = () => {
    this.flushing = false;
    if (this.closed || this.ended || this.out.length === 0) return;
    const bufs = this.out;
    this.out = [];
    this.socket.write(bufs.length === 1 ? (bufs[0] as Buffer) : Buffer.concat(bufs));
  };
}

function readU32(p: Uint8Array): number {
  return Buffer.from(p.buffer, p.byteOffset, p.length).readUInt32BE(0);
}
