/** `src/record/lineage.ts`: the transformation guess. */
import assert from "node:assert/strict";
import { guessTransformation } from "../../src/record/lineage.ts";
import { lineDeltaBetween } from "../../src/record/pattern.ts";

/** The guess as first written: every line of `before` in a set, each text split again per count. */
function referenceGuess(before: string, after: string, replaceAll: boolean) {
  const norm = (t: string) => t.includes("\r") ? t.replace(/\r\n?/g, "\n") : t;
  const count = (t: string) => t === "" ? 0 : norm(t).replace(/\n$/, "").split("\n").length;
  const delta = lineDeltaBetween(before, after);
  const { added, removed } = delta;
  if (replaceAll && count(before) === count(after)) return { delta, guess: "refactor" };
  if ((removed > 0 && added === 0) || (count(before) > 0 && count(after) <= count(before) * 0.8)) {
    return { delta, guess: "simplification" };
  }
  const old = new Set(norm(before).split("\n"));
  const text = norm(after).split("\n").filter((l) => !old.has(l)).join("\n");
  const guess = /\b(?:fix|bug|try|catch|except)\b|\?\./i.test(text)
    ? "bugfix-ish"
    : added > removed
    ? "enhancement"
    : "refactor";
  return { delta, guess, text };
}

Deno.test("a one-line fix in a large file is a bugfix, found without hashing the file's lines", () => {
  const lines = Array.from({ length: 3000 }, (_, i) => `const v${i} = ${i};`);
  const before = lines.join("\n") + "\n";
  const after = before.replace("const v1500 = 1500;", "const v1500 = a?.b ?? 1500; // fix");
  const delta = lineDeltaBetween(before, after);
  assert.equal(guessTransformation({ before, after, delta, replaceAll: false }), "bugfix");
});

Deno.test("the guess agrees with the set-of-lines definition on random edits (CR, CRLF, repeats)", () => {
  let seed = 17;
  const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const pool = ["a", "b", "try {", "x?.y", "", "fix it", "z = 1", "  return 2"];
  for (let round = 0; round < 400; round++) {
    const eol = ["\n", "\r\n", "\r"][next(3)] as string;
    const before = Array.from({ length: next(12) }, () => pool[next(pool.length)]).join(eol) +
      (next(2) ? eol : "");
    const lines = before.split(eol);
    const at = next(lines.length + 1);
    lines.splice(at, next(3), ...Array.from({ length: next(4) }, () => pool[next(pool.length)]!));
    const after = lines.join(next(4) === 0 ? "\n" : eol);
    const replaceAll = next(5) === 0;
    const ref = referenceGuess(before, after, replaceAll);
    const got = guessTransformation({ before, after, delta: ref.delta, replaceAll });
    const expected = ref.guess === "bugfix-ish" ? "bugfix" : ref.guess;
    assert.equal(got, expected, JSON.stringify({ before, after, replaceAll, text: ref.text }));
  }
});
