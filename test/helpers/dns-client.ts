// Test-side DNS client over real sockets (node:dgram / node:net) with dns-packet, and a loose view
// of decoded messages (dns-packet's types are a union that is awkward to assert on).
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import * as dnsPacket from 'dns-packet';

export interface Rr {
  name: string;
  type: string;
  class: string;
  ttl: number;
  data: unknown;
  udpPayloadSize?: number;
  options?: { code: number; data?: Buffer }[];
}
export interface Msg {
  id: number;
  rcode: string;
  flags: number;
  flag_qr: boolean;
  flag_aa: boolean;
  flag_tc: boolean;
  flag_rd: boolean;
  flag_ra: boolean;
  questions: { name: string; type: string; class: string }[];
  answers: Rr[];
  authorities: Rr[];
  additionals: Rr[];
}

export function decode(buf: Uint8Array): Msg {
  return dnsPacket.decode(Buffer.from(buf)) as unknown as Msg;
}

export interface QueryOptions {
  id?: number;
  edns?: boolean | number;
  ednsOptions?: { code: number; data: Buffer }[];
  rd?: boolean;
}

export function encodeQuery(name: string, type = 'A', o: QueryOptions = {}): Buffer {
  const p: dnsPacket.Packet = {
    id: o.id ?? Math.floor(Math.random() * 65536),
    type: 'query',
    flags: o.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: type as 'A', class: 'IN' }],
  };
  if (o.edns !== undefined && o.edns !== false) {
    p.additionals = [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: typeof o.edns === 'number' ? o.edns : 1232,
        flags: 0,
        options: o.ednsOptions ?? [],
      } as never,
    ];
  }
  return dnsPacket.encode(p);
}

/** Sends raw bytes over UDP and waits for one reply (or null after timeoutMs). */
export function udpRaw(
  port: number,
  msg: Uint8Array,
  host = '127.0.0.1',
  timeoutMs = 3000,
): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(null);
    }, timeoutMs);
    s.on('error', (e) => {
      clearTimeout(t);
      s.close();
      reject(e);
    });
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, host);
  });
}

export async function udpQuery(
  port: number,
  name: string,
  type = 'A',
  o: QueryOptions = {},
  host = '127.0.0.1',
): Promise<Msg> {
  const r = await udpRaw(port, encodeQuery(name, type, o), host);
  if (!r) throw new Error(`no UDP answer for ${name} ${type}`);
  return decode(r);
}

/** Sends length-prefixed messages on one TCP connection; resolves with every reply received until close/timeout. */
export function tcpRaw(
  port: number,
  payload: Uint8Array,
  expect: number,
  host = '127.0.0.1',
  timeoutMs = 3000,
): Promise<{ replies: Buffer[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const sock = connect({ port, host });
    const done = (closed: boolean) => {
      clearTimeout(t);
      sock.destroy();
      resolve({ replies, closed });
    };
    const t = setTimeout(() => done(false), timeoutMs);
    sock.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        replies.push(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
      }
      if (replies.length >= expect) done(false);
    });
    sock.on('close', () => done(true));
    sock.write(payload);
  });
}

export function frame(msg: Uint8Array): Buffer {
  const b = Buffer.alloc(2 + msg.length);
  b.writeUInt16BE(msg.length, 0);
  b.set(msg, 2);
  return b;
}

export async function tcpQuery(
  port: number,
  name: string,
  type = 'A',
  o: QueryOptions = {},
  host = '127.0.0.1',
): Promise<Msg> {
  const { replies } = await tcpRaw(port, frame(encodeQuery(name, type, o)), 1, host);
  const r = replies[0];
  if (!r) throw new Error(`no TCP answer for ${name} ${type}`);
  return decode(r);
}
