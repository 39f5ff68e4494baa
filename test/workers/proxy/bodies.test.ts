// Bodies through the proxy in-process (TLS h2 upstream on loopback): 16 MiB both ways intact, SSE
// flushed event by event, and clients that vanish mid-upload or mid-download.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import { test } from 'node:test';
import { curl, f, run, useFakeUpstream } from '../../helpers/proxy-suite.ts';

useFakeUpstream({ dns: true });

test('16 MiB upload and download keep their sha256', async () => {
  const big = Buffer.alloc(16 << 20);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  const sha = createHash('sha256').update(big).digest('hex');
  const res = await new Promise<string>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: f.port, method: 'POST', path: '/upload', headers: { host: 'hello' } },
      (r) => {
        let s = '';
        r.on('data', (d) => (s += d));
        r.on('end', () => resolve(s));
      },
    );
    req.on('error', reject);
    req.end(big);
  });
  const got = JSON.parse(res);
  assert.equal(got.size, big.length);
  assert.equal(got.sha256, sha);

  const n = 16 << 20;
  const { stdout } = await run(
    'sh',
    [
      '-c',
      `curl -sS --http2-prior-knowledge -H 'Host: hello' http://127.0.0.1:${f.port}/bytes?n=${n} | sha256sum`,
    ],
    { maxBuffer: 1 << 20 },
  );
  const expect = createHash('sha256');
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let left = n; left > 0; left -= chunk.length)
    expect.update(chunk.subarray(0, Math.min(left, chunk.length)));
  assert.equal(stdout.split(' ')[0], expect.digest('hex'));
});

test('SSE events arrive one by one, not at the end', async () => {
  const arrivals = await new Promise<string[]>((resolve, reject) => {
    const got: string[] = [];
    http
      .get({ host: '127.0.0.1', port: f.port, path: '/sse', headers: { host: 'hello' } }, (r) => {
        r.setEncoding('utf8');
        r.on('data', (d: string) => got.push(d));
        r.on('end', () => resolve(got));
      })
      .on('error', reject);
  });
  // Three events, each in its own chunk: they were flushed as they came.
  assert.deepEqual(
    arrivals.filter((a) => a.startsWith('data:')),
    ['data: 0\n\n', 'data: 1\n\n', 'data: 2\n\n'],
  );
});

test('clients that vanish mid-upload or mid-download do not hurt the proxy', async () => {
  // Upload: half a body, then the socket is destroyed.
  await new Promise<void>((resolve) => {
    const req = http.request({
      host: '127.0.0.1',
      port: f.port,
      method: 'POST',
      path: '/upload',
      headers: { host: 'hello', 'content-length': String(8 << 20) },
    });
    req.on('error', () => resolve());
    req.write(Buffer.alloc(1 << 20));
    setTimeout(() => req.destroy(), 50);
  });
  // Download over h2c: the stream is reset after the first chunk.
  const c = http2.connect(`http://127.0.0.1:${f.port}`);
  await new Promise<void>((resolve) => {
    const s = c.request({ ':path': `/bytes?n=${16 << 20}`, ':authority': 'hello' });
    s.once('data', () => {
      s.close(http2.constants.NGHTTP2_CANCEL);
      resolve();
    });
    s.on('error', () => resolve());
  });
  c.close();
  // Still serving.
  const { stdout } = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://hello:${f.port}/after`]);
  assert.equal(stdout, '200');
});
