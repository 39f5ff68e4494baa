// HTTP/2 framing (RFC 9113 §4, §6) for the load tool's client: an incremental reader that cuts
// socket chunks into frames, and builders for the frames a client sends. Pure: no sockets.

export const FRAME = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const SETTING = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
} as const;
/** error codes (§7) a client sends or names */
export const H2_ERROR = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  FLOW_CONTROL_ERROR: 0x3,
  FRAME_SIZE_ERROR: 0x6,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
} as const;
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const DEFAULT_MAX_FRAME = 16_384;
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 2 ** 31 - 1;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  /** a view into the socket's bytes: valid until the next feed */
  payload: Uint8Array;
}

/** A connection-level protocol violation: the client answers with GOAWAY and drops the session. */
export class H2ConnectionError extends Error {
  readonly h2code: number;
  constructor(h2code: number, why: string) {
    super(why);
    this.name = 'H2ConnectionError';
    this.h2code = h2code;
  }
}

export class FrameReader {
  private pending: Buffer | null = null;
  private readonly maxFrame: number;
  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.maxFrame = maxFrame;
  }

  /** Every complete frame in what has arrived, in order; partial ones wait for more bytes. */
  feed(chunk: Buffer, onFrame: (f: Frame) => void): void {
    let buf = chunk;
    if (this.pending) {
      buf = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let at = 0;
    while (buf.length - at >= 9) {
      const len = ((buf[at] as number) << 16) | ((buf[at + 1] as number) << 8) | (buf[at + 2] as number);
      if (len > this.maxFrame)
        throw new H2ConnectionError(
          H2_ERROR.FRAME_SIZE_ERROR,
          `a ${len}-byte frame (limit ${this.maxFrame})`,
        );
      if (buf.length - at < 9 + len) break;
      onFrame({
        type: buf[at + 3] as number,
        flags: buf[at + 4] as number,
        stream: buf.readUInt32BE(at + 5) & 0x7fffffff,
        payload: buf.subarray(at + 9, at + 9 + len),
      });
      at += 9 + len;
    }
    // keep a copy: the socket may reuse its buffer
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }
}

export function frameHeader(
  out: Buffer,
  at: number,
  len: number,
  type: number,
  flags: number,
  stream: number,
) {
  out[at] = (len >> 16) & 0xff;
  out[at + 1] = (len >> 8) & 0xff;
  out[at + 2] = len & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(stream & 0x7fffffff, at + 5);
}

export function frame(
  type: number,
  flags: number,
  stream: number,
  payload: Uint8Array = new Uint8Array(),
): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  frameHeader(out, 0, payload.length, type, flags, stream);
  out.set(payload, 9);
  return out;
}

export function settingsFrame(settings: readonly (readonly [number, number])[]): Buffer {
  const p = Buffer.alloc(6 * settings.length);
  settings.forEach(([id, value], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, p);
}

export function windowUpdateFrame(stream: number, increment: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(increment & 0x7fffffff);
  return frame(FRAME.WINDOW_UPDATE, 0, stream, p);
}

export function rstStreamFrame(stream: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, stream, p);
}

export function goawayFrame(lastStream: number, code: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastStream & 0x7fffffff);
  p.writeUInt32BE(code, 4);
  return frame(FRAME.GOAWAY, 0, 0, p);
}

/** A frame's payload without its padding (PADDED flag: a length byte first, that many zeros last). */
export function unpadded(f: Frame): Uint8Array {
  if (!(f.flags & FLAG.PADDED)) return f.payload;
  const pad = f.payload[0];
  if (pad === undefined || pad >= f.payload.length)
    throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'padding longer than the frame');
  return f.payload.subarray(1, f.payload.length - pad);
}

/** HEADERS minus padding and the optional priority fields (PRIORITY flag: 5 bytes). */
export function headerBlockFragment(f: Frame): Uint8Array {
  const p = unpadded(f);
  if (!(f.flags & FLAG.PRIORITY)) return p;
  if (p.length < 5)
    throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'HEADERS too short for its priority');
  return p.subarray(5);
}
