// Cloud Run region codes used in legacy service URLs https://SERVICE-HASH-CODE.a.run.app.
// Copied from shared/cloud-run-region-codes.tsv (sources: ahmetb/runsd regions.go (2021) and public
// configurations) so the data ships with the code. Deterministic URLs
// (https://SERVICE-NUMBER.REGION.run.app) need no code.
export const REGION_CODES: Readonly<Record<string, string>> = Object.freeze({
  'asia-east1': 'de',
  'asia-east2': 'df',
  'asia-northeast1': 'an',
  'asia-northeast2': 'dt',
  'asia-northeast3': 'du',
  'asia-south1': 'el',
  'asia-south2': 'em',
  'asia-southeast1': 'as',
  'asia-southeast2': 'et',
  'australia-southeast1': 'ts',
  'australia-southeast2': 'km',
  'europe-central2': 'lm',
  'europe-north1': 'lz',
  'europe-west1': 'ew',
  'europe-west2': 'nw',
  'europe-west3': 'ey',
  'europe-west4': 'ez',
  'europe-west6': 'oa',
  'northamerica-northeast1': 'nn',
  'southamerica-east1': 'rj',
  'us-central1': 'uc',
  'us-east1': 'ue',
  'us-east4': 'uk',
  'us-west1': 'uw',
  'us-west2': 'wl',
  'us-west3': 'wm',
  'us-west4': 'wn',
  'europe-southwest1': 'no',
  'europe-west8': 'oc',
  'europe-west9': 'od',
});

const BY_CODE: ReadonlyMap<string, string> = new Map(Object.entries(REGION_CODES).map(([r, c]) => [c, r]));

/** The two-letter code of a region, or undefined when the table does not know it. */
export function regionCode(region: string): string | undefined {
  return REGION_CODES[region];
}

/** The region of a two-letter code, or undefined. */
export function regionForCode(code: string): string | undefined {
  return BY_CODE.get(code);
}
