// Property tests (fast-check) for host → service routing (src/domain/names.ts): arbitrary strings
// and generated host shapes. parseHost only ever throws RUNSD_BAD_HOST; a service is always the
// first label the string named; an external result is never an internal name; serviceUrl only
// throws RUNSD_FACT_MISSING / RUNSD_BAD_HOST and otherwise returns a run.app origin for that
// service. Seeded runs (modest counts: the whole file takes well under a second).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseHost, serviceUrl, splitHostPort, type UrlContext } from '../../src/domain/names.ts';
import { REGION_RE } from '../../src/domain/vocabulary.ts';
import { RunsdError } from '../../src/errors.ts';

const RUNS = { numRuns: Number(process.env['FC_RUNS'] ?? 2000), seed: Number(process.env['FC_SEED'] ?? 12) };
const DOMAIN = 'run.internal.';
const ZONE = 'run.internal';
const SERVICE_RE = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/** Hosts built from the pieces that matter: labels, regions, the zone, dots, ports, brackets, case. */
const label = fc.oneof(
  fc.constantFrom('hello', 'my-svc', 'a', 'x1', 'api', 'localhost', 'run', 'internal', '-bad', 'bad-', '1st'),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,70}$/),
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '_', '.', ':', '[', ']', '%', ' '), maxLength: 8 }),
);
const region = fc.oneof(
  fc.constantFrom('us-central1', 'europe-west4', 'northamerica-northeast1', 'us-central', 'US-CENTRAL1'),
  fc.stringMatching(/^[a-z]{1,8}-[a-z]{1,8}[0-9]{1,2}$/),
);
/** Regions as parseHost hands them over (and as the metadata server's facts are checked). */
const validRegion = region.filter((r) => REGION_RE.test(r));
const suffix = fc.constantFrom(
  '',
  `.${ZONE}`,
  `.${ZONE}.`,
  '.',
  '.example.com',
  '.RUN.Internal',
  `.corp.${ZONE}`,
);
const port = fc.oneof(
  fc.constant(''),
  fc.integer({ min: 0, max: 99999 }).map((p) => `:${p}`),
  fc.constant(':'),
);
const shapedHost = fc
  .tuple(fc.array(fc.oneof(label, region), { minLength: 0, maxLength: 4 }), suffix, port, fc.boolean())
  .map(([labels, sfx, p, upper]) => {
    const h = `${labels.join('.')}${sfx}${p}`;
    return upper ? h.toUpperCase() : h;
  });
const anyHost = fc.oneof(
  shapedHost,
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);

function isInternal(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === ZONE || h.endsWith(`.${ZONE}`);
}

test('parseHost: throws nothing but RUNSD_BAD_HOST; a service is the first label it was given', () => {
  fc.assert(
    fc.property(anyHost, (raw) => {
      let t: ReturnType<typeof parseHost>;
      try {
        t = parseHost(raw, DOMAIN);
      } catch (err) {
        assert.ok(err instanceof RunsdError, `not a RunsdError: ${String(err)}`);
        assert.equal(err.code, 'RUNSD_BAD_HOST');
        return;
      }
      const name = splitHostPort(raw).name;
      if (t.kind === 'service') {
        assert.match(t.service, SERVICE_RE);
        assert.ok(t.service.length <= 49);
        const tagged = t.tag === undefined ? t.service : `${t.tag}---${t.service}`;
        assert.equal(tagged, name.split('.')[0], 'the [TAG---]service is the first label of the name');
        if (t.region !== null) {
          assert.match(t.region, REGION_RE);
          assert.equal(t.region, name.split('.')[1], 'the region is the second label');
        }
        const rest = name.split('.').slice(t.region === null ? 1 : 2);
        assert.ok(rest.length === 0 || rest.join('.') === ZONE, `only the zone may follow: ${name}`);
      } else {
        assert.equal(t.host, name);
        assert.ok(!isInternal(t.host), `an external result is never an internal name: ${t.host}`);
      }
    }),
    RUNS,
  );
});

test('parseHost: every well-formed internal name is a service route, in any case, with or without a port', () => {
  // "---" in a first label is Cloud Run's tag separator (TAG---SERVICE), tested on its own.
  const service = fc.stringMatching(/^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$/).filter((s) => !s.includes('---'));
  fc.assert(
    fc.property(
      service,
      fc.option(validRegion),
      fc.constantFrom('', `.${ZONE}`, `.${ZONE}.`),
      fc.option(fc.integer({ min: 1, max: 65535 })),
      fc.boolean(),
      (svc, reg, sfx, p, upper) => {
        const raw0 = `${svc}${reg === null ? '' : `.${reg}`}${sfx}${p === null ? '' : `:${p}`}`;
        const raw = upper ? raw0.toUpperCase() : raw0;
        const want = { kind: 'service', service: svc, region: reg };
        if (svc === 'localhost' && reg === null && sfx === '') return; // localhost is external
        assert.deepEqual(parseHost(raw, DOMAIN), want, raw);
      },
    ),
    RUNS,
  );
});

const ctx: fc.Arbitrary<UrlContext> = fc.record({
  urlFormat: fc.constantFrom('auto', 'hash', 'deterministic'),
  projectHash: fc.option(fc.stringMatching(/^[a-z0-9]{4,12}$/)),
  projectNumber: fc.option(fc.stringMatching(/^[0-9]{1,16}$/)),
  ownRegion: fc.option(validRegion),
});

test('serviceUrl: a run.app origin for that service and region, or RUNSD_FACT_MISSING / RUNSD_BAD_HOST', () => {
  // "---" in a first label is Cloud Run's tag separator (TAG---SERVICE), tested on its own.
  const service = fc.stringMatching(/^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$/).filter((s) => !s.includes('---'));
  fc.assert(
    fc.property(service, fc.option(validRegion), ctx, (svc, reg, c) => {
      let url: string;
      try {
        url = serviceUrl(svc, reg, c);
      } catch (err) {
        assert.ok(err instanceof RunsdError, `not a RunsdError: ${String(err)}`);
        assert.ok(['RUNSD_FACT_MISSING', 'RUNSD_BAD_HOST'].includes(err.code), err.code);
        return;
      }
      const where = reg ?? c.ownRegion;
      const m = /^https:\/\/([a-z0-9-]{1,63})\.(?:a|([a-z]+-[a-z]+[0-9]+))\.run\.app$/.exec(url);
      assert.ok(m, `audience shape: ${url}`);
      const [, lab, urlRegion] = m;
      assert.ok(lab?.startsWith(`${svc}-`), `the label names the service: ${url}`);
      if (urlRegion !== undefined) {
        assert.equal(urlRegion, where);
        assert.equal(lab, `${svc}-${c.projectNumber}`);
      } else {
        assert.ok(lab?.startsWith(`${svc}-${c.projectHash}-`), url);
      }
    }),
    RUNS,
  );
});
