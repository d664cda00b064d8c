/**
 * Blame: the line matcher, carrying origins through changes, and whole histories read from a store
 * (Claude's versions, changes outside Claude Code, a file that existed before tracking, reverts,
 * versions whose code is not kept, the disk file with CRLF endings or a secret), through the
 * stored patches and through fresh diffs alike.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import {
  advanceTo,
  applyChange,
  freshBlame,
  type LineSource,
  UNKNOWN_SOURCE,
} from "../src/views/blame.ts";
import { blameRuns } from "../src/views/blame_runs.ts";
import { AttributionCarrier, blameFile } from "../src/views/blame_history.ts";
import { blameJson, blameOf } from "../src/cli/blame.ts";
import { parseBlameArgs } from "../src/cli/commands/blame.ts";
import { comparableText } from "../src/views/disk_text.ts";
import { defaultConfig, type TrackerConfig } from "../src/config/mod.ts";
import { matchLines } from "../src/views/line_match.ts";
import { diffLines } from "../src/store/line_patch.ts";
import { openStore } from "../src/store/mod.ts";
import { seeded } from "./support.ts";

/** Length of a longest common subsequence, by dynamic programming (small inputs only). */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = a[i - 1] === b[j - 1] ? diagonal + 1 : Math.max(row[j], row[j - 1]);
      diagonal = up;
    }
  }
  return row[b.length];
}

function assertValidMatch(a: readonly string[], b: readonly string[]) {
  const runs = matchLines(a, b);
  let lastA = -1;
  let lastB = -1;
  let total = 0;
  for (const run of runs) {
    assert.ok(run.a > lastA && run.b > lastB, "runs go forward on both sides");
    for (let k = 0; k < run.length; k++) assert.equal(a[run.a + k], b[run.b + k]);
    lastA = run.a + run.length - 1;
    lastB = run.b + run.length - 1;
    total += run.length;
  }
  return total;
}

Deno.test("matchLines finds a longest common subsequence of small inputs (random cases)", () => {
  const random = seeded(14);
  for (let round = 0; round < 400; round++) {
    const pick = () =>
      Array.from({ length: random.next(12) }, () => "abcd"[random.next(4)] as string);
    const a = pick();
    const b = pick();
    assert.equal(assertValidMatch(a, b), lcsLength(a, b), `${a} / ${b}`);
  }
});

Deno.test("matchLines past Myers' bound: unique lines anchor the match, unchanged lines are kept", () => {
  // 3,000 lines, every third rewritten: far over the bounded edit cost.
  const a = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
  const b = a.map((line, i) => (i % 3 === 0 ? `${line} // reformatted` : line));
  const matched = assertValidMatch(a, b);
  assert.equal(matched, 2000, "every unchanged line is matched");
});

const source = (origin: LineSource["origin"], version: number): LineSource => ({
  ...UNKNOWN_SOURCE,
  origin,
  version,
});

Deno.test("a change keeps the origin of the lines it did not touch, and a last line that only gains a newline", () => {
  const v1 = source("ai", 1);
  const v2 = source("external", 2);
  const state = freshBlame("a\nb\nc", v1);
  const change = advanceTo(state, "a\nB\nc\nd\n", v2, { hunks: true });
  assert.deepEqual(state.sources.map((s) => s.version), [1, 2, 1, 2]);
  assert.deepEqual({ kept: change.kept, added: change.added, removed: change.removed }, {
    kept: 2,
    added: 2,
    removed: 1,
  });
  assert.deepEqual(change.removedSources, [v1]);
  assert.deepEqual(state.counts, { ai: 2, external: 2, baseline: 0, unknown: 0 });
  assert.deepEqual(change.hunks?.flatMap((h) => h.lines.map((l) => `${l.kind} ${l.text}`)), [
    "del b",
    "add B",
    "same c",
    "add d",
  ]);
  // A patch made for another text is refused, and the state is left as it was.
  assert.equal(applyChange(state, [{ at: 1, remove: 1, insert: "x" }], v2), null);
  assert.equal(state.lines.join(""), "a\nB\nc\nd\n");
  assert.deepEqual(blameRuns(state.sources).map((r) => [r.start, r.end, r.source.version]), [
    [1, 1, 1],
    [2, 2, 2],
    [3, 3, 1],
    [4, 4, 2],
  ]);
});

function tempConfig(extra: Partial<TrackerConfig> = {}): TrackerConfig {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-blame-" });
  return { ...defaultConfig(dataDir), dataDir, autoFlush: false, ...extra };
}

const V1 = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";
// A person changes two lines and appends a function (outside Claude Code).
const PERSON = V1.replace("return a + b", "return b + a").replace("return a - b", "return -b + a") +
  "\n\ndef mul(a, b):\n    return a * b\n";
// Claude edits again: a docstring and a guard.
const V3 = PERSON.replace("def sub(a, b):\n", 'def sub(a, b):\n    """a minus b"""\n');

Deno.test("a history of Claude's versions and a person's changes: every line to its tool call or to outside", async () => {
  const config = tempConfig();
  const tracker = new PatternTracker(config);
  await tracker.trackCreation(V1, { filePath: "/p/calc.py", toolUseId: "toolu_w" });
  await tracker.trackModification(V3, {
    filePath: "/p/calc.py",
    parentCode: PERSON,
    toolUseId: "toolu_e",
  });
  tracker.close();
  const store = openStore(config.dataDir);
  try {
    const { walk, last } = blameFile(store, "/p/calc.py");
    assert.equal(last?.version, 3, "v1 Write, v2 external (bridged), v3 Edit");
    const json = blameJson(blameOf(store, "/p/calc.py", { kind: "not_compared" }));
    const who = json.lines.map((l) => `${l.origin}:${l.version}:${l.tool_use_id}`);
    assert.deepEqual(who, [
      "ai:1:toolu_w", // def add
      "external:2:null", // return b + a
      "ai:1:toolu_w",
      "ai:1:toolu_w",
      "ai:1:toolu_w", // def sub
      "ai:3:toolu_e", // the docstring
      "external:2:null", // return -b + a
      "external:2:null", // the appended function, four lines
      "external:2:null",
      "external:2:null",
      "external:2:null",
    ]);
    assert.equal(json.lines[0]?.session_id, tracker.sessionId);
    assert.equal(json.lines[1]?.session_id, null, "an external line names no session");
    assert.equal(json.lines.map((l) => l.text + "\n").join(""), V3);
    assert.deepEqual(walk.state.counts, { ai: 5, external: 6, baseline: 0, unknown: 0 });
  } finally {
    store.close();
  }
});

Deno.test("a file that existed before tracking: its lines are baseline until Claude changes them", async () => {
  const config = tempConfig();
  const tracker = new PatternTracker(config);
  await tracker.trackModification("a = 1\nb = 2\nc = 3\n", {
    filePath: "/p/old.py",
    parentCode: "a = 1\nb = 0\n",
    toolUseId: "toolu_1",
  });
  tracker.close();
  const store = openStore(config.dataDir);
  try {
    const json = blameJson(blameOf(store, "/p/old.py", { kind: "not_compared" }));
    assert.deepEqual(json.lines.map((l) => [l.origin, l.version, l.tool_use_id]), [
      ["baseline", 1, null],
      ["ai", 2, "toolu_1"],
      ["ai", 2, "toolu_1"],
    ]);
    assert.ok(json.lines[0]?.pattern_id, "a baseline line names its version's pattern");
  } finally {
    store.close();
  }
});

Deno.test("the disk file: changes since the last version are external by default, --stored ignores them; CRLF and a secret on disk are not changes", async () => {
  const config = tempConfig();
  const secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8";
  const code = `TOKEN = "${secret}"\n\ndef f():\n    return 1\n`;
  const tracker = new PatternTracker(config);
  await tracker.trackCreation(code, { filePath: "/p/s.py", toolUseId: "toolu_s" });
  tracker.close();
  const store = openStore(config.dataDir);
  try {
    const stored = store.code((await blameFile(store, "/p/s.py")).last!.patternId)!;
    assert.ok(!stored.includes(secret), "the store keeps the redacted text");
    const onDisk = (text: string) => ({
      kind: "text" as const,
      text: comparableText(new TextEncoder().encode(text), config),
    });
    // The same content on disk, with CRLF endings and the real secret: nothing changed.
    const same = blameOf(store, "/p/s.py", onDisk(code.replaceAll("\n", "\r\n")));
    assert.equal(same.disk, "same");
    assert.equal(same.changedOnDisk, 0);
    assert.ok(same.sources.every((s) => s.origin === "ai"));
    assert.ok(!JSON.stringify(blameJson(same)).includes(secret), "no secret from disk is printed");
    // A person edits the function on disk.
    const edited = code.replace("return 1", "return 2") + "# note\n";
    const changed = blameJson(blameOf(store, "/p/s.py", onDisk(edited.replaceAll("\n", "\r\n"))));
    assert.equal(changed.disk, "changed");
    assert.deepEqual(changed.lines.map((l) => [l.origin, l.version]), [
      ["ai", 1],
      ["ai", 1],
      ["ai", 1],
      ["external", null],
      ["external", null],
    ]);
    assert.ok(!JSON.stringify(changed).includes(secret));
    // --stored: the last tracked version as it is.
    const storedOnly = blameJson(blameOf(store, "/p/s.py", { kind: "not_compared" }));
    assert.equal(storedOnly.disk, "not_compared");
    assert.equal(storedOnly.lines.length, 4);
    assert.ok(storedOnly.lines.every((l) => l.origin === "ai"));
  } finally {
    store.close();
  }
});

Deno.test("a revert: the lines the revert restores belong to the revert's tool call", async () => {
  const config = tempConfig();
  const tracker = new PatternTracker(config);
  const x = "one\ntwo\nthree\n";
  const y = "one\nTWO\nthree\n";
  await tracker.trackCreation(x, { filePath: "/p/r.txt", toolUseId: "toolu_1" });
  await tracker.trackModification(y, { filePath: "/p/r.txt", toolUseId: "toolu_2" });
  await tracker.trackModification(x, { filePath: "/p/r.txt", toolUseId: "toolu_3" });
  tracker.close();
  const store = openStore(config.dataDir);
  try {
    const history = store.fileHistory("/p/r.txt");
    assert.equal(history[2]?.patternId, history[0]?.patternId, "the revert is the first pattern");
    const json = blameJson(blameOf(store, "/p/r.txt", { kind: "not_compared" }));
    assert.deepEqual(json.lines.map((l) => l.tool_use_id), ["toolu_1", "toolu_3", "toolu_1"]);
  } finally {
    store.close();
  }
});

Deno.test("versions whose code is not kept: the lines changed across them are unknown; the last version without code cannot be blamed", async () => {
  const config = tempConfig({ maxPatternBytes: 60 });
  const tracker = new PatternTracker(config);
  await tracker.trackCreation("a\nb\nc\n", { filePath: "/p/g.txt", toolUseId: "toolu_1" });
  // Over the size cap: recorded without code.
  await tracker.trackModification("a\nb\nc\n" + "x".repeat(80) + "\n", {
    filePath: "/p/g.txt",
    toolUseId: "toolu_2",
  });
  await tracker.trackModification("a\nB\nc\nd\n", { filePath: "/p/g.txt", toolUseId: "toolu_3" });
  await tracker.trackModification("a\nB\nc\nd\ne\n", {
    filePath: "/p/g.txt",
    toolUseId: "toolu_4",
  });
  await tracker.trackCreation("y".repeat(100) + "\n", { filePath: "/p/big.txt" });
  tracker.close();
  const store = openStore(config.dataDir);
  try {
    const json = blameJson(blameOf(store, "/p/g.txt", { kind: "not_compared" }));
    assert.deepEqual(json.lines.map((l) => [l.origin, l.tool_use_id]), [
      ["ai", "toolu_1"],
      ["unknown", null],
      ["ai", "toolu_1"],
      ["unknown", null],
      ["ai", "toolu_4"],
    ]);
    assert.throws(
      () => blameOf(store, "/p/big.txt", { kind: "not_compared" }),
      /the code of v1 of \/p\/big\.txt is not kept \(it was over max_pattern_bytes\)/,
    );
  } finally {
    store.close();
  }
});

Deno.test("the stored patches and fresh diffs blame alike; the carrier in any order gives what a walk from the start gives", async () => {
  const config = tempConfig();
  const tracker = new PatternTracker(config);
  const random = seeded(7);
  // A file over 8 KB, so that the hooks' core stores patches against the version before.
  let text = Array.from({ length: 400 }, (_, i) => `line ${i} ${"x".repeat(20)}`).join("\n") + "\n";
  await tracker.trackCreation(text, { filePath: "/p/big.py", toolUseId: "toolu_0" });
  for (let i = 1; i <= 41; i++) {
    const lines = text.split("\n");
    const at = random.next(lines.length - 1);
    if (i % 3 === 0) lines.splice(at, 1);
    else lines.splice(at, 1, `changed ${i}`, `added ${i}`);
    const next = lines.join("\n");
    // Every fifth change is made outside Claude Code (the next call bridges it).
    if (i % 5 === 0) {
      text = next;
      continue;
    }
    await tracker.trackModification(next, {
      filePath: "/p/big.py",
      parentCode: text,
      toolUseId: `toolu_${i}`,
    });
    text = next;
  }
  tracker.close();
  const store = openStore(config.dataDir);
  try {
    const formats = store.selectRows(
      "SELECT c.format, COUNT(*) AS n FROM pattern_code c GROUP BY c.format",
    );
    assert.ok(formats.some((r) => r.format === "patch"), JSON.stringify(formats));
    const history = store.fileHistory("/p/big.py");
    // Blame through the stored patches, step by step …
    const steps: number[] = [];
    const { walk } = blameFile(store, "/p/big.py", {
      onStep: (s) => steps.push(s.version.version),
    });
    assert.deepEqual(steps, history.map((v) => v.version));
    // … and through fresh diffs of the texts, carried.
    const carrier = new AttributionCarrier(store);
    const carried = history.map((v) => carrier.attributionOf(v, store.code(v.patternId)));
    const reference = history.map((v) => {
      const walkTo = blameFile(store, "/p/big.py", { upTo: v.version }).walk;
      return walkTo.lastAttribution;
    });
    assert.deepEqual(carried, reference);
    // Out of order, and asked twice: the same.
    const fresh = new AttributionCarrier(store);
    assert.deepEqual(fresh.attributionOf(history[20]!), reference[20]);
    assert.deepEqual(fresh.attributionOf(history[5]!), reference[5]);
    assert.deepEqual(fresh.attributionOf(history[5]!), reference[5]);
    assert.deepEqual(fresh.attributionOf(history[6]!), reference[6]);
    assert.equal(walk.state.lines.join(""), text);
    const last = reference[reference.length - 1] as { lines: number; by_origin: { ai: number } };
    assert.equal(last.lines, text.split("\n").length - 1);
    assert.ok(last.by_origin.ai > 0);
    assert.ok(history.some((v) => v.toolName === "external"));
  } finally {
    store.close();
  }
});

Deno.test("blame's command line: one file, --json, --stored; anything else is a usage error", () => {
  assert.deepEqual(parseBlameArgs(["a.py", "--stored"]), {
    file: "a.py",
    json: false,
    stored: true,
  });
  assert.throws(() => parseBlameArgs([]), (e: Error & { exitCode?: number }) => e.exitCode === 2);
  assert.throws(() => parseBlameArgs(["a", "b"]), /blame takes one file/);
  assert.throws(() => parseBlameArgs(["a", "--nope"]), /Unknown option/);
  assert.ok(diffLines("a\n", "b\n").ops.length === 1);
});
