// Decides what runsd does in this container: nothing but run the child (off Cloud Run), DNS mode
// (resolv.conf + DNS + proxy on :80, needs root) or env mode (HTTP_PROXY on a free port). Pure.
import { type Config, cloudRunEnvSignal } from '../config.ts';
import { RunsdError } from '../errors.ts';
import type { ActiveMode } from './vocabulary.ts';

export const METADATA_IP = '169.254.169.254';

export type Plan =
  | { active: false; reason: string }
  | { active: true; mode: ActiveMode; dns: boolean; proxy: boolean; reason: string };

export function cloudRunSignal(config: Config, nameservers: readonly string[]): string | null {
  const env = cloudRunEnvSignal(config.env);
  if (env !== null) return env;
  if (nameservers.includes(METADATA_IP)) return `nameserver ${METADATA_IP} in resolv.conf`;
  if (config.region) return `-gcp_region=${config.region}`;
  return null;
}

export function decidePlan(config: Config, isRoot: boolean, nameservers: readonly string[]): Plan {
  const signal = cloudRunSignal(config, nameservers);
  if (config.mode === 'auto' && signal === null) {
    return {
      active: false,
      reason:
        'not on Cloud Run (no K_SERVICE, CLOUD_RUN_JOB, CLOUD_RUN_WORKER_POOL, metadata nameserver or -gcp_region); only running the command',
    };
  }
  const mode = config.mode === 'auto' ? (isRoot ? 'dns' : 'env') : config.mode;
  const dns = mode === 'dns' && !config.skipDnsHijack;
  const proxy = !config.skipHttpProxy;
  const why =
    config.mode === 'auto' ? `${signal}; ${isRoot ? 'root' : 'not root'} → ${mode} mode` : `-mode=${mode}`;
  if (
    mode === 'dns' &&
    proxy &&
    config.env.port !== null &&
    Number(config.env.port) === config.httpProxyPort
  ) {
    throw new RunsdError(
      'RUNSD_CONFIG',
      `runsd: PORT=${config.env.port} clashes with the runsd proxy on port ${config.httpProxyPort}: ` +
        `serve your app on another port (Cloud Run: gcloud run deploy --port=8080) or move the proxy with -http_proxy_port`,
    );
  }
  if (!dns && !proxy)
    return {
      active: false,
      reason: 'both -skip_dns_hijack and -skip_http_proxy given; only running the command',
    };
  return { active: true, mode, dns, proxy, reason: why };
}
