// The token room's settings slice (built by the supervisor from Config; see room-settings.ts).
export interface TokenSettings {
  /** `-metadata_host`, else GCE_METADATA_HOST / GCE_METADATA_IP; null = metadata.google.internal. */
  metadataHost: string | null;
  /** The original nameservers, used to resolve metadata.google.internal (never runsd's own DNS). */
  upstreams: string[];
  /** CLOUD_RUN_ID_TOKEN: used as-is for every audience. */
  staticToken: string | null;
  /** Identity calls in flight at most (p-queue concurrency). */
  maxConcurrent: number;
  refreshAheadSec: number;
  idleSec: number;
  /** Per metadata HTTP request. */
  timeoutMs: number;
}
