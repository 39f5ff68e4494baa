// Parsing what the metadata server says about where we run. Pure.

/** `instance/region` answers `projects/NUMBER/regions/REGION`. */
export function parseRegionPath(text: string): { projectNumber: string; region: string } | null {
  const m = /^projects\/(\d+)\/regions\/([a-z0-9-]+)$/.exec(text.trim());
  if (!m) return null;
  return { projectNumber: m[1]!, region: m[2]! };
}

/** Where to reach the metadata server: `-metadata_host` / GCE_METADATA_HOST / GCE_METADATA_IP give
 * `HOST[:PORT]` (or a full URL); null means metadata.google.internal. Returns an origin URL. */
export function metadataOrigin(host: string): string {
  const h = host.trim();
  if (/^https?:\/\//i.test(h)) return new URL(h).origin;
  // A bare IPv6 address needs brackets to become a URL authority.
  if (h.includes(':') && !h.startsWith('[') && (h.match(/:/g)?.length ?? 0) > 1) return `http://[${h}]`;
  return new URL(`http://${h}`).origin;
}
