// The ID token for an https:// target (straight to Cloud Run, no runsd in between): --token,
// --token-file, or the metadata server's identity endpoint (GCE_METADATA_HOST / GCE_METADATA_IP
// honoured, as Google's client libraries do), audience = the URL's origin. One token per run: an
// ID token lives an hour, and a load test that fetched one per request would measure the metadata
// server. Never logged.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { RunsdError } from '../../src/errors.ts';

const TIMEOUT_MS = 5000;

export function metadataHost(env: NodeJS.ProcessEnv): string {
  return env['GCE_METADATA_HOST'] || env['GCE_METADATA_IP'] || 'metadata.google.internal';
}

export function fetchIdToken(audience: string, host: string): Promise<string> {
  const path = `/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(audience)}&format=full`;
  const fail = (why: string) =>
    new RunsdError(
      'RUNSD_TOKEN_FETCH',
      `no ID token for ${audience} from the metadata server ${host}: ${why} (or pass --token/--token-file, or --no-token for a public service)`,
    );
  return new Promise((resolve, reject) => {
    const req = http.get(
      `http://${host}${path}`,
      { headers: { 'Metadata-Flavor': 'Google' }, timeout: TIMEOUT_MS },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(fail(`HTTP ${res.statusCode}`));
          else if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(text.trim())) reject(fail('the answer is not a JWT'));
          else resolve(text.trim());
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('error', (err) => reject(fail(err.message)));
  });
}

export interface TokenChoice {
  token: string | null;
  tokenFile: string | null;
  noToken: boolean;
}

/** The token to send to `url`, or null (http:// targets get theirs from runsd). */
export async function tokenFor(url: string, o: TokenChoice, env: NodeJS.ProcessEnv): Promise<string | null> {
  const u = new URL(url);
  if (u.protocol !== 'https:' || o.noToken) return null;
  if (o.token !== null) return o.token;
  if (o.tokenFile !== null) {
    try {
      return readFileSync(o.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new RunsdError('RUNSD_TOKEN_FETCH', `--token-file ${o.tokenFile}: ${(err as Error).message}`);
    }
  }
  return fetchIdToken(u.origin, metadataHost(env));
}
