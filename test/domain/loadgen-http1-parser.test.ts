// The load tool's HTTP/1.1 response reader, fed every response whole and split at every byte
// (sockets cut anywhere), and every malformed answer refused with its code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ParsedResponse,
  ResponseParseError,
  ResponseParser,
} from '../../src/domain/loadgen-http1-parser.ts';

/** feed `raw` cut at `cut` (or whole); returns every response, then end()'s */
function parse(
  raw: string,
  opts: { head?: boolean; cut?: number; eof?: boolean } = {},
): (ParsedResponse | null)[] {
  const p = new ResponseParser(opts.head ?? false);
  const bytes = Buffer.from(raw, 'latin1');
  const pieces = opts.cut === undefined ? [bytes] : [bytes.subarray(0, opts.cut), bytes.subarray(opts.cut)];
  const out: (ParsedResponse | null)[] = [];
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    const r = p.feed(piece);
    if (r) out.push(r);
  }
  if (opts.eof) out.push(p.end());
  return out;
}

const ok = (status: number, bytes: number, close = false, runsdError: string | null = null) => ({
  status,
  bytes,
  close,
  runsdError,
});

const cases: [string, string, { head?: boolean; eof?: boolean }, ReturnType<typeof ok>][] = [
  ['Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Other: 1\r\n\r\nhello', {}, ok(200, 5)],
  [
    'x-runsd-error, any case',
    'HTTP/1.1 502 Bad Gateway\r\nX-Runsd-Error: RUNSD_UPSTREAM_RESET\r\ncontent-length: 0\r\n\r\n',
    {},
    ok(502, 0, false, 'RUNSD_UPSTREAM_RESET'),
  ],
  [
    'chunked with an extension and trailers',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n',
    {},
    ok(200, 11),
  ],
  [
    'Connection: close',
    'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nhi',
    {},
    ok(200, 2, true),
  ],
  ['HTTP/1.0 closes by default', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi', {}, ok(200, 2, true)],
  [
    'HTTP/1.0 with keep-alive',
    'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi',
    {},
    ok(200, 2, false),
  ],
  ['204 has no body', 'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n', {}, ok(204, 0)],
  ['304 has no body', 'HTTP/1.1 304 Not Modified\r\n\r\n', {}, ok(304, 0)],
  ['HEAD has no body', 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n', { head: true }, ok(200, 0)],
  [
    '100 Continue is skipped',
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nx',
    {},
    ok(201, 1),
  ],
  ['no length: body to EOF', 'HTTP/1.1 200 OK\r\n\r\nuntil the end', { eof: true }, ok(200, 13, true)],
];

test('responses, whole and cut at every byte', () => {
  for (const [name, raw, opts, want] of cases) {
    for (let cut = 0; cut <= raw.length; cut++) {
      const got = parse(raw, { ...opts, cut }).filter((r) => r !== null);
      assert.deepEqual(got, [want], `${name}, cut at ${cut}`);
    }
  }
});

test('two responses in a row on one parser (keep-alive)', () => {
  const p = new ResponseParser();
  assert.deepEqual(p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na')), ok(200, 1));
  assert.equal(p.started, false);
  assert.equal(p.feed(Buffer.from('HTTP/1.1 404 Not')), null);
  assert.equal(p.started, true);
  assert.deepEqual(p.feed(Buffer.from(' Found\r\nContent-Length: 0\r\n\r\n')), ok(404, 0));
});

test('bytes after a complete response: the connection is not reused', () => {
  const r = parse('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naEXTRA');
  assert.deepEqual(r, [ok(200, 1, true)]);
});

test('a connection closed mid-response is no response', () => {
  const p = new ResponseParser();
  p.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  assert.equal(p.end(), null);
});

test('malformed answers throw with a stable code', () => {
  const bad: [string, string][] = [
    ['SSH-2.0-OpenSSH\r\n\r\n', 'BAD_STATUS_LINE'],
    ['HTTP/1.1 20 OK\r\n\r\n', 'BAD_STATUS_LINE'],
    ['HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', 'BAD_HEADER'],
    ['HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'BAD_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 'BAD_CONTENT_LENGTH'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'BAD_CHUNK'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc\r\n', 'BAD_CHUNK'],
    [`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(70_000)}`, 'HEADERS_TOO_LARGE'],
  ];
  for (const [raw, code] of bad)
    assert.throws(
      () => parse(raw),
      (e: unknown) => e instanceof ResponseParseError && e.code === code,
      `${JSON.stringify(raw.slice(0, 40))} → ${code}`,
    );
});
