// The README's "When a call fails" table and the proxy agree: every code the proxy answers with is
// listed, with the status the proxy really sends.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { ErrorCode } from '../src/errors.ts';
import { ANSWERED_CODES, statusFor } from '../workers/proxy/errors.ts';

const root = new URL('..', import.meta.url);
// The token path reports a silent token room as RUNSD_TOKEN_FETCH (workers/token/client.ts), never as this.
const NOT_SENT_TO_APPS = new Set(['RUNSD_PORT_TIMEOUT']);

test('README lists every error the proxy answers with, with its status', () => {
  const codes = [
    ...readFileSync(new URL('src/errors.ts', root), 'utf8').matchAll(/\| '(RUNSD_[A-Z_]+)'/g),
  ].map((m) => m[1] as ErrorCode);
  assert.ok(codes.length > 10, 'the ErrorCode union was found');
  const proxyCodes = codes.filter((c) => statusFor(c) !== 500 && !NOT_SENT_TO_APPS.has(c));
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const section = readme.slice(readme.indexOf('## When a call fails'), readme.indexOf('## Flags'));
  assert.ok(section.length > 100, 'README has the section');
  const rows = new Map(
    [...section.matchAll(/^\|\s*(\d{3})\s*\|\s*`(RUNSD_[A-Z_]+)`/gm)].map((m) => [m[2], Number(m[1])]),
  );
  for (const c of proxyCodes) assert.equal(rows.get(c), statusFor(c), `${c} in README's table`);
  for (const c of rows.keys())
    assert.ok(proxyCodes.includes(c as ErrorCode), `${c} is a code the proxy sends`);
});

test('the proxy errors counter starts at 0 for exactly the codes the proxy answers with', () => {
  const codes = [
    ...readFileSync(new URL('src/errors.ts', root), 'utf8').matchAll(/\| '(RUNSD_[A-Z_]+)'/g),
  ].map((m) => m[1] as ErrorCode);
  const proxyCodes = codes.filter((c) => statusFor(c) !== 500 && !NOT_SENT_TO_APPS.has(c));
  assert.deepEqual([...ANSWERED_CODES].sort(), proxyCodes.sort());
});
