// Header rewriting between the app and the upstream (RFC 9110 §7.6.1), table-tested.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  endToEnd,
  forwardableTrailers,
  hasCredential,
  upstreamRequestHeaders,
} from '../../src/domain/http-headers.ts';

test('endToEnd drops pseudo, hop-by-hop and Connection-named headers, keeps the rest', () => {
  const cases: [string, Record<string, string | string[] | undefined>, Record<string, string | string[]>][] =
    [
      ['nothing to drop', { accept: '*/*', 'x-a': ['1', '2'] }, { accept: '*/*', 'x-a': ['1', '2'] }],
      [
        'hop-by-hop without Connection',
        {
          host: 'h',
          te: 'gzip',
          'keep-alive': 'timeout=5',
          'transfer-encoding': 'chunked',
          upgrade: 'x',
          a: '1',
        },
        { a: '1' },
      ],
      ['pseudo headers', { ':method': 'GET', ':path': '/', a: '1' }, { a: '1' }],
      [
        'Connection names',
        { connection: 'close, X-Foo , ,x-bar', 'x-foo': '1', 'x-bar': '2', b: '3' },
        { b: '3' },
      ],
      [
        'Connection as a list',
        { connection: ['x-foo', 'X-Bar'], 'x-foo': '1', 'x-bar': '2', b: '3' },
        { b: '3' },
      ],
      ['undefined values', { a: undefined, b: '2' }, { b: '2' }],
    ];
  for (const [name, input, want] of cases) assert.deepEqual(endToEnd(input), want, name);
});

test('upstreamRequestHeaders: credential placement, client credentials win, TE: trailers kept', () => {
  const bearer = 'Bearer t0k';
  assert.deepEqual(upstreamRequestHeaders({ a: '1' }, bearer, 'x-serverless-authorization'), {
    a: '1',
    'x-serverless-authorization': bearer,
  });
  // The app's own Authorization reaches the service untouched.
  assert.deepEqual(
    upstreamRequestHeaders({ authorization: 'Basic eA==' }, bearer, 'x-serverless-authorization'),
    {
      authorization: 'Basic eA==',
      'x-serverless-authorization': bearer,
    },
  );
  // Go runsd behaviour: Authorization, set only when absent.
  assert.deepEqual(upstreamRequestHeaders({}, bearer, 'authorization'), { authorization: bearer });
  assert.deepEqual(upstreamRequestHeaders({ authorization: 'Basic eA==' }, bearer, 'authorization'), {
    authorization: 'Basic eA==',
  });
  // A client-supplied X-Serverless-Authorization is never overwritten.
  assert.deepEqual(
    upstreamRequestHeaders(
      { 'x-serverless-authorization': 'Bearer mine' },
      bearer,
      'x-serverless-authorization',
    ),
    { 'x-serverless-authorization': 'Bearer mine' },
  );
  assert.deepEqual(upstreamRequestHeaders({ a: '1' }, null, 'x-serverless-authorization'), { a: '1' });
  assert.deepEqual(upstreamRequestHeaders({ te: 'trailers' }, null, 'authorization'), { te: 'trailers' });
  assert.deepEqual(upstreamRequestHeaders({ te: 'gzip, trailers;q=1' }, null, 'authorization'), {
    te: 'trailers',
  });
  assert.deepEqual(upstreamRequestHeaders({ te: 'gzip' }, null, 'authorization'), {});
});

test('hasCredential and forwardableTrailers', () => {
  assert.equal(hasCredential({ 'x-serverless-authorization': 'x' }, 'authorization'), true);
  assert.equal(hasCredential({ authorization: 'x' }, 'authorization'), true);
  assert.equal(hasCredential({ authorization: 'x' }, 'x-serverless-authorization'), false);
  assert.equal(hasCredential({}, 'authorization'), false);
  assert.deepEqual(
    forwardableTrailers({ ':status': '200', 'grpc-status': '0', 'content-length': '3', connection: 'x' }),
    { 'grpc-status': '0' },
  );
});
