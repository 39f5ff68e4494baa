// The TLS server name sent upstream (src/net/server-name.ts): a host name as is; no SNI ('') for an
// IP literal, which RFC 6066 §3 forbids in SNI.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverName } from '../../src/net/server-name.ts';

const CASES: [host: string, sni: string][] = [
  ['hello-123456789012.us-central1.run.app', 'hello-123456789012.us-central1.run.app'],
  ['api.custom.test', 'api.custom.test'],
  ['localhost', 'localhost'],
  // IPv4 and IPv6 literals (IPv6 without brackets, as routes.ts keeps it)
  ['10.0.0.5', ''],
  ['127.0.0.1', ''],
  ['::1', ''],
  ['fd00::5', ''],
  ['2001:db8::8a2e:370:7334', ''],
  ['::ffff:10.0.0.5', ''],
  // digits and dots that are no IP address: a (strange) name, sent as given
  ['1.2.3', '1.2.3'],
  ['10.0.0.256', '10.0.0.256'],
  ['1.2.3.4.5', '1.2.3.4.5'],
  // names that start like an address
  ['10.0.0.5.nip.io', '10.0.0.5.nip.io'],
  ['0x0a000005', '0x0a000005'],
];

test('SNI: the host name, or none for an IP literal', () => {
  for (const [host, sni] of CASES) assert.equal(serverName(host), sni, host);
});
