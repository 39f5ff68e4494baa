// -access_log (workers/proxy/access-log.ts): a Cloud Logging httpRequest line per request, written
// when the response is over, with runsd's error code when runsd answered and the app request's trace
// once the project id is known — and never the token or any credential the app sent.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { traceOf } from '../../../workers/proxy/access-log.ts';
import { type FakeUpstream, startFakeUpstream } from '../../helpers/fake-upstream.ts';
import { FACTS, type Fixture, startProxy } from '../../helpers/proxy-fixture.ts';

let up: FakeUpstream;
let f: Fixture;
before(async () => {
  up = await startFakeUpstream();
  f = await startProxy(up, { accessLog: true });
});
after(async () => {
  await f.proxy.close();
  await up.close();
});

function request(host: string, path: string, headers: Record<string, string> = {}, body?: string) {
  return new Promise<number>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: f.port, path, method: body ? 'POST' : 'GET', headers: { host, ...headers } },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Line {
  severity: string;
  httpRequest: Record<string, string | number>;
  [field: string]: unknown;
}

async function lastLine(): Promise<Line> {
  for (let i = 0; i < 100 && f.accessLines.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  const line = f.accessLines.shift();
  assert.ok(line?.endsWith('\n'), 'one line');
  return JSON.parse(line!);
}

test('a proxied request: httpRequest fields, service, trace from traceparent, no credential', async () => {
  f.accessLines.length = 0;
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  const status = await request(
    'hello',
    '/x?q=1',
    {
      traceparent: `00-${trace}-00f067aa0ba902b7-01`,
      authorization: 'Basic c2VjcmV0OnNlY3JldA==',
      'user-agent': 'test-agent/1',
      'content-length': '5',
    },
    'hello',
  );
  assert.equal(status, 200);
  const raw = JSON.stringify(await lastLine());
  const e = JSON.parse(raw);
  assert.equal(e.severity, 'INFO');
  assert.deepEqual(
    { ...e.httpRequest, latency: undefined },
    {
      requestMethod: 'POST',
      requestUrl: 'http://hello/x?q=1',
      status: 200,
      latency: undefined,
      protocol: 'HTTP/1.1',
      requestSize: '5',
      responseSize: e.httpRequest.responseSize,
      userAgent: 'test-agent/1',
    },
  );
  assert.match(e.httpRequest.latency, /^\d+\.\d{6}s$/);
  assert.ok(Number(e.httpRequest.responseSize) > 0, 'the echoed body was counted');
  assert.equal(e.service, 'hello');
  assert.equal(e.upstream, 'hello-123456789012.us-central1.run.app');
  assert.equal(e['logging.googleapis.com/trace'], `projects/${FACTS.projectId}/traces/${trace}`);
  assert.equal(e['logging.googleapis.com/spanId'], '00f067aa0ba902b7');
  assert.equal(e['logging.googleapis.com/trace_sampled'], true);
  assert.ok(!raw.includes('tok-for-'), 'no ID token');
  assert.ok(!raw.includes('c2VjcmV0'), 'no credential the app sent');
});

test('an answer runsd made carries its code; 4xx is a WARNING', async () => {
  f.accessLines.length = 0;
  assert.equal(await request('bad_name', '/'), 400);
  const e = await lastLine();
  assert.equal(e.severity, 'WARNING');
  assert.equal(e.runsdError, 'RUNSD_BAD_HOST');
  assert.equal(e.httpRequest.status, 400);
  assert.ok(Number(e.httpRequest.responseSize) > 0, 'the error body was counted');
  assert.equal(e['logging.googleapis.com/trace'], undefined, 'no trace header, no trace');
});

test('trace headers: W3C traceparent first, X-Cloud-Trace-Context (decimal span) second, junk ignored', () => {
  assert.deepEqual(traceOf({ 'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1;o=1' }), {
    trace: '105445aa7843bc8bf206b12000100000',
    span: '0000000000000001',
    sampled: true,
  });
  assert.equal(traceOf({ traceparent: '00-00000000000000000000000000000000-00f067aa0ba902b7-01' }), null);
  assert.equal(traceOf({ traceparent: 'garbage', 'x-cloud-trace-context': 'nope' }), null);
  assert.equal(
    traceOf({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
      'x-cloud-trace-context': '105445aa7843bc8bf206b12000100000/1',
    })?.trace,
    '4bf92f3577b34da6a3ce929d0e0e4736',
  );
});
