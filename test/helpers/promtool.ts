// Prometheus's promtool and server, from Debian's prometheus package (.ci/run unpacks it to /opt/prometheus);
// undefined where it is absent, and the tests that need it skip saying so.
import { existsSync } from 'node:fs';

export const PROMTOOL = ['/usr/bin/promtool', '/opt/prometheus/usr/bin/promtool'].find((p) => existsSync(p));

/** The Prometheus server binary from the same package (run by hand by a test, never as a service). */
export const PROMETHEUS = ['/usr/bin/prometheus', '/opt/prometheus/usr/bin/prometheus'].find((p) =>
  existsSync(p),
);
