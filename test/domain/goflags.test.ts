import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoBool, parseGoFlags } from '../../src/domain/goflags.ts';

const specs = [{ name: 'v' }, { name: 'domain' }, { name: 'skip_dns_hijack', boolean: true }];

test('Go flag forms are accepted', () => {
  const cases: [string[], Record<string, string>, string[]][] = [
    [['-v=3', '--', 'app'], { v: '3' }, ['app']],
    [['--v=3', 'app', '-x'], { v: '3' }, ['app', '-x']],
    [['-v', '3', 'app'], { v: '3' }, ['app']],
    [['--v', '3', '--', '-app'], { v: '3' }, ['-app']],
    [['-skip_dns_hijack', 'app'], { skip_dns_hijack: 'true' }, ['app']],
    [['-skip_dns_hijack=false', 'app'], { skip_dns_hijack: 'false' }, ['app']],
    [['--skip_dns_hijack=F', 'app'], { skip_dns_hijack: 'false' }, ['app']],
    [['-domain=a.b.', '-domain', 'c.d.', 'app'], { domain: 'c.d.' }, ['app']],
    [['-v=', 'app'], { v: '' }, ['app']],
    [['app', '-v=1'], {}, ['app', '-v=1']],
    [['-', 'x'], {}, ['-', 'x']],
    [['--'], {}, []],
    [[], {}, []],
  ];
  for (const [argv, values, rest] of cases) {
    const r = parseGoFlags(argv, specs);
    assert.ok(r.ok, `${argv.join(' ')}: ${r.ok ? '' : r.error}`);
    assert.deepEqual(Object.fromEntries(r.values), values, argv.join(' '));
    assert.deepEqual(r.rest, rest, argv.join(' '));
  }
});

test('a boolean flag does not take the next argument', () => {
  const r = parseGoFlags(['-skip_dns_hijack', 'false', 'x'], specs);
  assert.ok(r.ok);
  assert.equal(r.values.get('skip_dns_hijack'), 'true');
  assert.deepEqual(r.rest, ['false', 'x']);
});

test('bad flag input names the flag', () => {
  const cases: [string[], RegExp][] = [
    [['-nope', 'x'], /flag provided but not defined: -nope/],
    [['--nope=1'], /not defined: -nope/],
    [['-v'], /flag needs an argument: -v/],
    [['---v=1'], /bad flag syntax: ---v=1/],
    [['-=x'], /bad flag syntax/],
    [['-skip_dns_hijack=maybe'], /invalid boolean value "maybe" for -skip_dns_hijack/],
  ];
  for (const [argv, re] of cases) {
    const r = parseGoFlags(argv, specs);
    assert.equal(r.ok, false, argv.join(' '));
    assert.match(r.ok ? '' : r.error, re);
  }
});

test('parseGoBool follows strconv.ParseBool', () => {
  for (const t of ['1', 't', 'T', 'true', 'TRUE', 'True']) assert.equal(parseGoBool(t), true);
  for (const f of ['0', 'f', 'F', 'false', 'FALSE', 'False']) assert.equal(parseGoBool(f), false);
  for (const x of ['yes', 'tRUE', '', '2']) assert.equal(parseGoBool(x), undefined);
});

test('a repeatable flag keeps every value in order; the last still wins in values', () => {
  const r = parseGoFlags(
    ['-route=a', '--route', 'b', '-v=1', '-route=c', '--', 'x'],
    [{ name: 'route', repeatable: true }, { name: 'v' }],
  );
  assert.ok(r.ok);
  assert.deepEqual(r.lists.get('route'), ['a', 'b', 'c']);
  assert.equal(r.values.get('route'), 'c');
  assert.equal(r.lists.get('v'), undefined);
});
