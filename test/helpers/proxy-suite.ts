// Set-up shared by the proxy's in-process test files: one fake upstream (`up`) per file and, when asked,
// proxies in front of it. A file calls useFakeUpstream() at its top level; the bindings below are set
// in that file's before hook and closed in its after hook.
import { execFile } from 'node:child_process';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { type FakeUpstream, startFakeUpstream } from './fake-upstream.ts';
import { type Fixture, startProxy } from './proxy-fixture.ts';

export const run = promisify(execFile);
export const AUD = 'https://hello-123456789012.us-central1.run.app';

/** The file's fake upstream (its CA is also what scripted upstreams' certificates chain to). */
export let up: FakeUpstream;
/** A DNS-mode proxy with default settings in front of `up`: `useFakeUpstream({ dns: true })`. */
export let f: Fixture;
/** An env-mode proxy (500 ms timeout) in front of `up`: `useFakeUpstream({ env: true })`. */
export let env: Fixture;

/** Starts `up` (then the proxies asked for) before the file's tests; closes the proxies, then `up`, after. */
export function useFakeUpstream(proxies: { dns?: boolean; env?: boolean } = {}): void {
  before(async () => {
    up = await startFakeUpstream();
    if (proxies.dns) f = await startProxy(up);
    if (proxies.env) env = await startProxy(up, { mode: 'env', timeoutMs: 500 });
  });
  after(async () => {
    if (proxies.dns) await f.proxy.close();
    if (proxies.env) await env.proxy.close();
    await up.close();
  });
}

/** curl with `host` resolved to `f`. */
export function curl(args: string[], host = 'hello') {
  return run('curl', ['-sS', '--resolve', `${host}:${f.port}:127.0.0.1`, ...args], { maxBuffer: 64 << 20 });
}
