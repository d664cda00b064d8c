/**
 * A pure raw-DEFLATE decoder (RFC 1951: stored, fixed and dynamic Huffman blocks), so that reading
 * compressed code costs a fresh process milliseconds: loading `node:zlib` costs a Deno process
 * 30–40 ms before it decodes anything. Compression stays with `node:zlib` (`src/store/compression.ts`),
 * which only the background flusher and the CLI load.
 *
 * Table-driven: each Huffman code is decoded with one lookup of its longest code's bits.
 *
 * @module
 */

/** Why a stream could not be decoded. */
export class InflateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InflateError";
  }
}

const LENGTH_BASE = [
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  13,
  15,
  17,
  19,
  23,
  27,
  31,
  35,
  43,
  51,
  59,
  67,
  83,
  99,
  115,
  131,
  163,
  195,
  227,
  258,
];
const LENGTH_EXTRA = [
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  1,
  1,
  1,
  1,
  2,
  2,
  2,
  2,
  3,
  3,
  3,
  3,
  4,
  4,
  4,
  4,
  5,
  5,
  5,
  5,
  0,
];
const DISTANCE_BASE = [
  1,
  2,
  3,
  4,
  5,
  7,
  9,
  13,
  17,
  25,
  33,
  49,
  65,
  97,
  129,
  193,
  257,
  385,
  513,
  769,
  1025,
  1537,
  2049,
  3073,
  4097,
  6145,
  8193,
  12289,
  16385,
  24577,
];
const DISTANCE_EXTRA = [
  0,
  0,
  0,
  0,
  1,
  1,
  2,
  2,
  3,
  3,
  4,
  4,
  5,
  5,
  6,
  6,
  7,
  7,
  8,
  8,
  9,
  9,
  10,
  10,
  11,
  11,
  12,
  12,
  13,
  13,
];
/** The order in which code length code lengths are sent. */
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** A decoding table: entry = symbol << 4 | code length (0: no such code), indexed by `bits` bits. */
interface Table {
  bits: number;
  entries: Int32Array;
}

function buildTable(lengths: ArrayLike<number>): Table {
  const counts = new Int32Array(16);
  let bits = 1;
  for (let i = 0; i < lengths.length; i++) {
    const length = lengths[i] as number;
    counts[length] = (counts[length] as number) + 1;
    if (length > bits) bits = length;
  }
  counts[0] = 0;
  // Canonical codes: the first code of each length; more codes than a length allows is an error
  // (fewer is allowed: a distance tree may hold a single code).
  const next = new Int32Array(16);
  let code = 0;
  let left = 1;
  for (let length = 1; length <= 15; length++) {
    left = (left << 1) - (counts[length] as number);
    if (left < 0) throw new InflateError("a Huffman code is over-subscribed");
    code = (code + (counts[length - 1] as number)) << 1;
    next[length] = code;
  }
  const entries = new Int32Array(1 << bits);
  for (let symbol = 0; symbol < lengths.length; symbol++) {
    const length = lengths[symbol] as number;
    if (length === 0) continue;
    const c = next[length] as number;
    next[length] = c + 1;
    // Codes are sent most significant bit first into a least-significant-first stream: index the
    // table by the code's bits reversed, for every value of the bits beyond it.
    let reversed = 0;
    for (let i = 0; i < length; i++) reversed |= ((c >> i) & 1) << (length - 1 - i);
    for (let i = reversed; i < entries.length; i += 1 << length) {
      entries[i] = (symbol << 4) | length;
    }
  }
  return { bits, entries };
}

let fixed: { literal: Table; distance: Table } | undefined;

function fixedTables(): { literal: Table; distance: Table } {
  if (!fixed) {
    const lengths = new Uint8Array(288);
    lengths.fill(8, 0, 144);
    lengths.fill(9, 144, 256);
    lengths.fill(7, 256, 280);
    lengths.fill(8, 280, 288);
    fixed = { literal: buildTable(lengths), distance: buildTable(new Uint8Array(30).fill(5)) };
  }
  return fixed;
}

/**
 * Decodes a raw DEFLATE stream (no zlib or gzip header), as `node:zlib`'s `deflateRawSync` and
 * `CompressionStream("deflate-raw")` make it. Throws {@linkcode InflateError} on a damaged or
 * truncated stream; never loops on one (every step consumes input, and input ends).
 *
 * One function with its state in locals, the Huffman lookups inlined: this loop runs once per
 * symbol, often in a process that has not compiled it yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inflate } from "./inflate.ts";
 * // A stored block holding "hi".
 * assert.equal(new TextDecoder().decode(inflate(new Uint8Array([1, 2, 0, 253, 255, 104, 105]))), "hi");
 * ```
 */
export function inflate(data: Uint8Array, sizeHint = data.length * 4): Uint8Array {
  const end = data.length;
  let out = new Uint8Array(Math.max(64, sizeHint));
  let size = 0;
  let pos = 0;
  let bitBuffer = 0;
  let bitCount = 0;
  // Past the end, zero bits stand in so that a short last code can be looked up; a stream that
  // would consume them is cut short (checked at every refill and at the end).
  const truncated = () => new InflateError("the stream ends in the middle of a block");

  const bits = (n: number): number => {
    while (bitCount < n) {
      if (pos >= end + 4) throw truncated();
      bitBuffer |= (pos < end ? data[pos] as number : 0) << bitCount;
      pos++;
      bitCount += 8;
    }
    const value = bitBuffer & ((1 << n) - 1);
    bitBuffer >>>= n;
    bitCount -= n;
    return value;
  };
  const decode = (table: Table): number => {
    while (bitCount < table.bits) {
      if (pos >= end + 4) throw truncated();
      bitBuffer |= (pos < end ? data[pos] as number : 0) << bitCount;
      pos++;
      bitCount += 8;
    }
    const entry = table.entries[bitBuffer & ((1 << table.bits) - 1)] as number;
    const length = entry & 15;
    if (length === 0) throw new InflateError("an invalid Huffman code");
    bitBuffer >>>= length;
    bitCount -= length;
    return entry >> 4;
  };
  const grow = (needed: number) => {
    let capacity = out.length * 2;
    while (capacity < needed) capacity *= 2;
    const bigger = new Uint8Array(capacity);
    bigger.set(out.subarray(0, size));
    out = bigger;
  };

  for (let last = 0; !last;) {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      // Stored: skip to a byte boundary, then LEN and its complement, then LEN bytes.
      bits(bitCount & 7);
      const length = bits(16);
      if ((bits(16) ^ 0xffff) !== length) {
        throw new InflateError("a stored block's length is damaged");
      }
      if (size + length > out.length) grow(size + length);
      let copied = 0;
      for (; copied < length && bitCount >= 8; copied++) out[size++] = bits(8);
      const rest = length - copied;
      if (pos + rest > end) throw new InflateError("a stored block is cut short");
      out.set(data.subarray(pos, pos + rest), size);
      size += rest;
      pos += rest;
      continue;
    }
    let literal: Table;
    let distance: Table;
    if (type === 1) ({ literal, distance } = fixedTables());
    else if (type === 2) ({ literal, distance } = dynamicTables(bits, decode));
    else throw new InflateError("a block of the reserved type 3");

    const literalBits = literal.bits;
    const literalMask = (1 << literalBits) - 1;
    const literals = literal.entries;
    for (;;) {
      while (bitCount < literalBits) {
        if (pos >= end + 4) throw truncated();
        bitBuffer |= (pos < end ? data[pos] as number : 0) << bitCount;
        pos++;
        bitCount += 8;
      }
      const entry = literals[bitBuffer & literalMask] as number;
      const codeLength = entry & 15;
      if (codeLength === 0) throw new InflateError("an invalid Huffman code");
      bitBuffer >>>= codeLength;
      bitCount -= codeLength;
      const symbol = entry >> 4;
      if (symbol < 256) {
        if (size === out.length) grow(size + 1);
        out[size++] = symbol;
        continue;
      }
      if (symbol === 256) break;
      const index = symbol - 257;
      if (index >= 29) throw new InflateError("an invalid length code");
      const length = (LENGTH_BASE[index] as number) + bits(LENGTH_EXTRA[index] as number);
      const d = decode(distance);
      if (d >= 30) throw new InflateError("an invalid distance code");
      const back = (DISTANCE_BASE[d] as number) + bits(DISTANCE_EXTRA[d] as number);
      if (back > size) throw new InflateError("a distance reaches before the start");
      if (size + length > out.length) grow(size + length);
      if (back >= length) out.copyWithin(size, size - back, size - back + length);
      else for (let i = 0; i < length; i++) out[size + i] = out[size + i - back] as number;
      size += length;
    }
    if (pos * 8 - bitCount > end * 8) throw truncated();
  }
  return out.subarray(0, size);
}

/** Reads a dynamic block's code lengths and builds its two tables. */
function dynamicTables(
  bits: (n: number) => number,
  decode: (table: Table) => number,
): { literal: Table; distance: Table } {
  const literals = bits(5) + 257;
  const distances = bits(5) + 1;
  const codeLengthCodes = bits(4) + 4;
  const codeLengthLengths = new Uint8Array(19);
  for (let i = 0; i < codeLengthCodes; i++) {
    codeLengthLengths[CODE_LENGTH_ORDER[i] as number] = bits(3);
  }
  const codeLengths = buildTable(codeLengthLengths);
  const lengths = new Uint8Array(literals + distances);
  for (let i = 0; i < lengths.length;) {
    const symbol = decode(codeLengths);
    if (symbol < 16) {
      lengths[i++] = symbol;
      continue;
    }
    let repeat: number;
    let value = 0;
    if (symbol === 16) {
      if (i === 0) throw new InflateError("a length repeat with no length before it");
      value = lengths[i - 1] as number;
      repeat = 3 + bits(2);
    } else if (symbol === 17) repeat = 3 + bits(3);
    else repeat = 11 + bits(7);
    if (i + repeat > lengths.length) throw new InflateError("too many code lengths");
    lengths.fill(value, i, i + repeat);
    i += repeat;
  }
  if (lengths[256] === 0) throw new InflateError("a block without an end-of-block code");
  return {
    literal: buildTable(lengths.subarray(0, literals)),
    distance: buildTable(lengths.subarray(literals)),
  };
}
