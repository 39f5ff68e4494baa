// Where the worker entries and the exec-as helper live: next to the source when run from src/
// (type stripping), or next to dist/runsd.mjs when run from the esbuild bundle (scripts/build.ts
// defines RUNSD_BUNDLED=true there; from source the identifier is simply undeclared).
declare const RUNSD_BUNDLED: boolean | undefined;

export const bundled = typeof RUNSD_BUNDLED !== 'undefined' && RUNSD_BUNDLED;

export function workerEntry(room: string): URL {
  return bundled
    ? new URL(`./workers/${room}.mjs`, import.meta.url)
    : new URL(`../../workers/${room}/worker.ts`, import.meta.url);
}

export function execAsEntry(): URL {
  return bundled ? new URL('./exec-as.mjs', import.meta.url) : new URL('./exec-as.ts', import.meta.url);
}

/** The DNS room's extra listener threads (workers/dns/helper.ts); bundled as workers/dns-helper.mjs. */
export function dnsHelperEntry(): URL {
  // From the bundle, import.meta.url is dist/workers/dns.mjs (this module is inlined there).
  return bundled
    ? new URL('./dns-helper.mjs', import.meta.url)
    : new URL('../../workers/dns/helper.ts', import.meta.url);
}
