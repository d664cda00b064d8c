/**
 * Synchronous raw-deflate compression for stored code: compression by the runtime's built-in
 * `node:zlib`, loaded on first use only; decompression by our own decoder (`src/store/inflate.ts`).
 *
 * Why not `CompressionStream`: reading a pattern is synchronous (it happens inside the store's
 * transactions), and the streams are asynchronous. Why lazily, and why not zlib for reading:
 * loading `node:zlib` costs a fresh Deno process 30–40 ms (measured), twice a hook's whole budget.
 * So hooks never compress — they write uncompressed snapshots and patches, and the background
 * flusher and the CLI compress later (see `src/store/code_storage.ts`) — and any process reads
 * compressed code for the cost of decoding it.
 *
 * @module
 */

import { inflate } from "./inflate.ts";

interface Zlib {
  deflateRawSync(data: Uint8Array, options?: { level?: number }): Uint8Array;
}

let zlib: Zlib | undefined;

function loadZlib(): Zlib {
  if (zlib) return zlib;
  // A synchronous load of a built-in module; a static import would cost every process that
  // imports the store, hooks included.
  const process = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } })
    .process;
  const loaded = process?.getBuiltinModule?.("node:zlib") as Zlib | undefined;
  if (!loaded || typeof loaded.deflateRawSync !== "function") {
    throw new Error(
      "cannot load node:zlib (process.getBuiltinModule is missing): this runtime cannot compress stored code; use Deno 2.9 or later",
    );
  }
  zlib = loaded;
  return loaded;
}

/** zlib's level: 6 is its default; 9 saves about 1 % more on code for twice the time (measured). */
const LEVEL = 6;

/**
 * Compresses bytes with raw deflate (RFC 1951, the format of `CompressionStream("deflate-raw")`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflateRaw, inflateRaw } from "./compression.ts";
 * const data = new TextEncoder().encode("x = 1\n".repeat(100));
 * const deflated = deflateRaw(data);
 * assert.ok(deflated.length < data.length);
 * assert.equal(inflateRaw(deflated).length, 600);
 * ```
 */
export function deflateRaw(data: Uint8Array): Uint8Array {
  return plain(loadZlib().deflateRawSync(data, { level: LEVEL }));
}

/**
 * Decompresses raw deflate (without loading `node:zlib`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deflateRaw, inflateRaw } from "./compression.ts";
 * const abc = new TextEncoder().encode("abc");
 * assert.equal(new TextDecoder().decode(inflateRaw(deflateRaw(abc))), "abc");
 * ```
 */
export function inflateRaw(data: Uint8Array): Uint8Array {
  return inflate(data);
}

/**
 * True once this process has loaded `node:zlib` (tests check that recording a change and reading
 * compressed code do not).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compressionLoaded, deflateRaw } from "./compression.ts";
 * // False until something was compressed in this process.
 * deflateRaw(new TextEncoder().encode("x = 1\n"));
 * assert.equal(compressionLoaded(), true);
 * ```
 */
export function compressionLoaded(): boolean {
  return zlib !== undefined;
}

/** node:zlib answers with a Buffer; the store keeps plain Uint8Arrays. */
function plain(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
