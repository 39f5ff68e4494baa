// Property tests (fast-check) for request-target parsing and routing (workers/proxy/route.ts):
// arbitrary request lines (`req.url`) and Host headers through requestTarget → Router.route, and
// arbitrary targets through checkTarget / checkConnect. Nothing throws but a RunsdError; a service
// route only ever goes to a service the request named (the first label of its authority, which is
// the absolute URL's host or the Host header); a plain route only in env mode for an absolute URL.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import fc from 'fast-check';
import { splitHostPort } from '../../../src/domain/names.ts';
import { RunsdError } from '../../../src/errors.ts';
import { checkTarget, Router, requestTarget } from '../../../workers/proxy/route.ts';
import { baseProxySettings } from '../../helpers/proxy-settings.ts';

const RUNS = {
  numRuns: Number(process.env['FC_RUNS'] ?? 1500),
  seed: Number(process.env['FC_SEED'] ?? 7),
};
const facts = { region: 'us-central1', projectNumber: '123', projectId: 'p' };

const hostPiece = fc.oneof(
  fc.constantFrom(
    'hello',
    'Hello',
    'my-svc',
    'localhost',
    '127.0.0.1',
    '[::1]',
    '[::1',
    '%zz',
    '',
    '@',
    'u:p@hello',
  ),
  fc.constantFrom(
    'us-central1',
    'run.internal',
    'RUN.INTERNAL.',
    'example.com',
    ':80',
    ':0',
    ':99999',
    ':',
    '.',
  ),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
  fc.string({ maxLength: 6 }),
);
const host = fc.array(hostPiece, { maxLength: 4 }).map((p) => p.join(''));
const hostDotted = fc.array(hostPiece, { maxLength: 4 }).map((p) => p.join('.'));
const anyHost = fc.oneof(host, hostDotted, fc.string({ maxLength: 40 }));
const tail = fc.oneof(
  fc.constantFrom('', '/', '/x?y=1', '#frag', '?q', '//', '/../', '\\'),
  fc.string({ maxLength: 12 }),
);
const url = fc.oneof(
  fc
    .tuple(fc.constantFrom('http://', 'HTTP://', 'http:///', 'https://', 'http:', 'ws://'), anyHost, tail)
    .map(([s, h, t]) => `${s}${h}${t}`),
  tail.map((t) => `/${t}`),
  fc.constantFrom('*', '', 'hello', 'hello:80'),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

function unescapeText(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function request(u: string | undefined, h: string | undefined): IncomingMessage {
  return { url: u, headers: h === undefined ? {} : { host: h } } as unknown as IncomingMessage;
}

const ROUTE_CODES = ['RUNSD_BAD_HOST', 'RUNSD_NOT_RELAY', 'RUNSD_FACT_MISSING'];

test('requestTarget → Router.route: only RunsdErrors; a service route goes to the service the request named', () => {
  const routers = {
    dns: new Router(baseProxySettings(), facts),
    env: new Router(baseProxySettings({ mode: 'env' }), facts),
    noFacts: new Router(baseProxySettings(), { region: null, projectNumber: null, projectId: null }),
  };
  fc.assert(
    fc.property(
      fc.option(url, { nil: undefined }),
      fc.option(anyHost, { nil: undefined }),
      fc.constantFrom('dns', 'env', 'noFacts'),
      (u, h, which) => {
        const t = requestTarget(request(u, h));
        assert.equal(typeof t.path, 'string');
        assert.equal(typeof t.authority, 'string');
        if (!t.absolute) {
          assert.equal(t.authority, h ?? '', 'origin-form: the Host header is the authority');
          assert.equal(t.path, u ?? '/');
        } else {
          assert.match(u ?? '', /^http:\/\//i);
        }
        let r: ReturnType<Router['route']>;
        try {
          r = routers[which].route(t.authority, t.absolute);
        } catch (err) {
          assert.ok(err instanceof RunsdError, `not a RunsdError: ${String(err)}`);
          assert.ok(ROUTE_CODES.includes(err.code), err.code);
          return;
        }
        const named = splitHostPort(t.authority).name;
        if (r.kind === 'service') {
          const first = named.split('.')[0] ?? '';
          const tag = first.includes('---') ? first.slice(0, first.indexOf('---')) : null;
          assert.equal(
            tag === null ? r.service : `${tag}---${r.service}`,
            first,
            `the service the authority named: ${t.authority}`,
          );
          // The URL parser maps percent-escapes and full-width letters in a host (`http://%68ello/`,
          // `http://ｈello/`) to what they spell: compare with the text as spelled.
          const source = (t.absolute ? u : h) ?? '';
          const spelled = unescapeText(source).normalize('NFKC').toLowerCase();
          assert.ok(spelled.includes(r.service), `${r.service} appears in ${source}`);
          // A tag URL's token is for its service's URL (route.ts).
          assert.equal(r.audience, `https://${tag === null ? r.host : r.host.slice(tag.length + 3)}`);
          assert.match(
            r.host,
            new RegExp(
              `^${tag === null ? '' : `${tag}---`}${r.service}-123\\.[a-z]+-[a-z]+[0-9]+\\.run\\.app$`,
            ),
          );
        } else {
          assert.equal(which, 'env', 'plain routes only in env mode');
          assert.ok(t.absolute, 'plain routes only for an absolute-form URL');
          assert.ok(r.port >= 1 && r.port <= 65535, `port ${r.port}`);
          assert.equal(r.host, named);
        }
      },
    ),
    RUNS,
  );
});

test('checkTarget and checkConnect: only RunsdErrors, and they refuse exactly what they should', () => {
  const r = new Router(baseProxySettings({ mode: 'env' }), facts);
  fc.assert(
    fc.property(
      fc.constantFrom('http1', 'http2'),
      fc.constantFrom('GET', 'CONNECT', 'OPTIONS', 'POST'),
      url,
      anyHost,
      (protocol, method, path, authority) => {
        const ok =
          !(protocol !== 'http1' && method === 'CONNECT') &&
          (path.startsWith('/') || (path === '*' && method === 'OPTIONS'));
        try {
          checkTarget(protocol, method, path, authority);
          assert.ok(ok, `accepted ${protocol} ${method} ${path}`);
        } catch (err) {
          assert.ok(err instanceof RunsdError, `not a RunsdError: ${String(err)}`);
          assert.ok(['RUNSD_METHOD', 'RUNSD_BAD_REQUEST'].includes(err.code), err.code);
          assert.ok(!ok, `refused ${protocol} ${method} ${path}: ${err.message}`);
        }
        try {
          r.checkConnect(authority);
          // Tunnelled: an internal service name, never :443.
          assert.notEqual(splitHostPort(authority).port, 443);
          assert.equal(r.route(authority, false).kind, 'service');
        } catch (err) {
          assert.ok(err instanceof RunsdError, `not a RunsdError: ${String(err)}`);
          assert.ok(ROUTE_CODES.includes(err.code), err.code);
        }
      },
    ),
    RUNS,
  );
});
