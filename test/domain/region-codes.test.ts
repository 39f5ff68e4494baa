import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { REGION_CODES, regionCode, regionForCode } from '../../src/domain/region-codes.ts';

const TSV = new URL('../../../shared/cloud-run-region-codes.tsv', import.meta.url);

test('region codes: lookups both ways, codes unique', () => {
  assert.equal(regionCode('us-central1'), 'uc');
  assert.equal(regionCode('europe-west1'), 'ew');
  assert.equal(regionForCode('uc'), 'us-central1');
  assert.equal(regionCode('mars-north1'), undefined);
  assert.equal(regionForCode('zz'), undefined);
  const codes = Object.values(REGION_CODES);
  assert.equal(new Set(codes).size, codes.length);
});

test('region codes match shared/cloud-run-region-codes.tsv when it is beside the clone', {
  skip: !existsSync(TSV),
}, () => {
  const rows = readFileSync(TSV, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#') && !l.startsWith('region\t'))
    .map((l) => l.split('\t') as [string, string]);
  assert.deepEqual(REGION_CODES, Object.fromEntries(rows));
});
