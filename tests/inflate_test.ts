import assert from "node:assert/strict";
import { constants, deflateRawSync } from "node:zlib";
import { inflate, InflateError } from "../src/store/inflate.ts";
import { seeded } from "./support.ts";

const source = new TextEncoder().encode(
  Deno.readTextFileSync(new URL("../src/store/store.ts", import.meta.url)),
);

function samples(): Uint8Array<ArrayBuffer>[] {
  const { next } = seeded(1951);
  const random = new Uint8Array(70_000).map(() => next(256));
  const runs = new Uint8Array(100_000).map((_, i) => (i >> 9) % 3);
  const text = new TextEncoder().encode("naïve 日本語 😀 \0\r\n".repeat(3000));
  return [new Uint8Array(), new Uint8Array([42]), source, random, runs, text];
}

Deno.test("inflate decodes what node:zlib deflates, every level and strategy", () => {
  for (const data of samples()) {
    for (const level of [0, 1, 6, 9]) {
      for (
        const strategy of [
          constants.Z_DEFAULT_STRATEGY,
          constants.Z_FIXED,
          constants.Z_HUFFMAN_ONLY,
          constants.Z_RLE,
        ]
      ) {
        const packed = deflateRawSync(data, { level, strategy });
        assert.deepEqual(
          inflate(new Uint8Array(packed)),
          data,
          `${data.length} ${level} ${strategy}`,
        );
      }
    }
  }
});

Deno.test("inflate decodes CompressionStream's deflate-raw", async () => {
  for (const data of samples()) {
    const packed = new Uint8Array(
      await new Response(
        new Blob([data]).stream().pipeThrough(new CompressionStream("deflate-raw")),
      )
        .arrayBuffer(),
    );
    assert.deepEqual(inflate(packed, 16), data);
  }
});

Deno.test("a damaged or cut stream throws InflateError, never hangs or reads past its end", () => {
  const packed = new Uint8Array(deflateRawSync(source));
  for (const cut of [1, 10, packed.length >> 1, packed.length - 1]) {
    assert.throws(() => inflate(packed.subarray(0, cut)), InflateError, `cut at ${cut}`);
  }
  assert.throws(() => inflate(new Uint8Array([0x07])), InflateError); // reserved block type
  assert.throws(() => inflate(new Uint8Array([1, 2, 0, 0, 0, 104, 105])), InflateError); // bad LEN
  const { next } = seeded(7);
  let thrown = 0;
  for (let t = 0; t < 3000; t++) {
    const damaged = packed.slice();
    for (let k = 0; k < 3; k++) damaged[next(damaged.length)] = next(256);
    try {
      const out = inflate(damaged);
      assert.ok(out.length < 10 * source.length);
    } catch (error) {
      assert.ok(error instanceof InflateError, String(error));
      thrown++;
    }
  }
  // Raw deflate has no checksum: some damage decodes to other bytes (the store then checks the
  // text's length); much of it is refused outright.
  assert.ok(thrown > 1000, `${thrown} of 3000 damaged streams were refused`);
});
