// Shapes of the names runsd answers itself. Regions are recognised by their shape, never by a
// table, so a region Google opens tomorrow works without a release. Service names follow Cloud
// Run's rules: lower-case letters, digits and hyphens, starting with a letter, not ending with a
// hyphen. Cloud Run caps new names at 49 characters, but services created under the older 63-char
// limit still exist, so any valid DNS label (≤ 63) is accepted.

const SERVICE_RE = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export { isRegion } from './vocabulary.ts';

export function isServiceName(label: string): boolean {
  return SERVICE_RE.test(label);
}

/** Lower-cases a name and gives it exactly one trailing dot ("" and "." are the root). */
export function canonicalName(name: string): string {
  const lower = name.toLowerCase();
  if (lower === '' || lower === '.') return '.';
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** The labels of `name` in front of `zone` (both canonical), or null when name is not inside zone. */
export function labelsBelow(name: string, zone: string): string[] | null {
  if (zone === '.') return name === '.' ? [] : name.slice(0, -1).split('.');
  if (name === zone) return [];
  if (!name.endsWith(`.${zone}`)) return null;
  return name.slice(0, -(zone.length + 1)).split('.');
}
