import assert from "node:assert/strict";
import {
  applyLinePatch,
  applyLinePatches,
  decodeLinePatch,
  diffLines,
  encodeLinePatch,
  type LinePatch,
  LinePatchError,
  splitLines,
} from "../src/store/line_patch.ts";
import { seeded } from "./support.ts";

// Lines that stress exactness: CRLF and lone CR, NUL, U+FFFD, lone surrogates, non-BMP, empty.
const PIECES = [
  "a",
  "b",
  "",
  "\r",
  "x\r",
  "\0",
  "\ufffd",
  "\ud800",
  "\udc00z",
  "😀",
  "é",
  "  if (x) {",
];

function randomText(next: (n: number) => number): string {
  const lines: string[] = [];
  for (let i = next(40); i > 0; i--) lines.push(PIECES[next(PIECES.length)] as string);
  return lines.join("\n") + (next(2) ? "\n" : "");
}

function mutate(text: string, next: (n: number) => number): string {
  const lines = text.split("\n");
  for (let i = next(4); i >= 0; i--) {
    const at = next(lines.length + 1);
    const kind = next(3);
    if (kind === 0) lines.splice(at, 1);
    else if (kind === 1) lines.splice(at, 0, PIECES[next(PIECES.length)] as string);
    else lines[Math.min(at, lines.length - 1)] = PIECES[next(PIECES.length)] as string;
  }
  return lines.join("\n");
}

/** Length of a longest common subsequence of two line arrays (the optimum a diff can reach). */
function lcs(a: string[], b: string[]): number {
  const row = new Array(b.length + 1).fill(0);
  for (let i = a.length - 1; i >= 0; i--) {
    let diagonal = 0;
    for (let j = b.length - 1; j >= 0; j--) {
      const keep = row[j];
      row[j] = a[i] === b[j] ? diagonal + 1 : Math.max(row[j], row[j + 1]);
      diagonal = keep;
    }
  }
  return row[0];
}

/** Lines a patch removes and inserts. */
function lineCost(base: string, patch: LinePatch): number {
  return patch.ops.reduce(
    (sum, op) =>
      sum + splitLines(base.slice(op.at, op.at + op.remove)).length +
      splitLines(op.insert).length,
    0,
  );
}

Deno.test("line patches reproduce every target exactly, through their JSON, and change whole lines minimally", () => {
  const { next } = seeded(15);
  for (let t = 0; t < 5000; t++) {
    const base = randomText(next);
    const target = next(3) === 0 ? randomText(next) : mutate(base, next);
    const patch = diffLines(base, target);
    const decoded = decodeLinePatch(encodeLinePatch(patch));
    assert.deepEqual(decoded, patch);
    assert.equal(applyLinePatch(base, decoded), target, JSON.stringify({ base, target }));
    const a = splitLines(base);
    const b = splitLines(target);
    assert.equal(a.join(""), base);
    for (const op of patch.ops) {
      // Every change starts and ends on a line boundary of the base.
      assert.ok(op.at === 0 || base[op.at - 1] === "\n");
      const end = op.at + op.remove;
      assert.ok(end === base.length || base[end - 1] === "\n" || op.remove === 0);
    }
    // Myers finds a shortest edit script: no line is removed or inserted needlessly.
    assert.equal(
      lineCost(base, patch),
      a.length + b.length - 2 * lcs(a, b),
      JSON.stringify({ base, target }),
    );
  }
});

Deno.test("a one-line edit in a large file is a one-line patch", () => {
  const lines = Array.from(
    { length: 2500 },
    (_, i) => `  const value${i} = compute(${i}); // line ${i}\n`,
  );
  const base = lines.join("");
  const target = base.replace("compute(1234)", "compute(1234) + 1");
  const patch = diffLines(base, target);
  assert.deepEqual(patch.ops, [{
    at: lines.slice(0, 1234).join("").length,
    remove: (lines[1234] as string).length,
    insert: "  const value1234 = compute(1234) + 1; // line 1234\n",
  }]);
  assert.ok(encodeLinePatch(patch).length < 100, encodeLinePatch(patch));
  assert.equal(applyLinePatch(base, patch), target);
});

Deno.test("a change with no common lines, or beyond the bounded cost, is still exact", () => {
  const { next } = seeded(3);
  const many = (tag: string) => Array.from({ length: 3000 }, () => `${tag}${next(1e9)}`).join("\n");
  const base = many("a");
  const target = many("b");
  const patch = diffLines(base, target);
  assert.equal(applyLinePatch(base, patch), target);
  assert.equal(patch.ops.length, 1, "every line differs: one replacement");
  // 600 scattered one-line changes exceed the edit-cost bound: the middle is replaced whole.
  const lines = base.split("\n");
  for (let i = 0; i < 3000; i += 5) lines[i] = `changed ${i}`;
  const scattered = lines.join("\n");
  const wide = diffLines(base, scattered);
  assert.equal(wide.ops.length, 1);
  assert.equal(applyLinePatch(base, wide), scattered);
  // Fewer scattered changes stay separate small changes.
  const few = base.split("\n");
  for (let i = 100; i < 3000; i += 300) few[i] = `changed ${i}`;
  const fewPatch = diffLines(base, few.join("\n"));
  assert.equal(fewPatch.ops.length, 10);
  assert.equal(applyLinePatch(base, fewPatch), few.join("\n"));
});

Deno.test("empty texts, texts without a line break, a line break added at the end", () => {
  const pairs = [["", ""], ["", "x"], ["x", ""], ["x", "y"], ["\n", ""], ["", "\n\n"], [
    "a",
    "a\n",
  ]];
  for (const [a, b] of pairs) {
    assert.equal(applyLinePatch(a as string, diffLines(a as string, b as string)), b);
  }
  assert.deepEqual(diffLines("same\n", "same\n").ops, []);
});

Deno.test("a patch refuses a base it was not made for, and malformed JSON", () => {
  const patch = diffLines("a\nb\nc\n", "a\nB\nc\n");
  assert.throws(() => applyLinePatch("a\nb\n", patch), LinePatchError);
  assert.throws(
    () =>
      applyLinePatch("abc", {
        baseLength: 3,
        targetLength: 3,
        ops: [{ at: 2, remove: 2, insert: "" }],
      }),
    LinePatchError,
  );
  assert.throws(
    () => applyLinePatch("abc", { baseLength: 3, targetLength: 9, ops: [] }),
    LinePatchError,
  );
  for (const bad of ["", "{}", "[1]", "[1,2,3]", "[1,2,0,1,[1]]", '[1,2,-1,0,""]', "[1,2,0,0,3]"]) {
    assert.throws(() => decodeLinePatch(bad), LinePatchError, bad);
  }
});

Deno.test("a chain of patches applied at once equals applying them one by one", () => {
  const { next } = seeded(64);
  for (let t = 0; t < 300; t++) {
    const texts = [randomText(next)];
    for (let k = 0; k < 1 + next(70); k++) texts.push(mutate(texts.at(-1) as string, next));
    const patches = texts.slice(1).map((text, i) => diffLines(texts[i] as string, text));
    assert.equal(applyLinePatches(texts[0] as string, patches), texts.at(-1));
    assert.equal(applyLinePatches(texts[0] as string, []), texts[0]);
  }
  const patches = [diffLines("a\n", "a\nb\n"), diffLines("x\n", "y\n")];
  assert.throws(
    () => applyLinePatches("a\n", patches),
    (e) => e instanceof LinePatchError && e.patchIndex === 1,
  );
});
