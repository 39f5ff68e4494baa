// One query to a nameserver over TCP (a truncated UDP answer, or a query that came over TCP): a
// fresh connection per attempt, the 2-byte length framing of RFC 1035 §4.2.2, and a reply that must
// carry the query's ID and question (forwarder.ts drives it).
import { connect } from 'node:net';
import { questionNameSpan, readId, writeId } from '../../src/domain/dns-wire.ts';
import type { Nameserver } from '../../src/domain/nameserver.ts';
import { RunsdError } from '../../src/errors.ts';

const MAX_TCP_MESSAGE = 65535;

export function tcpExchange(
  ns: Nameserver,
  query: Uint8Array,
  id: number,
  timeoutMs: number,
  onBadReply: () => void,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const q = Buffer.alloc(query.length + 2);
    q.writeUInt16BE(query.length, 0);
    q.set(query, 2);
    writeId(q.subarray(2), id);
    const sock = connect({ host: ns.host, port: ns.port });
    let buf = Buffer.alloc(0);
    const finish = (err: Error | null, reply?: Buffer) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply as Buffer);
    };
    const timer = setTimeout(
      () => finish(new RunsdError('RUNSD_UPSTREAM_TIMEOUT', `${ns.label}: no TCP answer`)),
      timeoutMs,
    );
    sock.on('connect', () => sock.write(q));
    sock.on('error', (e) => finish(new RunsdError('RUNSD_UPSTREAM_CONNECT', `${ns.label}: ${e.message}`)));
    sock.on('close', () =>
      finish(new RunsdError('RUNSD_UPSTREAM_RESET', `${ns.label}: closed before answering`)),
    );
    sock.on('data', (d) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (len > MAX_TCP_MESSAGE || buf.length < 2 + len) return;
      const reply = buf.subarray(2, 2 + len);
      if (reply.length < 12 || readId(reply) !== id || !sameQuestion(q.subarray(2), reply)) {
        onBadReply();
        finish(new RunsdError('RUNSD_DNS_UPSTREAM', `${ns.label}: reply does not match the query`));
        return;
      }
      finish(null, Buffer.from(reply));
    });
  });
}

export /** Same question name (case-insensitive) and type/class. */
function sameQuestion(query: Uint8Array, reply: Uint8Array): boolean {
  const a = questionNameSpan(query);
  const b = questionNameSpan(reply);
  if (!a || !b || a[1] - a[0] !== b[1] - b[0]) return false;
  for (let i = 0; i < a[1] - a[0] + 4; i++) {
    let x = query[a[0] + i] ?? 0;
    let y = reply[b[0] + i] ?? 0;
    if (x >= 0x41 && x <= 0x5a) x |= 0x20;
    if (y >= 0x41 && y <= 0x5a) y |= 0x20;
    if (x !== y) return false;
  }
  return true;
}
