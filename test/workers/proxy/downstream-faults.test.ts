// The app side going wrong: an app that leaves while its token is awaited, and malformed HTTP/1.1
// requests. Neither may crash the proxy or reach the upstream; a normal request works afterwards.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { test } from 'node:test';
import { startProxy } from '../../helpers/proxy-fixture.ts';
import { rawBytes, rawUpstream, stillServes } from '../../helpers/raw-http.ts';

test('an app that leaves while its token is awaited: no crash, and its HTTP/1.1 request never goes upstream', async (t) => {
  const raw = await rawUpstream({});
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => (release = r));
  const f = await startProxy(
    raw,
    {},
    {
      get: async () => {
        await gate;
        return 'tok';
      },
    },
  );
  t.after(async () => {
    await f.proxy.close();
    await raw.close();
  });
  // h2c: reset the stream while the token is pending.
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  c.on('error', () => {});
  const r = c.request({ ':path': '/gone-h2', ':authority': 'hello' });
  r.on('error', () => {});
  r.on('response', () => assert.fail('no response expected on a reset stream'));
  await new Promise((res) => setTimeout(res, 50));
  r.close(http2.constants.NGHTTP2_CANCEL);
  // HTTP/1.1: close the connection while the token is pending.
  const s = net.connect(f.port, '127.0.0.1');
  s.on('error', () => {});
  s.write('GET /gone-h1 HTTP/1.1\r\nHost: hello\r\n\r\n');
  await new Promise((res) => setTimeout(res, 50));
  s.destroy();
  await new Promise((res) => setTimeout(res, 50));
  release();
  // Let the pending requests run into their dead clients.
  await new Promise((res) => setTimeout(res, 200));
  c.close();
  assert.ok(!raw.requests.includes('/gone-h1'), `upstream saw ${raw.requests.join(', ')}`);
  gate = Promise.resolve();
  await stillServes(f);
});

test('malformed HTTP/1.1 requests get a 400/431 naming what was wrong, and never reach the upstream', async (t) => {
  const raw = await rawUpstream({});
  const f = await startProxy(raw);
  t.after(async () => {
    await f.proxy.close();
    await raw.close();
  });
  const cases: [string, number, string, RegExp][] = [
    [
      'GET https://hello/x HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n',
      400,
      'RUNSD_BAD_REQUEST',
      /request target "https:\/\/hello\/x" is neither a path nor an http:\/\/ URL/,
    ],
    [
      'GET ftp://hello/x HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n',
      400,
      'RUNSD_BAD_REQUEST',
      /"ftp:\/\/hello\/x"/,
    ],
    // The URL parser reads `http:///x` as host "x": that must not route to a service named x.
    ['GET http:///x HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n', 400, 'RUNSD_BAD_HOST', /is empty/],
    ['GET /x HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'RUNSD_BAD_HOST', /needs a Host/],
    [
      'POST /x HTTP/1.1\r\nHost: hello\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
      'RUNSD_BAD_REQUEST',
      /malformed HTTP\/1\.1 request \(HPE_INVALID_TRANSFER_ENCODING/,
    ],
    [
      `GET /x HTTP/1.1\r\nHost: hello\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
      431,
      'RUNSD_BAD_REQUEST',
      /HPE_HEADER_OVERFLOW/,
    ],
  ];
  for (const [req, status, code, body] of cases) {
    const r = await rawBytes(f, req);
    const line = req.split('\r\n')[0]!.slice(0, 40);
    assert.equal(r.status, status, line);
    assert.equal(r.code, code, line);
    assert.match(r.rest, body, line);
  }
  // OPTIONS * is a valid target and is forwarded.
  assert.equal(
    (await rawBytes(f, 'OPTIONS * HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n')).status,
    200,
  );
  assert.deepEqual(raw.requests, ['*']);
  await stillServes(f);
});
