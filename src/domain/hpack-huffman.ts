// HPACK's Huffman code (RFC 7541 Appendix B), decode side, for the load tool's HTTP/2 client. The
// code is canonical — codes of one length are consecutive, in symbol order, and each length starts
// where the shorter ones left off — so the table is its 257 code lengths (symbol 256 is EOS) and the
// codes follow from them. Decoding reads one bit at a time against the first code of each length,
// with a byte-wide shortcut for the codes of 5 to 8 bits that make up most header text.

const LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7,
  8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19,
  13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13,
  28, 20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21,
  22, 23, 22, 23, 23, 24, 22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23,
  22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25,
  25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, 30,
];
const EOS = 256;
const MAX_LEN = 30;

/** the code of each symbol (for tests and the encoder in test helpers) */
export const HUFFMAN_CODES: readonly number[] = (() => {
  const order = LENGTHS.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const codes = new Array<number>(LENGTHS.length).fill(0);
  let code = 0;
  let prev = order[0]?.len ?? 0;
  order.forEach(({ len, sym }, i) => {
    if (i > 0) code = (code + 1) * 2 ** (len - prev);
    prev = len;
    codes[sym] = code;
  });
  return codes;
})();
export const HUFFMAN_LENGTHS: readonly number[] = LENGTHS;

// Per length: the first code, how many codes, and where its symbols start in SORTED.
const FIRST = new Array<number>(MAX_LEN + 1).fill(0);
const COUNT = new Array<number>(MAX_LEN + 1).fill(0);
const OFFSET = new Array<number>(MAX_LEN + 1).fill(0);
const SORTED: number[] = LENGTHS.map((_, s) => s).sort(
  (a, b) => (LENGTHS[a] as number) - (LENGTHS[b] as number) || a - b,
);
for (const len of LENGTHS) COUNT[len] = (COUNT[len] as number) + 1;
{
  let at = 0;
  for (let len = 1; len <= MAX_LEN; len++) {
    OFFSET[len] = at;
    FIRST[len] = HUFFMAN_CODES[SORTED[at] as number] ?? 0;
    at += COUNT[len] as number;
  }
}
// BYTE[b]: for a code of ≤ 8 bits that starts the byte b, (symbol << 4) | length; else 0.
const BYTE = new Uint16Array(256);
for (let sym = 0; sym < EOS; sym++) {
  const len = LENGTHS[sym] as number;
  if (len > 8) continue;
  const base = (HUFFMAN_CODES[sym] as number) << (8 - len);
  for (let tail = 0; tail < 1 << (8 - len); tail++) BYTE[base | tail] = (sym << 4) | len;
}

export class HuffmanError extends Error {
  constructor(why: string) {
    super(`Huffman: ${why}`);
    this.name = 'HuffmanError';
  }
}

/** Decode src[start, end) to a latin1 string; padding must be at most 7 one-bits (RFC 7541 §5.2). */
export function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  let out = '';
  const totalBits = (end - start) * 8;
  let bit = 0; // bits consumed
  while (totalBits - bit >= 1) {
    // the next 8 bits (zero-filled past the end) for the shortcut
    const byteAt = start + (bit >> 3);
    const shift = bit & 7;
    const hi = src[byteAt] as number;
    const lo = byteAt + 1 < end ? (src[byteAt + 1] as number) : 0;
    const peek = ((hi << shift) | (lo >> (8 - shift))) & 0xff;
    const hit = BYTE[peek] as number;
    if (hit !== 0 && (hit & 15) <= totalBits - bit) {
      out += String.fromCharCode(hit >> 4);
      bit += hit & 15;
      continue;
    }
    // the long way: one bit at a time until the code matches a length's range
    let code = 0;
    let len = 0;
    let sym = -1;
    while (bit < totalBits && len < MAX_LEN) {
      code = code * 2 + (((src[start + (bit >> 3)] as number) >> (7 - (bit & 7))) & 1);
      bit++;
      len++;
      const idx = code - (FIRST[len] as number);
      if (idx >= 0 && idx < (COUNT[len] as number)) {
        sym = SORTED[(OFFSET[len] as number) + idx] as number;
        break;
      }
    }
    if (sym === -1) {
      // Fewer than 8 bits left, all ones: the padding (a prefix of EOS). Anything else is broken.
      if (len <= 7 && code === 2 ** len - 1 && bit === totalBits) break;
      throw new HuffmanError('invalid code or padding');
    }
    if (sym === EOS) throw new HuffmanError('EOS in a string');
    out += String.fromCharCode(sym);
  }
  return out;
}
