/**
 * A hook's payload read from stdin, the same way for every hook (pre, post, prompt): whole, up to
 * {@linkcode MAX_PAYLOAD_BYTES}. No imports: every hook loads it.
 *
 * @module
 */

/** Payloads above this size are not parsed (and are logged): no real Write or request is this large. */
export const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;

/**
 * Reads all of stdin, up to {@linkcode MAX_PAYLOAD_BYTES}; returns null (after draining the rest,
 * so Claude Code's write does not fail) when the payload is larger. Synchronous reads: for a pipe
 * they cost a fraction of the stream machinery, and the hook has nothing else to do meanwhile.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readStdin } from "./stdin.ts";
 * // Any reader works; a hook passes Deno.stdin.
 * const chunks = [new TextEncoder().encode('{"hook_event_name":'), new TextEncoder().encode('"Stop"}')];
 * const reader = {
 *   readSync(p: Uint8Array): number | null {
 *     const chunk = chunks.shift();
 *     if (!chunk) return null;
 *     p.set(chunk);
 *     return chunk.length;
 *   },
 * };
 * assert.equal(new TextDecoder().decode(readStdin(reader)!), '{"hook_event_name":"Stop"}');
 * ```
 */
export function readStdin(input: { readSync(p: Uint8Array): number | null }): Uint8Array | null {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let tooLarge = false;
  const buffer = new Uint8Array(256 * 1024);
  for (;;) {
    const n = input.readSync(buffer);
    if (n === null) break;
    if (n === 0) continue;
    size += n;
    if (size > MAX_PAYLOAD_BYTES) tooLarge = true;
    if (!tooLarge) chunks.push(buffer.slice(0, n));
  }
  if (tooLarge) return null;
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}
