// src/log.ts: the text form a person reads, and the JSON form Cloud Logging parses as a structured
// entry (severity, message, time, logging.googleapis.com/labels; the other fields as jsonPayload).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../src/log.ts';

function capture(format: 'text' | 'json', verbosity = 1, room?: string) {
  const lines: string[] = [];
  const log = createLogger({ verbosity, format, ...(room ? { room } : {}), write: (l) => lines.push(l) });
  return { log, lines };
}

test('json: one object per line with the fields Cloud Logging reads', () => {
  const { log, lines } = capture('json', 1, 'proxy');
  log.warn('upstream slow', { host: 'hello-1.us-central1.run.app', ms: 1200 });
  log.info(1, 'listening', { port: 80 });
  log.info(2, 'not shown');
  log.error('boom', { message: 'a field named like a Cloud Logging key', severity: 'DEBUG' });
  assert.equal(lines.length, 3);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  const [w, i, e] = lines.map((l) => JSON.parse(l));
  assert.equal(w.severity, 'WARNING');
  assert.equal(w.message, 'upstream slow');
  assert.equal(w.host, 'hello-1.us-central1.run.app');
  assert.equal(w.ms, 1200);
  assert.deepEqual(w['logging.googleapis.com/labels'], { component: 'runsd-proxy' });
  assert.ok(!Number.isNaN(Date.parse(w.time)) && w.time.endsWith('Z'), w.time);
  assert.equal(i.severity, 'INFO');
  // The structured fields win over same-named fields.
  assert.equal(e.severity, 'ERROR');
  assert.equal(e.message, 'boom');
});

test('text: runsd[room]: prefix, key=value fields, quiet below the verbosity', () => {
  const { log, lines } = capture('text', 0);
  log.info(1, 'hidden');
  log.warn('dns slow', { upstream: '10.0.0.2:53', why: 'no answer in 1 s' });
  assert.deepEqual(lines, ['runsd: warning: dns slow upstream=10.0.0.2:53 why="no answer in 1 s"\n']);
});
