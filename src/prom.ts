// prom-client's classes, without its index: the index also loads the Pushgateway, which requires
// node:http, https, zlib and url — ~30 ms of start-up CPU in every thread that imports prom-client
// (--cpu-prof of each room; docs/startup.md). Every runsd module imports prom-client from here.
import AggregatorRegistry from 'prom-client/lib/cluster.js';
import Counter from 'prom-client/lib/counter.js';
import collectDefaultMetrics from 'prom-client/lib/defaultMetrics.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';

export { AggregatorRegistry, Counter, collectDefaultMetrics, Gauge, Histogram, Registry };
