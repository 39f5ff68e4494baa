// Prometheus's promtool, from Debian's prometheus package (.ci/run unpacks it to /opt/prometheus);
// undefined where it is absent, and the tests that need it skip saying so.
import { existsSync } from 'node:fs';

export const PROMTOOL = ['/usr/bin/promtool', '/opt/prometheus/usr/bin/promtool'].find((p) => existsSync(p));
