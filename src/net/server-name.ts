// The TLS server name (SNI) runsd sends upstream. RFC 6066 §3: "Literal IPv4 and IPv6 addresses
// are not permitted in HostName" — so a -route to an IP (`https://10.0.0.5:8443`) sends none (Node
// also warns, DEP0123, when told to). The certificate is still checked, against the IP: Node's
// tls.connect checks `servername || host`, and an https.Agent keeps an empty servername as given.
import net from 'node:net';

/** Could be an IP literal: digits and dots, or a colon (never in a DNS name; IPv6 comes without
 * brackets here). Only then is net.isIP asked, so a host name never pays for compiling its IPv6
 * regular expression (~4 ms once per thread, src/net/literal-address.ts). */
const MAYBE_IP = /^[0-9.]+$|:/;

/** The SNI for `host` (brackets already stripped): the host itself, or '' (none) for an IP literal. */
export function serverName(host: string): string {
  return MAYBE_IP.test(host) && net.isIP(host) !== 0 ? '' : host;
}
