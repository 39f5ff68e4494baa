import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseResolvConf, renderResolvConf, searchList } from '../../src/domain/resolv-conf-text.ts';

test('parses what the resolvers read', () => {
  const cases: [string, ReturnType<typeof parseResolvConf>][] = [
    ['', { nameservers: [], search: [], options: [], ndots: null }],
    [
      'nameserver 169.254.169.254\n',
      { nameservers: ['169.254.169.254'], search: [], options: [], ndots: null },
    ],
    [
      '# comment\nnameserver 10.0.0.2 # trailing\n; other comment\nnameserver  ::1\nsearch a.com  b.com\noptions ndots:5 timeout:2 edns0\noptions attempts:3 timeout:2\n',
      {
        nameservers: ['10.0.0.2', '::1'],
        search: ['a.com', 'b.com'],
        options: ['timeout:2', 'edns0', 'attempts:3'],
        ndots: 5,
      },
    ],
    ['search a.com\ndomain x.org\n', { nameservers: [], search: ['x.org'], options: [], ndots: null }],
    [
      'domain x.org\nsearch a.com b.com\n',
      { nameservers: [], search: ['a.com', 'b.com'], options: [], ndots: null },
    ],
    ['nameserver\nsortlist 10.0.0.0\n\n   \n', { nameservers: [], search: [], options: [], ndots: null }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseResolvConf(text), want, JSON.stringify(text));
});

test('search list: ours first, original kept, duplicates dropped', () => {
  assert.deepEqual(searchList('run.internal.', 'us-central1', ['c.proj.internal', 'google.internal']), [
    'us-central1.run.internal',
    'run.internal',
    'c.proj.internal',
    'google.internal',
  ]);
  assert.deepEqual(searchList('run.internal', null, ['run.internal.', 'a.b']), ['run.internal', 'a.b']);
  assert.deepEqual(searchList('corp.', 'europe-west1', []), ['europe-west1.corp', 'corp']);
});

test('renders runsd resolv.conf with ndots and original options', () => {
  const original = parseResolvConf(
    'nameserver 169.254.169.254\nsearch google.internal\noptions ndots:1 timeout:2\n',
  );
  assert.equal(
    renderResolvConf({
      original,
      nameservers: ['127.0.0.1', '::1'],
      domain: 'run.internal.',
      region: 'us-central1',
      ndots: 4,
    }),
    '# written by runsd; the original is restored when runsd exits\nnameserver 127.0.0.1\nnameserver ::1\n' +
      'search us-central1.run.internal run.internal google.internal\noptions ndots:4 timeout:2\n',
  );
  const empty = parseResolvConf('');
  assert.equal(
    renderResolvConf({
      original: empty,
      nameservers: ['127.0.0.1'],
      domain: 'run.internal.',
      region: null,
      ndots: 2,
    }),
    '# written by runsd; the original is restored when runsd exits\nnameserver 127.0.0.1\nsearch run.internal\noptions ndots:2\n',
  );
});
