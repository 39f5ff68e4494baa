// HTTP/2 conformance of the h2c listener: h2spec (../shared/tools/h2spec, the suite's static
// binary) against the proxy with `:authority hello`, the upstream being the emulator's front end.
// Every case runsd fails must also fail against a bare node:http2 server run the same way — the
// case is decided inside Node's HTTP/2 layer (nghttp2 and node_http2.cc), not by runsd — and must
// be one of the cases docs/proxy.md lists with the reason. Skips without the binary or without root
// (the run needs a private /etc/hosts naming `hello`).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../../../src/emulator/index.ts';
import { startProxy } from '../../helpers/proxy-fixture.ts';

const H2SPEC = fileURLToPath(new URL('../../../../shared/tools/h2spec', import.meta.url));

/** Decided inside node:http2 (docs/proxy.md "HTTP/2 conformance"). */
const NODE_CASES = new Set([
  'http2/5.1/8',
  'http2/5.1/9',
  'http2/5.1/11',
  'http2/5.1/12',
  'http2/5.1.1/2',
  'http2/5.3.1/2',
  'http2/6.3/1',
  'http2/6.7/2',
  'http2/6.9.1/3',
]);

const skip = !existsSync(H2SPEC)
  ? `h2spec not found at ${H2SPEC} (see ../shared/ANCHORS.md)`
  : process.getuid?.() !== 0
    ? 'needs root (unshare --mount for a private /etc/hosts)'
    : false;

interface Run {
  total: number;
  /** Failing cases by id ("http2/6.7/2": package and position; valid for a run of whole suites). */
  failed: string[];
  /** The same failures by package and title (ids shift when only some cases run). */
  failedTitles: Set<string>;
  titleOf: Map<string, string>;
}

/** Runs h2spec against hello:port with hello → 127.0.0.1 in a private /etc/hosts; parses its JUnit report. */
async function h2spec(port: number, cases: string[]): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'runsd-h2spec-'));
  try {
    const hosts = join(dir, 'hosts');
    const report = join(dir, 'report.xml');
    writeFileSync(hosts, '127.0.0.1 localhost\n127.0.0.1 hello\n');
    // The default path is too short for case generic/3.10/2 of this h2spec version (ANCHORS.md).
    const args = [...cases, '-h', 'hello', '-p', String(port), '-P', '/h2spec/conformance', '-j', report];
    await new Promise<void>((resolve) =>
      execFile(
        'unshare',
        ['--mount', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hosts, H2SPEC, ...args],
        { timeout: 120_000 },
        () => resolve(), // h2spec exits non-zero when any case fails; the report says which
      ),
    );
    return parseReport(readFileSync(report, 'latin1'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Case ids as h2spec names them: the suite's package and the case's position in it. */
function parseReport(xml: string): Run {
  const run: Run = { total: 0, failed: [], failedTitles: new Set(), titleOf: new Map() };
  const seen = new Map<string, number>();
  for (const m of xml.matchAll(/<testcase package="([^"]+)" classname="([^"]*)"[^>]*>(<\/testcase>)?/g)) {
    const pkg = m[1]!;
    const n = (seen.get(pkg) ?? 0) + 1;
    seen.set(pkg, n);
    run.total++;
    const id = `${pkg}/${n}`;
    const title = `${pkg} ${m[2]}`;
    run.titleOf.set(id, title);
    if (m[3] === undefined) {
      run.failed.push(id);
      run.failedTitles.add(title);
    }
  }
  return run;
}

test('h2spec generic + http2 + hpack: runsd fails only cases bare node:http2 fails too', {
  skip,
  timeout: 240_000,
}, async (t) => {
  const emu = await startEmulator();
  const f = await startProxy({ port: emu.frontend.port, caPem: emu.frontend.caPem });
  const bare = http2.createServer();
  bare.on('sessionError', () => {});
  // Like a proxy: the answer comes from elsewhere, a little later (here 20 ms after the request).
  bare.on('stream', (s) => {
    s.on('error', () => {});
    setTimeout(() => {
      if (s.destroyed) return;
      s.respond({ ':status': 200 });
      s.end();
    }, 20);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  t.after(async () => {
    await f.proxy.close();
    bare.close();
    await emu.close();
  });

  const runsd = await h2spec(f.port, ['generic', 'http2', 'hpack']);
  assert.ok(runsd.total >= 146, `h2spec ran ${runsd.total} cases`);
  const unexplained = runsd.failed.filter((id) => !NODE_CASES.has(id));
  assert.deepEqual(unexplained, [], 'cases runsd fails that docs/proxy.md does not explain');
  // The same cases against bare node:http2: each must fail there too.
  if (runsd.failed.length > 0) {
    const node = await h2spec((bare.address() as AddressInfo).port, runsd.failed);
    assert.deepEqual(
      runsd.failed.filter((id) => !node.failedTitles.has(runsd.titleOf.get(id)!)),
      [],
      'cases runsd fails but bare node:http2 passes',
    );
  }
  t.diagnostic(
    `h2spec: ${runsd.total - runsd.failed.length} of ${runsd.total} pass; failing: ${runsd.failed.join(' ')}`,
  );
});
