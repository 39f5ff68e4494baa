// The load tool's HTTP/1.1 response reader: one response at a time on a keep-alive connection (the
// client never pipelines), fed raw socket chunks. It reads only what a load report needs — status,
// `x-runsd-error`, body length, whether the connection may be reused — and skips everything else,
// so it costs a fraction of node:http's full parser per response (the client must outrun what it
// measures: docs/loadgen.md, "Its own ceiling"). Bodies: Content-Length, chunked (trailers skipped),
// or until the server closes; none for HEAD, 1xx, 204 and 304. 1xx interim answers (100 Continue)
// are skipped. Anything malformed throws a ResponseParseError with a stable code.

export interface ParsedResponse {
  status: number;
  runsdError: string | null;
  /** body bytes (decoded, for chunked) */
  bytes: number;
  /** the connection cannot carry another request (Connection: close, HTTP/1.0, body to EOF) */
  close: boolean;
}

export type ResponseParseCode =
  | 'BAD_STATUS_LINE'
  | 'BAD_HEADER'
  | 'BAD_CONTENT_LENGTH'
  | 'BAD_CHUNK'
  | 'HEADERS_TOO_LARGE';

export class ResponseParseError extends Error {
  readonly code: ResponseParseCode;
  constructor(code: ResponseParseCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'ResponseParseError';
    this.code = code;
  }
}

/** Larger heads are refused (node:http's default limit is 16 KiB; a load target is not that chatty). */
export const MAX_HEAD_BYTES = 64 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
const NAME_LENGTHS = new Set(
  ['content-length', 'transfer-encoding', 'connection', 'x-runsd-error'].map((n) => n.length),
);

type State = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'to-eof' | 'done';

interface Head {
  status: number;
  runsdError: string | null;
  close: boolean;
  chunked: boolean;
  length: number | null;
}

/** Parse a response head (status line and header lines, without the final CRLF CRLF). */
export function parseHead(text: string): Head {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
  if (!m) throw new ResponseParseError('BAD_STATUS_LINE', JSON.stringify((lines[0] ?? '').slice(0, 80)));
  const http10 = m[1] === '0';
  const head: Head = { status: Number(m[2]), runsdError: null, close: http10, chunked: false, length: null };
  let keepAlive = false;
  let closeToken = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ResponseParseError('BAD_HEADER', JSON.stringify(line.slice(0, 80)));
    // Only four names matter; compare lengths first so most lines never get lowercased.
    if (!NAME_LENGTHS.has(colon)) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value) || (head.length !== null && head.length !== Number(value)))
        throw new ResponseParseError('BAD_CONTENT_LENGTH', JSON.stringify(value));
      head.length = Number(value);
    } else if (name === 'transfer-encoding') {
      head.chunked = value.toLowerCase().split(',').pop()?.trim() === 'chunked';
    } else if (name === 'connection') {
      const tokens = value
        .toLowerCase()
        .split(',')
        .map((t) => t.trim());
      if (tokens.includes('close')) closeToken = true;
      if (tokens.includes('keep-alive')) keepAlive = true;
    } else if (name === 'x-runsd-error') {
      head.runsdError = value;
    }
  }
  // HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes it unless told to keep it.
  head.close = closeToken || (http10 && !keepAlive);
  return head;
}

export class ResponseParser {
  private state: State = 'head';
  private pending: Buffer | null = null;
  private line = '';
  private head: Head | null = null;
  private remaining = 0;
  private bytes = 0;

  private readonly headRequest: boolean;
  /** `headRequest`: the request was HEAD (a response to it has no body whatever its headers say). */
  constructor(headRequest = false) {
    this.headRequest = headRequest;
  }

  /** Bytes from the socket; the finished response once its last byte is in, else null. */
  feed(chunk: Buffer): ParsedResponse | null {
    let buf = chunk;
    let at = 0;
    while (at < buf.length || this.state === 'done') {
      switch (this.state) {
        case 'head': {
          if (this.pending) {
            buf = Buffer.concat([this.pending, buf.subarray(at)]);
            at = 0;
            this.pending = null;
          }
          const end = buf.indexOf(CRLF2, at);
          if (end < 0) {
            if (buf.length - at > MAX_HEAD_BYTES)
              throw new ResponseParseError('HEADERS_TOO_LARGE', `over ${MAX_HEAD_BYTES} bytes`);
            this.pending = Buffer.from(buf.subarray(at));
            return null;
          }
          if (end - at > MAX_HEAD_BYTES)
            throw new ResponseParseError('HEADERS_TOO_LARGE', `over ${MAX_HEAD_BYTES} bytes`);
          const head = parseHead(buf.toString('latin1', at, end));
          at = end + 4;
          if (head.status < 200 && head.status !== 101) continue; // interim: the real head follows
          this.head = head;
          this.startBody(head);
          break;
        }
        case 'length':
        case 'chunk-data': {
          // a counted run of body bytes: the whole body, or one chunk's data
          const take = Math.min(this.remaining, buf.length - at);
          this.bytes += take;
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) this.state = this.state === 'length' ? 'done' : 'chunk-end';
          break;
        }
        case 'to-eof':
          this.bytes += buf.length - at;
          at = buf.length;
          break;
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const nl = buf.indexOf(10, at);
          const piece = buf.toString('latin1', at, nl < 0 ? buf.length : nl + 1);
          at = nl < 0 ? buf.length : nl + 1;
          this.line += piece;
          if (this.line.length > MAX_HEAD_BYTES) throw new ResponseParseError('BAD_CHUNK', 'line too long');
          if (nl < 0) break;
          const line = this.line.endsWith('\r\n') ? this.line.slice(0, -2) : this.line.slice(0, -1);
          this.line = '';
          this.onLine(line);
          break;
        }
        case 'done': {
          const head = this.head as Head;
          // Bytes after a complete response (nobody asked for them): the connection is not reused.
          const close = head.close || at < buf.length;
          const out = { status: head.status, runsdError: head.runsdError, bytes: this.bytes, close };
          this.reset();
          return out;
        }
      }
    }
    return null;
  }

  /** The server closed the connection: a body read to EOF ends here; anything else was cut short. */
  end(): ParsedResponse | null {
    if (this.state !== 'to-eof') return null;
    const head = this.head as Head;
    const out = { status: head.status, runsdError: head.runsdError, bytes: this.bytes, close: true };
    this.reset();
    return out;
  }

  /** whether any byte of the current response has arrived (a reused connection closed before is stale) */
  get started(): boolean {
    return this.state !== 'head' || this.pending !== null;
  }

  private reset() {
    this.state = 'head';
    this.pending = null;
    this.line = '';
    this.head = null;
    this.remaining = 0;
    this.bytes = 0;
  }

  private startBody(head: Head) {
    const bodiless = this.headRequest || head.status === 204 || head.status === 304 || head.status === 101;
    if (bodiless) this.state = 'done';
    else if (head.chunked) this.state = 'chunk-size';
    else if (head.length !== null) {
      this.remaining = head.length;
      this.state = head.length === 0 ? 'done' : 'length';
    } else {
      head.close = true;
      this.state = 'to-eof';
    }
  }

  private onLine(line: string) {
    if (this.state === 'chunk-size') {
      const m = /^([0-9a-fA-F]{1,12})[ \t]*(?:;.*)?$/.exec(line);
      if (!m) throw new ResponseParseError('BAD_CHUNK', `chunk size ${JSON.stringify(line.slice(0, 40))}`);
      this.remaining = Number.parseInt(m[1] as string, 16);
      this.state = this.remaining === 0 ? 'trailers' : 'chunk-data';
    } else if (this.state === 'chunk-end') {
      if (line !== '') throw new ResponseParseError('BAD_CHUNK', 'no CRLF after chunk data');
      this.state = 'chunk-size';
    } else if (line === '') {
      this.state = 'done'; // the blank line after the (skipped) trailers
    }
  }
}
