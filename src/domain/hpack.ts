// HPACK (RFC 7541) for the load tool's HTTP/2 client. Decoding is complete — static and dynamic
// table, size updates, Huffman, every literal form — because a server may use any of them and the
// dynamic table must stay in step across every header block of the connection, including those of
// streams the client has already given up on. Encoding is for one request sent over and over
// (RequestBlocks): the first block on a connection adds its fields to the server's table, every
// later one names them by index — a few bytes the server decodes without copying a string, as
// h2load's requests are; a literal form stays for a server that shrinks its table.
import { HuffmanError, huffmanDecode } from './hpack-huffman.ts';

// RFC 7541 Appendix A.
const STATIC: readonly (readonly [string, string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
/** every entry's size counts its name and value plus 32 (RFC 7541 §4.1) */
const ENTRY_OVERHEAD = 32;
export const DEFAULT_TABLE_SIZE = 4096;

export class HpackError extends Error {
  constructor(why: string) {
    super(`HPACK: ${why}`);
    this.name = 'HpackError';
  }
}

export class HpackDecoder {
  // newest first, as HPACK indexes it (index 62 is the newest entry)
  private table: [string, string][] = [];
  private size = 0;
  private maxSize = DEFAULT_TABLE_SIZE;
  /** the limit the client announced (SETTINGS_HEADER_TABLE_SIZE); size updates may not exceed it */
  private readonly limit: number;
  private pos = 0;

  constructor(limit = DEFAULT_TABLE_SIZE) {
    this.limit = limit;
    this.maxSize = limit;
  }

  /** Decode one complete header block, calling `field` for each field in order. */
  decode(block: Uint8Array, field: (name: string, value: string) => void): void {
    this.pos = 0;
    const end = block.length;
    let fieldsSeen = false;
    try {
      while (this.pos < end) {
        const b = block[this.pos] as number;
        if (b & 0x80) {
          // indexed field
          const [name, value] = this.entry(this.int(block, 7));
          field(name, value);
          fieldsSeen = true;
        } else if ((b & 0xe0) === 0x20) {
          // dynamic table size update: only before the block's first field (§4.2)
          if (fieldsSeen) throw new HpackError('table size update after a field');
          const size = this.int(block, 5);
          if (size > this.limit) throw new HpackError(`table size ${size} over the announced ${this.limit}`);
          this.maxSize = size;
          this.evict(0);
        } else {
          // literal: with incremental indexing (01), without (0000), never indexed (0001)
          const indexing = (b & 0xc0) === 0x40;
          const index = this.int(block, indexing ? 6 : 4);
          const name = index === 0 ? this.str(block) : (this.entry(index)[0] as string);
          const value = this.str(block);
          if (indexing) this.add(name, value);
          field(name, value);
          fieldsSeen = true;
        }
      }
    } catch (err) {
      if (err instanceof HuffmanError) throw new HpackError(err.message);
      throw err;
    }
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError('index 0');
    if (index <= STATIC.length) return STATIC[index - 1] as readonly [string, string];
    const e = this.table[index - STATIC.length - 1];
    if (!e) throw new HpackError(`index ${index} past the dynamic table (${this.table.length} entries)`);
    return e;
  }

  private add(name: string, value: string) {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // an entry larger than the whole table empties it and is not added (§4.4)
    this.evict(size);
    if (size <= this.maxSize) {
      this.table.unshift([name, value]);
      this.size += size;
    }
  }

  private evict(room: number) {
    while (this.size + room > this.maxSize && this.table.length > 0) {
      const [n, v] = this.table.pop() as [string, string];
      this.size -= n.length + v.length + ENTRY_OVERHEAD;
    }
  }

  /** an integer with an N-bit prefix (§5.1) */
  private int(block: Uint8Array, prefix: number): number {
    const mask = (1 << prefix) - 1;
    let value = (block[this.pos++] as number) & mask;
    if (value < mask) return value;
    let shift = 0;
    for (;;) {
      if (this.pos >= block.length) throw new HpackError('integer cut short');
      const b = block[this.pos++] as number;
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b & 0x80)) break;
      if (shift > 28) throw new HpackError('integer too large');
    }
    return value;
  }

  /** a string literal, Huffman-coded or raw (§5.2); header bytes are latin1 */
  private str(block: Uint8Array): string {
    if (this.pos >= block.length) throw new HpackError('string cut short');
    const huffman = ((block[this.pos] as number) & 0x80) !== 0;
    const len = this.int(block, 7);
    const start = this.pos;
    const end = start + len;
    if (end > block.length) throw new HpackError('string past the block');
    this.pos = end;
    if (huffman) return huffmanDecode(block, start, end);
    return Buffer.from(block.buffer, block.byteOffset + start, len).toString('latin1');
  }
}

function intBytes(value: number, prefix: number, flags: number): number[] {
  const mask = (1 << prefix) - 1;
  if (value < mask) return [flags | value];
  const out = [flags | mask];
  let rest = value - mask;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** a literal field (§6.2): `flags` 0x40 with incremental indexing (6-bit prefix), 0x00 without (4-bit) */
function literal(name: string, value: string, flags: 0x40 | 0x00): Buffer {
  const nameIndex = STATIC.findIndex(([n]) => n === name) + 1;
  const prefix = flags === 0x40 ? 6 : 4;
  const nameBytes = Buffer.from(name, 'latin1');
  const valueBytes = Buffer.from(value, 'latin1');
  const head =
    nameIndex > 0
      ? [Buffer.from(intBytes(nameIndex, prefix, flags))]
      : [Buffer.from([flags, ...intBytes(nameBytes.length, 7, 0)]), nameBytes];
  return Buffer.concat([...head, Buffer.from(intBytes(valueBytes.length, 7, 0)), valueBytes]);
}

/**
 * A header block of literals without indexing (names by static index where one exists, no
 * Huffman): valid whatever the server's table holds. Names must be lowercase (HTTP/2 requires it).
 */
export function encodeHeaderBlock(fields: readonly (readonly [string, string])[]): Buffer {
  return Buffer.concat(fields.map(([n, v]) => literal(n, v, 0x00)));
}

/** One request's header blocks, encoded once for the whole run. */
export interface RequestBlocks {
  /** a connection's first block: adds the fields to the server's dynamic table */
  first: Buffer;
  /** every later block, naming those entries by index (valid while the table keeps them) */
  next: Buffer;
  /** literals only: for a server whose table is too small for `first`'s entries */
  plain: Buffer;
  /** table room `first`'s entries take; a server table smaller than this means `plain` */
  tableBytes: number;
}

/**
 * Fields equal to a static entry are indexed from the static table; the rest are added to the
 * dynamic table while they fit in the default 4096 bytes (an entry that did not fit would evict
 * the others and shift every index), and sent as literals past that.
 */
export function requestBlocks(fields: readonly (readonly [string, string])[]): RequestBlocks {
  type Plan = { kind: 'static'; index: number } | { kind: 'dynamic'; order: number } | { kind: 'literal' };
  const plans: Plan[] = [];
  let tableBytes = 0;
  let added = 0;
  for (const [name, value] of fields) {
    const exact = STATIC.findIndex(([n, v]) => n === name && v === value) + 1;
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (exact > 0) plans.push({ kind: 'static', index: exact });
    else if (tableBytes + size <= DEFAULT_TABLE_SIZE) {
      plans.push({ kind: 'dynamic', order: added++ });
      tableBytes += size;
    } else plans.push({ kind: 'literal' });
  }
  const first: Buffer[] = [];
  const next: Buffer[] = [];
  fields.forEach(([name, value], i) => {
    const plan = plans[i] as Plan;
    if (plan.kind === 'static') {
      const indexed = Buffer.from(intBytes(plan.index, 7, 0x80));
      first.push(indexed);
      next.push(indexed);
    } else if (plan.kind === 'dynamic') {
      first.push(literal(name, value, 0x40));
      // the newest entry is index 62: the last one added is 62, the first added 62 + added - 1
      next.push(Buffer.from(intBytes(STATIC.length + added - plan.order, 7, 0x80)));
    } else {
      const lit = literal(name, value, 0x00);
      first.push(lit);
      next.push(lit);
    }
  });
  return {
    first: Buffer.concat(first),
    next: Buffer.concat(next),
    plain: encodeHeaderBlock(fields),
    tableBytes,
  };
}

/** a dynamic table size update (§6.3), to start a block after the server shrank its table */
export function tableSizeUpdate(size: number): Buffer {
  return Buffer.from(intBytes(size, 5, 0x20));
}
