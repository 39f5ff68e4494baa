// Cloud Run in a box: the metadata server, the HTTPS front end and the upstream DNS, wired together
// (DNS answers *.run.app with the front end and metadata.google.internal with the metadata server;
// the front end verifies tokens with the metadata server's keys).
import { type DnsQuery, startUpstreamDns, type UpstreamDns, type UpstreamDnsOptions } from './dns.ts';
import {
  type Frontend,
  type FrontendOptions,
  type FrontendRequest,
  type FrontendStats,
  startFrontend,
} from './frontend.ts';
import { ADMIN_API_HOST } from './frontend-admin.ts';
import {
  type MetadataOptions,
  type MetadataServer,
  type MetadataStats,
  startMetadataServer,
} from './metadata.ts';

export { ECHO_PROTO_PATH } from './echo-proto.ts';

export interface EmulatorOptions {
  projectNumber?: string;
  projectHash?: string;
  projectId?: string;
  /** the region of "this" service (metadata instance/region); also the front end's first region */
  region?: string;
  /** front-end regions (default: [region, europe-west1]) */
  regions?: string[];
  /** default host of all three (loopback) */
  host?: string;
  metadata?: Omit<MetadataOptions, 'projectNumber' | 'projectId' | 'region'>;
  frontend?: Partial<Omit<FrontendOptions, 'projectNumber' | 'projectHash' | 'jwks'>>;
  dns?: Partial<UpstreamDnsOptions>;
  /** write the front end's CA certificate (PEM) there */
  caPath?: string;
}

export interface EmulatorReport {
  dnsQueries: DnsQuery[];
  identityCalls: Record<string, number>;
  metadata: MetadataStats;
  frontendRequests: FrontendRequest[];
  frontend: FrontendStats;
}

export interface Emulator {
  dns: UpstreamDns;
  metadata: MetadataServer;
  frontend: Frontend;
  projectNumber: string;
  projectHash: string;
  region: string;
  /** environment for a runsd (or an app) that should use this emulator */
  env(): Record<string, string>;
  report(): EmulatorReport;
  close(): Promise<void>;
}

export const DEFAULTS = { projectNumber: '123456789012', projectHash: 'emu7q3xkza', region: 'us-central1' };

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const projectNumber = opts.projectNumber ?? DEFAULTS.projectNumber;
  const projectHash = opts.projectHash ?? DEFAULTS.projectHash;
  const region = opts.region ?? DEFAULTS.region;
  const host = opts.host ?? '127.0.0.1';
  // metadata and front end start together (each generates RSA keys on the thread pool)
  let metadata: MetadataServer | undefined;
  const [mdResult, feResult] = await Promise.allSettled([
    startMetadataServer({
      host,
      ...opts.metadata,
      projectNumber,
      region,
      ...(opts.projectId ? { projectId: opts.projectId } : {}),
    }).then((m) => {
      metadata = m;
      return m;
    }),
    startFrontend({
      host,
      regions: opts.regions ?? [...new Set([region, 'europe-west1'])],
      ...opts.frontend,
      projectNumber,
      projectHash,
      ...(opts.projectId ? { projectId: opts.projectId } : {}),
      jwks: () => metadata?.jwks() ?? { keys: [] },
      ...(opts.caPath ? { caPath: opts.caPath } : {}),
    }),
  ]);
  const started: { close(): Promise<void> }[] = [];
  for (const r of [mdResult, feResult]) if (r.status === 'fulfilled') started.push(r.value);
  try {
    if (mdResult.status === 'rejected') throw mdResult.reason;
    if (feResult.status === 'rejected') throw feResult.reason;
    const frontend = feResult.value;
    const md = mdResult.value;
    const dns = await startUpstreamDns({
      host,
      frontendAddress: frontend.host,
      metadataAddress: md.host,
      frontendNames: [ADMIN_API_HOST, ...frontend.domains],
      ...opts.dns,
    });
    started.push(dns);
    return {
      dns,
      metadata: md,
      frontend,
      projectNumber,
      projectHash,
      region,
      env: () => ({
        GCE_METADATA_HOST: md.hostPort,
        CLOUD_RUN_PROJECT_HASH: projectHash,
        ...(frontend.caPath ? { NODE_EXTRA_CA_CERTS: frontend.caPath } : {}),
      }),
      report: () => ({
        dnsQueries: [...dns.queries],
        identityCalls: md.stats().identityCalls,
        metadata: md.stats(),
        frontendRequests: [...frontend.log],
        frontend: frontend.stats(),
      }),
      close: async () => {
        await Promise.all(started.map((s) => s.close()));
      },
    };
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
}
