import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveIdentity } from '../../src/domain/users.ts';
import { RunsdError } from '../../src/errors.ts';

const passwd =
  'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\nbroken line\n';
const group =
  'root:x:0:\nnogroup:x:65534:\napp:x:1000:\ndocker:x:998:app,other\naudio:x:29:app\nstaff:x:50:\n';

test('resolves users, groups and supplementary groups', () => {
  const cases: [string, { uid: number; gid: number; groups: number[] }][] = [
    ['nobody', { uid: 65534, gid: 65534, groups: [65534] }],
    ['app', { uid: 1000, gid: 1000, groups: [1000, 998, 29] }],
    ['1000', { uid: 1000, gid: 1000, groups: [1000, 998, 29] }],
    ['app:staff', { uid: 1000, gid: 50, groups: [50, 998, 29] }],
    ['app:29', { uid: 1000, gid: 29, groups: [29, 998] }],
    ['4242', { uid: 4242, gid: 0, groups: [0] }],
    ['4242:4343', { uid: 4242, gid: 4343, groups: [4343] }],
  ];
  for (const [spec, want] of cases) {
    const id = resolveIdentity(spec, passwd, group);
    assert.deepEqual({ uid: id.uid, gid: id.gid, groups: id.groups }, want, spec);
  }
});

test('unknown users and groups are clear errors', () => {
  for (const [spec, re] of [
    ['ghost', /-user ghost: no user "ghost" in \/etc\/passwd/],
    ['app:ghosts', /no group "ghosts" in \/etc\/group/],
  ] as const) {
    assert.throws(
      () => resolveIdentity(spec, passwd, group),
      (e: unknown) => e instanceof RunsdError && e.code === 'RUNSD_USER' && re.test(e.message),
    );
  }
});
