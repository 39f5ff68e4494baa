// HPACK for the load tool's HTTP/2 client: RFC 7541's own examples (Appendix C), every byte value
// through the Huffman code, and each malformed input refused with a reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeHeaderBlock, HpackDecoder, requestBlocks, tableSizeUpdate } from '../../src/domain/hpack.ts';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode } from '../../src/domain/hpack-huffman.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const decodeAll = (d: HpackDecoder, block: Uint8Array) => {
  const out: [string, string][] = [];
  d.decode(block, (n, v) => out.push([n, v]));
  return out;
};

/** the test's own encoder: codes packed MSB first, padded with ones */
function huffmanEncode(s: string): Buffer {
  let bits = '';
  for (const ch of Buffer.from(s, 'latin1'))
    bits += (HUFFMAN_CODES[ch] as number).toString(2).padStart(HUFFMAN_LENGTHS[ch] as number, '0');
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '1');
  return Buffer.from(bits.match(/.{8}/g)?.map((b) => Number.parseInt(b, 2)) ?? []);
}

test('Huffman: RFC 7541 C.4 and C.6 strings', () => {
  const cases: [string, string][] = [
    ['f1e3 c2e5 f23a 6ba0 ab90 f4ff', 'www.example.com'],
    ['a8eb 1064 9cbf', 'no-cache'],
    ['25a8 49e9 5ba9 7d7f', 'custom-key'],
    ['25a8 49e9 5bb8 e8b4 bf', 'custom-value'],
    ['6402', '302'],
    ['aec3 771a 4b', 'private'],
    ['d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
    ['9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3', 'https://www.example.com'],
  ];
  for (const [bytes, text] of cases) {
    const b = hex(bytes);
    assert.equal(huffmanDecode(b, 0, b.length), text);
    assert.deepEqual(huffmanEncode(text), b, text);
  }
});

test('Huffman: all 256 byte values, each alone and all together, round-trip', () => {
  const all = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i));
  for (const s of [...all, all.join(''), all.reverse().join('')]) {
    const b = huffmanEncode(s);
    assert.equal(huffmanDecode(b, 0, b.length), s);
  }
});

test('Huffman: bad padding and EOS are refused', () => {
  // "a" (00011) then 3 one-bits is fine; the same with zero padding, or a whole byte of ones, is not
  assert.equal(huffmanDecode(hex('1f'), 0, 1), 'a');
  assert.throws(() => huffmanDecode(hex('18'), 0, 1), /invalid code or padding/);
  assert.throws(() => huffmanDecode(hex('1fff'), 0, 2), /invalid code or padding/);
  assert.throws(() => huffmanDecode(hex('ffff ffff'), 0, 4), /EOS in a string/);
});

test('HPACK: RFC 7541 C.3 and C.4 request sequences (dynamic table carried across blocks)', () => {
  for (const blocks of [
    [
      '8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d',
      '8286 84be 5808 6e6f 2d63 6163 6865',
      '8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65',
    ],
    [
      '8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff',
      '8286 84be 5886 a8eb 1064 9cbf',
      '8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf',
    ],
  ]) {
    const d = new HpackDecoder();
    const got = blocks.map((b) => decodeAll(d, hex(b)));
    assert.deepEqual(got, [
      [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/'],
        [':authority', 'www.example.com'],
      ],
      [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/'],
        [':authority', 'www.example.com'],
        ['cache-control', 'no-cache'],
      ],
      [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':path', '/index.html'],
        [':authority', 'www.example.com'],
        ['custom-key', 'custom-value'],
      ],
    ]);
  }
});

test('HPACK: eviction keeps indexes right when the table is small', () => {
  // a 64-byte table holds one 42-byte entry ("custom-key"/"custom-value" + 32): each add evicts
  const d = new HpackDecoder(64);
  const lit = (n: string, v: string) =>
    Buffer.concat([Buffer.from([0x40, n.length]), Buffer.from(n), Buffer.from([v.length]), Buffer.from(v)]);
  assert.deepEqual(decodeAll(d, Buffer.concat([lit('aaaa', 'one'), Buffer.from([0xbe])])), [
    ['aaaa', 'one'],
    ['aaaa', 'one'],
  ]);
  assert.deepEqual(decodeAll(d, Buffer.concat([lit('bbbb', 'two'), Buffer.from([0xbe])])), [
    ['bbbb', 'two'],
    ['bbbb', 'two'],
  ]);
  assert.throws(
    () => d.decode(Buffer.from([0xbf]), () => {}),
    /index 63 past the dynamic table \(1 entries\)/,
  );
  // size update to 0 empties it
  d.decode(Buffer.from([0x20]), () => {});
  assert.throws(
    () => d.decode(Buffer.from([0xbe]), () => {}),
    /index 62 past the dynamic table \(0 entries\)/,
  );
});

test('HPACK: malformed blocks are refused, each with its reason', () => {
  const cases: [string, RegExp][] = [
    ['80', /index 0/],
    ['ff00', /index 127 past the dynamic table/],
    ['3fe11f', /table size 4096 over the announced 1024|table size \d+ over the announced/],
    ['82 20', /table size update after a field/],
    ['40 05 61', /string past the block/],
    ['00 81 ff 00', /HPACK: Huffman/],
    ['ff ff ff ff ff ff', /integer (cut short|too large)/],
    ['40', /string cut short/],
  ];
  for (const [bytes, why] of cases)
    assert.throws(() => new HpackDecoder(1024).decode(hex(bytes), () => {}), why, bytes);
});

test('encodeHeaderBlock: literals without indexing that any decoder reads back', () => {
  const fields: [string, string][] = [
    [':method', 'POST'],
    [':path', `/${'x'.repeat(300)}`],
    ['x-custom', 'v'],
    ['content-length', '12'],
  ];
  const block = encodeHeaderBlock(fields);
  const d = new HpackDecoder();
  assert.deepEqual(decodeAll(d, block), fields);
  assert.deepEqual(decodeAll(d, block), fields, 'no table state: the same block decodes the same again');
  assert.equal(block[0], 0x02, ':method by static name index 2, without indexing');
});

test('requestBlocks: the first block fills the table, the next ones index it; what does not fit stays literal', () => {
  const fields: [string, string][] = [
    [':method', 'GET'],
    [':scheme', 'https'],
    [':authority', 'hello-123.us-central1.run.app'],
    [':path', '/api'],
    ['x-big', 'v'.repeat(5000)],
    ['x-after', 'a'],
  ];
  const b = requestBlocks(fields);
  const d = new HpackDecoder();
  assert.deepEqual(decodeAll(d, b.first), fields);
  for (let i = 0; i < 3; i++) assert.deepEqual(decodeAll(d, b.next), fields);
  // :method GET and :scheme https are static entries 2 and 7; the three added fields are 1 byte each
  assert.deepEqual([...b.next.subarray(0, 2)], [0x82, 0x87]);
  assert.ok(b.next.length < 5000 + 20 && b.next.length > 5000, 'x-big (over the table) stays a literal');
  assert.equal(b.tableBytes, 10 + 29 + 32 + (5 + 4 + 32) + (7 + 1 + 32));
  assert.deepEqual(decodeAll(new HpackDecoder(), b.plain), fields, 'plain needs no table');
  // after a size update to 0 the table is empty: `next` would point past it, `plain` still reads
  const small = new HpackDecoder();
  decodeAll(small, b.first);
  decodeAll(small, Buffer.concat([tableSizeUpdate(0), b.plain]));
  assert.throws(() => decodeAll(small, b.next), /past the dynamic table/);
});
