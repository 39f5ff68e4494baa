// -access_log: one JSON line per proxied request, in Cloud Logging's httpRequest structure
// (https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry#httprequest), so Cloud Run's
// log collector shows each outbound call like its own request logs, and with the trace of the app's
// request that made it. Never a header value that may be a credential: only the method, URL,
// status, sizes, user agent and timing, plus runsd's own error code (test/workers/proxy/access-log.test.ts).
import type { Headers } from '../../src/domain/http-headers.ts';

export interface AccessEntry {
  method: string;
  /** the URL the app asked for: http://AUTHORITY/PATH */
  url: string;
  protocol: string;
  status: number;
  latencySeconds: number;
  requestHeaders: Headers;
  responseSize: number;
  /** The Cloud Run service and the upstream host, for a service route. */
  service?: string;
  upstream?: string;
  /** x-runsd-error when runsd made the answer. */
  runsdError?: string;
}

export function accessLine(e: AccessEntry, projectId: string | null): string {
  const h = e.requestHeaders;
  const cl = Number(h['content-length']);
  const ua = h['user-agent'];
  const out: Record<string, unknown> = {
    severity: e.status >= 500 ? 'ERROR' : e.status >= 400 ? 'WARNING' : 'INFO',
    message: `${e.method} ${e.url} ${e.status}${e.runsdError ? ` ${e.runsdError}` : ''}`,
    httpRequest: {
      requestMethod: e.method,
      requestUrl: e.url,
      status: e.status,
      latency: `${e.latencySeconds.toFixed(6)}s`,
      protocol: e.protocol,
      ...(Number.isFinite(cl) && cl >= 0 ? { requestSize: String(cl) } : {}),
      responseSize: String(e.responseSize),
      ...(typeof ua === 'string' ? { userAgent: ua.slice(0, 512) } : {}),
    },
    ...(e.service ? { service: e.service, upstream: e.upstream } : {}),
    ...(e.runsdError ? { runsdError: e.runsdError } : {}),
    time: new Date().toISOString(),
    'logging.googleapis.com/labels': { component: 'runsd-proxy' },
  };
  const t = traceOf(h);
  if (t && projectId) {
    out['logging.googleapis.com/trace'] = `projects/${projectId}/traces/${t.trace}`;
    if (t.span) out['logging.googleapis.com/spanId'] = t.span;
    out['logging.googleapis.com/trace_sampled'] = t.sampled;
  }
  return `${JSON.stringify(out)}\n`;
}

/** The app request's trace: W3C traceparent first, else Google's X-Cloud-Trace-Context. */
export function traceOf(h: Headers): { trace: string; span: string | null; sampled: boolean } | null {
  const tp = h['traceparent'];
  if (typeof tp === 'string') {
    const m = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(tp.trim().toLowerCase());
    if (m && !/^0+$/.test(m[1]!))
      return { trace: m[1]!, span: m[2]!, sampled: (Number.parseInt(m[3]!, 16) & 1) === 1 };
  }
  const xc = h['x-cloud-trace-context'];
  if (typeof xc === 'string') {
    // TRACE_ID/SPAN_ID;o=OPTIONS, the span in decimal (Cloud Logging wants 16 hex digits).
    const m = /^([0-9a-fA-F]{32})(?:\/(\d+))?(?:;o=([01]))?$/.exec(xc.trim());
    if (m) {
      const span = m[2] ? BigInt(m[2]).toString(16).padStart(16, '0').slice(-16) : null;
      return { trace: m[1]!.toLowerCase(), span, sampled: m[3] === '1' };
    }
  }
  return null;
}
