// `npm run emulator`: Cloud Run in a box on loopback, for developing apps that will run behind runsd.
// Prints the addresses, the CA path and the environment to use; stays up until Ctrl-C.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlServer } from './control.ts';
import { startEmulator } from './index.ts';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    'project-number': { type: 'string' },
    'project-hash': { type: 'string' },
    region: { type: 'string' },
    'dns-port': { type: 'string' },
    'frontend-port': { type: 'string' },
    'metadata-port': { type: 'string' },
    'control-port': { type: 'string' },
    'ca-path': { type: 'string' },
    'servfail-google-internal': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'usage: npm run emulator -- [--host 127.0.0.1] [--project-number N] [--project-hash H] [--region R]\n' +
      '         [--dns-port P] [--frontend-port P] [--metadata-port P] [--control-port P] [--ca-path FILE] [--servfail-google-internal]\n',
  );
  process.exit(0);
}
const port = (v: string | undefined) => (v === undefined ? undefined : Number(v));
const tmp = values['ca-path'] ? undefined : mkdtempSync(join(tmpdir(), 'runsd-emulator-'));
const caPath = values['ca-path'] ?? join(tmp!, 'ca.pem');

const emu = await startEmulator({
  host: values.host,
  ...(values['project-number'] ? { projectNumber: values['project-number'] } : {}),
  ...(values['project-hash'] ? { projectHash: values['project-hash'] } : {}),
  ...(values.region ? { region: values.region } : {}),
  metadata: { port: port(values['metadata-port']) },
  frontend: { port: port(values['frontend-port']) },
  dns: { port: port(values['dns-port']), servfailGoogleInternal: values['servfail-google-internal'] },
  caPath,
});
const control = await startControlServer(emu, { host: values.host, port: port(values['control-port']) });
const { dns, metadata, frontend } = emu;
const env = emu.env();
const example = frontend.url('hello', emu.region);
const out = [
  'runsd emulator: Cloud Run in a box (loopback only)',
  `  metadata server  ${metadata.url}   (stats: ${metadata.url}/emulator/stats, keys: ${metadata.url}/emulator/jwks)`,
  `  front end        https://${frontend.host}:${frontend.port}   (h2 + http/1.1; services: hello, world, public)`,
  `  upstream DNS     ${dns.address} (UDP+TCP)`,
  `  CA certificate   ${caPath}`,
  `  control          ${control.url}   (GET /report, GET|POST /knobs, POST /reset, POST /close-connections)`,
  `  project          number ${emu.projectNumber}, hash ${emu.projectHash}, region ${emu.region}`,
  '',
  'environment for runsd / your app:',
  ...Object.entries(env).map(([k, v]) => `  export ${k}=${v}`),
  '',
  'try:',
  `  TOKEN=$(curl -s -H 'Metadata-Flavor: Google' '${metadata.url}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${example}')`,
  `  curl --cacert ${caPath} --resolve ${new URL(example).host}:${frontend.port}:${frontend.host} -H "Authorization: Bearer $TOKEN" ${example}:${frontend.port}/`,
  `  dig @${dns.host} -p ${dns.port} ${new URL(example).host}`,
  '',
  'Ctrl-C to stop.',
];
process.stdout.write(out.join('\n') + '\n');

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await control.close();
  await emu.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
