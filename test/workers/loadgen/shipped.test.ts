// `runsd loadtest` as shipped: the launcher (bin/runsd, on the bundle), `node dist/runsd.cjs` and the
// single executable dist/runsd — each runs its piscina pool from its own files (the executable:
// from its embedded assets, written to a temp directory for the run and removed after it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { LoadReport } from '../../../src/domain/loadgen-report.ts';
import { DIST, ROOT, requireBuilt, SEA } from '../../helpers/dist.ts';

const run = promisify(execFile);
// The pool's own temp dirs (workers/loadgen/pool-files.ts), not other tests' (runsd-loadtest-html-…).
const leftovers = () => readdirSync(tmpdir()).filter((f) => /^runsd-loadtest-[A-Za-z0-9]{6}$/.test(f));

test('runsd loadtest from bin/runsd, the bundle and the single executable', async (t) => {
  let seen = 0;
  const server = http.createServer((_req, res) => {
    seen++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const bundle = requireBuilt(join(DIST, 'runsd.cjs'));
  // The tool is its own file: runsd's own start-up never parses it.
  assert.ok(!readFileSync(bundle, 'utf8').includes('runsd-loadtest/1'), 'loadtest inlined into runsd.cjs');
  const ways: [string, string, string[]][] = [
    ['bin/runsd', join(ROOT, 'bin/runsd'), []],
    ['node dist/runsd.cjs', process.execPath, [bundle]],
    ['dist/runsd', requireBuilt(SEA), []],
  ];
  // uPlot for --html is in the loadtest bundle (a define in scripts/build.ts), not read from node_modules
  const loadtest = readFileSync(requireBuilt(join(DIST, 'workers/loadtest.cjs')), 'utf8');
  assert.ok(loadtest.includes('Leon Sorokin'), 'uPlot inlined into workers/loadtest.cjs');
  const pages = mkdtempSync(join(tmpdir(), 'runsd-shipped-html-'));
  t.after(() => rmSync(pages, { recursive: true, force: true }));
  const before = leftovers();
  for (const [name, file, pre] of ways) {
    seen = 0;
    const page = join(pages, `${name.replace(/\W+/g, '-')}.html`);
    const { stdout } = await run(
      file,
      [...pre, 'loadtest', '--json', '-q', '-n', '40', '-c', '2', '-t', '2', '--html', page, url],
      {
        timeout: 60_000,
        env: { ...process.env, RUNSD_FROM_SOURCE: '' },
      },
    );
    const r = JSON.parse(stdout) as LoadReport;
    assert.equal(r.schema, 'runsd-loadtest/1', name);
    assert.deepEqual(r.statuses, { '200': 40 }, name);
    assert.equal(seen, 40, name);
    const html = readFileSync(page, 'utf8');
    assert.match(html, /<script>\/\*! uPlot \d+\.\d+\.\d+, inlined/, `${name}: uPlot in the page`);
    assert.match(html, /<script type="application\/json" id="loadtest-data">\{"title"/, name);
    const help = await run(file, [...pre, 'loadtest', '--help']);
    assert.match(help.stdout, /^usage: runsd loadtest/, name);
    await assert.rejects(run(file, [...pre, 'loadtest', '--nope', url]), (err: unknown) => {
      assert.equal((err as { code: number }).code, 2, name);
      return true;
    });
  }
  assert.deepEqual(leftovers(), before, 'the executable removes its temp files');
});
