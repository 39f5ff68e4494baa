import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Config, parseConfig } from '../../src/config.ts';
import { decidePlan } from '../../src/domain/activation.ts';
import { RunsdError } from '../../src/errors.ts';

const cfg = (argv: string[], env: Record<string, string> = {}) =>
  (parseConfig([...argv, 'app'], env) as { config: Config }).config;

test('activation follows Cloud Run signals, root and mode', () => {
  const cases: [string, Config, boolean, string[], string][] = [
    ['off Cloud Run', cfg([]), true, ['10.0.0.2'], 'inactive'],
    ['K_SERVICE as root', cfg([], { K_SERVICE: 's' }), true, [], 'dns+dns+proxy'],
    ['K_SERVICE not root', cfg([], { K_SERVICE: 's' }), false, [], 'env+proxy'],
    ['job', cfg([], { CLOUD_RUN_JOB: 'j' }), true, [], 'dns+dns+proxy'],
    ['worker pool', cfg([], { CLOUD_RUN_WORKER_POOL: 'w' }), true, [], 'dns+dns+proxy'],
    ['metadata nameserver', cfg([]), true, ['169.254.169.254'], 'dns+dns+proxy'],
    ['explicit region', cfg(['-gcp_region=us-east1']), false, [], 'env+proxy'],
    ['forced env', cfg(['-mode=env']), true, [], 'env+proxy'],
    ['forced dns', cfg(['-mode=dns']), false, [], 'dns+dns+proxy'],
    ['skip dns', cfg(['-skip_dns_hijack'], { K_SERVICE: 's' }), true, [], 'dns+proxy'],
    ['skip proxy', cfg(['-skip_http_proxy'], { K_SERVICE: 's' }), true, [], 'dns+dns'],
    ['skip both', cfg(['-skip_http_proxy', '-skip_dns_hijack'], { K_SERVICE: 's' }), true, [], 'inactive'],
  ];
  for (const [name, config, root, ns, want] of cases) {
    const p = decidePlan(config, root, ns);
    const got = p.active
      ? [p.mode, p.dns && 'dns', p.proxy && 'proxy'].filter(Boolean).join('+')
      : 'inactive';
    assert.equal(got, want, name);
    assert.ok(p.reason.length > 0);
  }
});

test('PORT clashing with the proxy port is a clear error in DNS mode only', () => {
  assert.throws(
    () => decidePlan(cfg([], { K_SERVICE: 's', PORT: '80' }), true, []),
    (e: unknown) =>
      e instanceof RunsdError &&
      e.code === 'RUNSD_CONFIG' &&
      /PORT=80 clashes.*--port=8080.*-http_proxy_port/.test(e.message),
  );
  assert.equal(decidePlan(cfg([], { K_SERVICE: 's', PORT: '80' }), false, []).active, true); // env mode: free port
  assert.equal(
    decidePlan(cfg(['-http_proxy_port=81'], { K_SERVICE: 's', PORT: '80' }), true, []).active,
    true,
  );
});
