// The real bin/runsd as a process wrapper (off Cloud Run): exit status, 126/127, stdin/stdout,
// environment, usage errors, --help/--version, and what it says (or does not) about activation.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FLAGS } from '../../src/config.ts';
import { offCloudRunEnv, runsd, tempDir, viaLauncher } from './runsd.ts';

const USAGE_LINE = /^usage: runsd \[flags\] -- COMMAND/;

test("exit status of the command becomes runsd's", async (t) => {
  for (const [script, want] of [
    ['exit 0', 0],
    ['exit 3', 3],
    ['exit 255', 255],
    ['kill -KILL $$', 137],
    ['kill -TERM $$', 143],
    ['kill -SEGV $$', 139],
  ] as const) {
    const r = await runsd(t, ['--', 'sh', '-c', script]);
    assert.equal(r.code, want, `sh -c '${script}': stderr=${r.stderr}`);
    assert.equal(r.stderr, '', 'runsd prints nothing of its own at -v=0');
  }
});

test('command not found → 127 with one line on stderr', async (t) => {
  const r = await runsd(t, ['--', 'runsd-no-such-command-xyz', 'arg']);
  assert.equal(r.code, 127);
  assert.equal(r.stderr, 'runsd: error: runsd-no-such-command-xyz: command not found\n');
  const abs = await runsd(t, ['--', '/nonexistent/dir/prog']);
  assert.equal(abs.code, 127);
  assert.equal(abs.stderr, 'runsd: error: /nonexistent/dir/prog: command not found\n');
});

test('not executable → 126 with one line on stderr (a file without x bit, a directory)', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'script.sh');
  writeFileSync(file, '#!/bin/sh\necho should-not-run\n');
  chmodSync(file, 0o644);
  const r = await runsd(t, ['--', file]);
  assert.equal(r.code, 126);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `runsd: error: ${file}: cannot execute: permission denied\n`);

  const sub = join(dir, 'a-directory');
  mkdirSync(sub);
  const d = await runsd(t, ['--', sub]);
  assert.equal(d.code, 126);
  assert.equal(d.stderr, `runsd: error: ${sub}: cannot execute: is a directory\n`);
});

test('stdin is passed to the command and its stdout comes back unchanged', async (t) => {
  // 1 MiB of non-trivial bytes: more than any pipe buffer, so both directions must really stream.
  const data = Buffer.alloc(1 << 20);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
  const r = await runsd(t, ['--', 'sh', '-c', 'od -An -tx1 -v | tr -d " \\n" | wc -c'], {
    stdin: data,
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), String(data.length * 2));
  const text = 'line one\nline two with ünïcödé\n\nlast';
  const cat = await runsd(t, ['--', 'cat'], { stdin: text });
  assert.equal(cat.code, 0);
  assert.equal(cat.stdout, text);
});

test('stderr of the command is passed through', async (t) => {
  const r = await runsd(t, ['--', 'sh', '-c', 'echo to-stderr >&2; echo to-stdout']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'to-stdout\n');
  assert.equal(r.stderr, 'to-stderr\n');
});

test("arguments reach the command unchanged (flags after -- and after the command are not runsd's)", async (t) => {
  const args = ['-v=9', '--help', 'with space', '', '*', '$HOME', 'new\nline'];
  const r = await runsd(t, ['--', 'sh', '-c', 'for a in "$@"; do printf "[%s]" "$a"; done', 'sh', ...args]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, args.map((a) => `[${a}]`).join(''));
  // Without --, flags stop at the first non-flag argument.
  const r2 = await runsd(t, ['printf', '%s|', '-v=3', '--version']);
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal(r2.stdout, '-v=3|--version|');
});

test('the environment is passed, including values with spaces, newlines and =', async (t) => {
  const tricky = 'a b\nc=d\te "quoted" $NOT_EXPANDED';
  const r = await runsd(t, ['--', 'printenv', 'TRICKY', 'PLAIN'], {
    env: offCloudRunEnv({ TRICKY: tricky, PLAIN: 'plain' }),
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${tricky}\nplain\n`);
  const all = await runsd(t, ['--', 'env', '-0'], {
    env: { PATH: process.env['PATH'] ?? '', ONLY: 'x', ...(viaLauncher ? { RUNSD_FROM_SOURCE: '1' } : {}) },
  });
  // bin/runsd is a sh launcher, and sh exports PWD; everything else is exactly what we gave
  // (the launcher's own RUNSD_FROM_SOURCE is not passed on).
  const got = all.stdout
    .split('\0')
    .filter((kv) => kv !== '' && !kv.startsWith('PWD='))
    .sort();
  assert.deepEqual(got, ['ONLY=x', `PATH=${process.env['PATH'] ?? ''}`]);
});

test('usage errors exit 2 with one line naming the flag and the usage line', async (t) => {
  const cases: [string[], RegExp][] = [
    [['-bogus', '--', 'true'], /-bogus/],
    [['--no_such_flag=1', '--', 'true'], /-no_such_flag/],
    [['-ndots=x', '--', 'true'], /"x" for -ndots: expected a whole number/],
    [['-dns_port=99999', '--', 'true'], /"99999" for -dns_port: expected a whole number from 1 to 65535/],
    [['-mode=fast', '--', 'true'], /"fast" for -mode: expected one of auto, dns, env/],
    [['-v=11', '--', 'true'], /-v/],
    [['-http_proxy_port'], /-http_proxy_port/],
    [[], /no command/],
    [['--'], /no command/],
    [['-v=2'], /no command/],
  ];
  const marker = join(tempDir(t), 'ran');
  for (const [given, want] of cases) {
    // The command, when there is one, would leave a marker: it must not run.
    const args = given.map((a) => (a === 'true' ? `--touch-marker` : a));
    const r = await runsd(
      t,
      args.flatMap((a) => (a === '--touch-marker' ? ['touch', marker] : [a])),
    );
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0]!, /^runsd: /);
    assert.match(lines[0]!, want);
    assert.match(lines[1]!, USAGE_LINE);
    assert.equal(r.stdout, '');
    assert.equal(existsSync(marker), false, 'the command must not run');
  }
});

test('--help lists every flag; --version prints the version', async (t) => {
  for (const h of ['--help', '-help', '-h']) {
    const r = await runsd(t, [h]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: runsd /m);
    for (const f of FLAGS) {
      if (f.name === 'h') continue;
      assert.match(r.stdout, new RegExp(`^  -${f.name}\\b`, 'm'), `--help must list -${f.name}`);
    }
  }
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  const v = await runsd(t, ['--version']);
  assert.equal(v.code, 0);
  assert.match(v.stdout, new RegExp(`^runsd ${pkg.version.replaceAll('.', '\\.')}\\b`));
});

test('off Cloud Run it only runs the command: silent at -v=0, says why at -v=1', async (t) => {
  const dir = tempDir(t);
  const rc = join(dir, 'resolv.conf');
  const original = 'nameserver 10.9.8.7\nsearch example.com\n';
  writeFileSync(rc, original);
  const quiet = await runsd(t, [
    `-resolv_conf_file=${rc}`,
    '--',
    'sh',
    '-c',
    'echo out; printenv HTTP_PROXY',
  ]);
  assert.equal(quiet.code, 1, 'printenv of an unset variable fails: no HTTP_PROXY off Cloud Run');
  assert.equal(quiet.stdout, 'out\n');
  assert.equal(quiet.stderr, '');
  const loud = await runsd(t, ['-v=1', `-resolv_conf_file=${rc}`, '--', 'cat', rc]);
  assert.equal(loud.code, 0);
  assert.equal(loud.stdout, original, 'resolv.conf is not rewritten off Cloud Run');
  assert.match(loud.stderr, /^runsd: not on Cloud Run \(no K_SERVICE.*\); only running the command$/m);
  assert.equal(readFileSync(rc, 'utf8'), original);
});

test('PORT=80 with the proxy on :80 → clear error naming PORT and the fix; nothing touched', async (t) => {
  const dir = tempDir(t);
  const rc = join(dir, 'resolv.conf');
  const original = 'nameserver 10.9.8.7\n';
  writeFileSync(rc, original);
  const marker = join(dir, 'ran');
  const r = await runsd(t, ['-mode=dns', `-resolv_conf_file=${rc}`, '--', 'touch', marker], {
    env: offCloudRunEnv({ K_SERVICE: 'hello', PORT: '80' }),
  });
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /PORT=80/);
  assert.match(r.stderr, /--port=8080|-http_proxy_port/);
  assert.equal(existsSync(marker), false, 'the command must not run');
  assert.equal(readFileSync(rc, 'utf8'), original);
});
