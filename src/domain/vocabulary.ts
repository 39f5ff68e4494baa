// The words every part of runsd shares — modes, URL formats, where the token goes, what a region
// looks like — defined once so the config, the rooms and the emulator cannot drift apart.

/** -mode: auto picks dns or env from what the container allows (src/domain/activation.ts). */
export type Mode = 'auto' | 'dns' | 'env';
/** The mode runsd actually runs in once activated. */
export type ActiveMode = Exclude<Mode, 'auto'>;
/** -url_format: how a service name becomes its Cloud Run URL (src/domain/names.ts). */
export type UrlFormat = 'auto' | 'deterministic' | 'hash';
/** -auth_header: the header the ID token is sent in. */
export type AuthHeader = 'x-serverless-authorization' | 'authorization';

/**
 * A Cloud Run region, recognised by its shape and never by a table, so a region Google opens
 * tomorrow works without a release (test/domain/names.test.ts, test/config.test.ts).
 */
export const REGION_RE = /^[a-z]+-[a-z]+[0-9]+$/;

export function isRegion(label: string): boolean {
  return label.length <= 63 && REGION_RE.test(label);
}
