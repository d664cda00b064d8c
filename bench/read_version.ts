/**
 * Times one pattern read in a fresh process, as a CLI command pays it: opening the store and the
 * first `Store.pattern` (decompression included when the version is read through a compressed row).
 * Prints `{"ms": …, "bytes": …}`. Usage: `deno run --allow-read=DIR --allow-write=DIR
 * bench/read_version.ts DIR PATTERN_ID`.
 *
 * @module
 */

import { openStore } from "../src/store/mod.ts";

if (import.meta.main) {
  const [dir, id] = Deno.args;
  const t0 = performance.now();
  const store = openStore(dir as string);
  const code = store.pattern(id as string)?.code;
  const ms = performance.now() - t0;
  store.close();
  console.log(JSON.stringify({ ms, bytes: code?.length ?? null }));
}
