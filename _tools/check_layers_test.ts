import assert from "node:assert/strict";
import { checkLayers } from "./check_layers.ts";

/** A temporary tree with the given files (relative path → text). */
function tree(files: Record<string, string>): string {
  const root = Deno.realPathSync(Deno.makeTempDirSync({ prefix: "layers-" }));
  for (const [path, text] of Object.entries(files)) {
    Deno.mkdirSync(`${root}/${path.replace(/\/[^/]*$/, "")}`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${path}`, text);
  }
  return root;
}

Deno.test("check_layers finds each planted violation, one per broken rule", async () => {
  const root = tree({
    "tests/fixture.ts": "export const fixture = 1;\n",
    "src/cli/lineage.ts": "export type Shape = { id: string };\nexport const id = 'x';\n",
    "src/store.ts": "export const open = () => 1;\n",
    // A view importing a type from the CLI: the wrong way even for a type.
    "src/views/graph.ts":
      'import type { Shape } from "../cli/lineage.ts";\nexport const s: Shape | null = null;\n',
    // A pure rule importing an I/O module (the store) and the tests.
    "src/delivery/plan.ts":
      'import { open } from "../store.ts";\nimport { fixture } from "../../tests/fixture.ts";\nexport const n = open() + fixture;\n',
    // A pure module importing a type from an I/O module: allowed.
    "src/delivery/breaker.ts":
      'import type { open } from "../store.ts";\nexport type Open = typeof open;\n',
  });
  try {
    const found = (await checkLayers(root)).map((v) => `${v.from} -> ${v.to}: ${v.rule}`).sort();
    assert.deepEqual(found, [
      "src/delivery/plan.ts -> src/store.ts: a pure module imports only pure modules (or types)",
      "src/delivery/plan.ts -> tests/fixture.ts: nothing under src/ imports tests/",
      "src/views/graph.ts -> src/cli/lineage.ts: only src/cli/ imports src/cli/",
    ]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("check_layers passes a tree that keeps the rules, and skips folders that do not exist", async () => {
  // No src/record/ nor src/store/ here, though the rules name modules in them.
  const root = tree({
    "src/cli/main.ts": 'import { plan } from "../delivery/plan.ts";\nexport const x = plan;\n',
    "src/delivery/plan.ts": 'import { b } from "./breaker.ts";\nexport const plan = b;\n',
    "src/delivery/breaker.ts": "export const b = 1;\n",
  });
  try {
    assert.deepEqual(await checkLayers(root), []);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("the checkout's own src/ keeps the rules", async () => {
  const root = Deno.realPathSync(new URL("..", import.meta.url));
  assert.deepEqual(await checkLayers(root.replace(/\/$/, "")), []);
});
