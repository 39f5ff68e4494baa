// -user: uid, gid and supplementary groups of the command; unknown users; signal dispositions.
// Uses only users that exist on the host (nobody, a user with supplementary groups if there is one)
// and a numeric uid that needs no entry; never edits /etc/passwd.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isRoot, runsd, tempDir } from './runsd.ts';

const skip = isRoot ? false : 'switching users needs root';
const ID_SCRIPT = 'echo "$(id -u) $(id -g) $(id -G)"';

/** `id -u -g -G` of a named user as the system sees it (the expected answer). */
function systemIds(user: string): string {
  const q = (flag: string) => execFileSync('id', [flag, user], { encoding: 'utf8' }).trim();
  return `${q('-u')} ${q('-g')} ${q('-G')}`;
}

/** A passwd user that is a member of some /etc/group entry other than its primary group. */
function userWithSupplementaryGroups(): string | null {
  const passwd = new Set(
    readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((l) => l.split(':')[0]),
  );
  for (const line of readFileSync('/etc/group', 'utf8').split('\n')) {
    const members = (line.split(':')[3] ?? '').split(',').filter(Boolean);
    const m = members.find((u) => passwd.has(u) && u !== 'root');
    if (m) return m;
  }
  return null;
}

test('-user nobody: uid, gid and groups of nobody', { skip }, async (t) => {
  const r = await runsd(t, ['-user', 'nobody', '--', 'sh', '-c', ID_SCRIPT]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), systemIds('nobody'));
  assert.notEqual(r.stdout.split(' ')[0], '0');
});

test('-user UID:GID with no passwd entry', { skip }, async (t) => {
  const r = await runsd(t, ['-user=12345:12345', '--', 'sh', '-c', ID_SCRIPT]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '12345 12345 12345', 'no supplementary groups are kept from root');
});

test('-user with supplementary groups keeps them', { skip }, async (t) => {
  const user = userWithSupplementaryGroups();
  if (!user) {
    t.skip('no user on this host is a member of a secondary group in /etc/group');
    return;
  }
  const r = await runsd(t, ['-user', user, '--', 'sh', '-c', ID_SCRIPT]);
  assert.equal(r.code, 0, r.stderr);
  const want = systemIds(user);
  assert.ok(want.split(' ').length > 3, `${user} should have a secondary group: ${want}`);
  assert.equal(r.stdout.trim(), want);
});

test('unknown user or group: clear error, non-zero exit, command not run', { skip }, async (t) => {
  const marker = join(tempDir(t), 'ran');
  for (const [spec, want] of [
    ['runsd-no-such-user', /-user runsd-no-such-user: no user "runsd-no-such-user"/],
    ['nobody:runsd-no-such-group', /no group "runsd-no-such-group"/],
  ] as const) {
    const r = await runsd(t, ['-user', spec, '--', 'touch', marker]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^runsd: error: /);
    assert.match(r.stderr, want);
    assert.equal(existsSync(marker), false);
  }
});

test('-user: 126/127 as without -user, with the same one-line messages', { skip }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const file = join(dir, 'noexec');
  execFileSync('sh', ['-c', `printf '#!/bin/sh\\n' > ${file}; chmod 644 ${file}`]);
  const nf = await runsd(t, ['-user=nobody', '--', 'runsd-no-such-command-xyz']);
  assert.equal(nf.code, 127);
  assert.equal(nf.stderr, 'runsd: error: runsd-no-such-command-xyz: command not found\n');
  const ne = await runsd(t, ['-user=nobody', '--', file]);
  assert.equal(ne.code, 126);
  assert.equal(ne.stderr, `runsd: error: ${file}: cannot execute: permission denied\n`);
  const d = await runsd(t, ['-user=nobody', '--', dir]);
  assert.equal(d.code, 126);
  assert.equal(d.stderr, `runsd: error: ${dir}: cannot execute: is a directory\n`);
});

// Node ignores SIGPIPE and SIGXFSZ; ignored dispositions survive execve, so a command started from
// Node by execve (the -user path) would inherit them unless runsd resets them.
for (const user of [null, 'nobody']) {
  test(`the command starts with no ignored or blocked signals${user ? ` (-user ${user})` : ''}`, {
    skip,
  }, async (t) => {
    const args = [
      ...(user ? ['-user', user] : []),
      '--',
      'sh',
      '-c',
      'grep -E "^Sig(Ign|Blk):" /proc/self/status',
    ];
    const r = await runsd(t, args);
    assert.equal(r.code, 0, r.stderr);
    const field = (name: string) =>
      BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(r.stdout)?.[1]}`);
    assert.equal(
      field('SigBlk'),
      0n,
      `no signal may be blocked (SIGUSR1 was, with --disable-sigusr1): ${r.stdout}`,
    );
    const mask = field('SigIgn');
    const bit = (sig: number) => (mask >> BigInt(sig - 1)) & 1n;
    assert.equal(bit(13), 0n, 'SIGPIPE must not be ignored');
    assert.equal(bit(25), 0n, 'SIGXFSZ must not be ignored');
    assert.equal(mask, 0n, r.stdout);
    // And behaviourally: a writer into a closed pipe dies of SIGPIPE (exit 141 in sh's $?).
    const p = await runsd(t, [
      ...(user ? ['-user', user] : []),
      '--',
      'sh',
      '-c',
      '(yes; echo $? >&2) | head -c1 >/dev/null',
    ]);
    assert.equal(p.code, 0);
    assert.equal(p.stderr, '141\n', 'yes must be killed by SIGPIPE, not see EPIPE');
  });
}
