// Shared set-up for front-end tests: a metadata server (token minting + keys) and a front end.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Frontend, type FrontendOptions, startFrontend } from '../../src/emulator/frontend.ts';
import { type MetadataServer, startMetadataServer } from '../../src/emulator/metadata.ts';

export const run = promisify(execFile);
export const NUMBER = '123456';
export const HASH = 'q7x2kzpmta';
export const HELLO = `hello-${NUMBER}.us-central1.run.app`;

export interface Bed {
  md: MetadataServer;
  fe: Frontend;
  caFile: string;
  token(aud: string): Promise<string>;
  curl(args: string[], host?: string): Promise<string>;
}

export async function startBed(
  t: { after(fn: () => unknown): void },
  extra: Partial<FrontendOptions> = {},
): Promise<Bed> {
  const md = await startMetadataServer({ projectNumber: NUMBER });
  const dir = mkdtempSync(join(tmpdir(), 'emu-test-'));
  const fe = await startFrontend({
    projectNumber: NUMBER,
    projectHash: HASH,
    jwks: md.jwks,
    caPath: join(dir, 'ca.pem'),
    ...extra,
  });
  t.after(async () => {
    await fe.close();
    await md.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const token = async (aud: string) => {
    const r = await fetch(
      `${md.url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(aud)}&format=full`,
      { headers: { 'Metadata-Flavor': 'Google' } },
    );
    return r.text();
  };
  const curl = async (args: string[], host = HELLO) => {
    const { stdout } = await run('curl', [
      '-sS',
      '--max-time',
      '10',
      '--cacert',
      fe.caPath!,
      '--resolve',
      `${host}:${fe.port}:127.0.0.1`,
      ...args.map((a) => a.replace('HOST', `${host}:${fe.port}`)),
    ]);
    return stdout;
  };
  return { md, fe, caFile: fe.caPath!, token, curl };
}
