/** `src/store/maintenance.ts`: the store's upkeep, one behaviour per test. */
import assert from "node:assert/strict";
import { addVersion, freshStore } from "./support.ts";

Deno.test("a sound store's quick check finds nothing", () => {
  const { store, done } = freshStore();
  assert.deepEqual(store.quickCheck(), []);
  done();
});

Deno.test("a pattern's code is stored as a patch against its parent's when that is smaller", () => {
  const { store, done } = freshStore();
  // Above MIN_PATCH_TEXT (smaller texts are always kept whole).
  const base = Array.from({ length: 1000 }, (_, i) => `line_${i} = ${i}`).join("\n") + "\n";
  addVersion(store, "/p/a.py", "aaaaaaaaaaaaaaaa", base);
  addVersion(store, "/p/a.py", "bbbbbbbbbbbbbbbb", base + "tail = 1\n", "aaaaaaaaaaaaaaaa");
  const stats = store.codeStorage();
  assert.equal(stats.withCode, 2);
  assert.equal(stats.snapshots, 1);
  assert.equal(stats.patches, 1);
  assert.equal(store.code("bbbbbbbbbbbbbbbb"), base + "tail = 1\n");
  done();
});

Deno.test("a new store returns free pages in small steps (incremental auto-vacuum)", () => {
  const { store, done } = freshStore();
  assert.equal(store.shrinksIncrementally(), true);
  done();
});

Deno.test("dropping a pattern's code keeps the pattern and says why its code is gone", () => {
  const { store, done } = freshStore();
  addVersion(store, "/p/a.py", "aaaaaaaaaaaaaaaa", "a = 1\n");
  store.dropCode("aaaaaaaaaaaaaaaa", "pruned");
  assert.equal(store.code("aaaaaaaaaaaaaaaa"), null);
  assert.equal(store.pattern("aaaaaaaaaaaaaaaa")?.codeOmitted, "pruned");
  done();
});
