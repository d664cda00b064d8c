/** The store's code storage: snapshots and line patches read back exactly, never loop, never miss. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { compactCode } from "../src/store/code_maintenance.ts";
import { MAX_CHAIN, MIN_PATCH_TEXT, storableText } from "../src/store/code_storage.ts";
import { normalizeLineEndings, patternId } from "../src/record/pattern.ts";
import { parseHookPayload, type ToolChange } from "../src/record/payload.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { redactSecrets } from "../src/record/privacy.ts";
import { DB_FILE, openStore, type Store, StoredCodeError } from "../src/store/mod.ts";
import { track } from "../src/record/track.ts";
import { seeded } from "./support.ts";

const NOW = "2026-01-01T00:00:00.000Z";

/** Inserts a version's pattern the way the recording core does (LF-normalised code, raw parent). */
async function insert(store: Store, raw: string, parentRaw: string | null): Promise<string> {
  const id = await patternId(raw);
  const code = normalizeLineEndings(raw);
  store.insertPattern({
    patternId: id,
    language: "typescript",
    lineCount: 0,
    byteSize: new TextEncoder().encode(code).length,
    code,
    firstSeenAt: NOW,
    parent: parentRaw === null
      ? null
      : { patternId: await patternId(parentRaw), content: parentRaw },
  });
  return id;
}

const LINES = [
  "export function f(x: number) {",
  "  return x + 1;",
  "}",
  "",
  "const s = 'caf\u00e9';\r",
  "nul\0byte",
  "replacement \ufffd char",
  "lone \ud800 surrogate",
  "  // comment",
  "emoji 😀",
];

/** Every stored row: a patch's base keeps code and is nearer a snapshot; chains stay short. */
function assertChainInvariants(store: Store): void {
  for (const p of store.allPatterns()) {
    const row = store.codeRow(p.patternId);
    const stored = row?.stored;
    if (!stored || stored.base === null) continue;
    const base = store.codeRow(stored.base);
    assert.ok(base?.stored, `${p.patternId}: base ${stored.base} keeps its code`);
    assert.ok(base.stored.depth < stored.depth, `${p.patternId}: depth decreases towards the base`);
    assert.ok(stored.depth <= MAX_CHAIN);
  }
}

Deno.test("every version of long random histories reads back exactly; the ID recomputes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  const { next, pick } = seeded(1501);
  try {
    // Three files sharing contents (the same text in two files is one pattern), with reverts.
    const files = [0, 1, 2].map(() => ({ text: null as string | null, history: [] as string[] }));
    const expected = new Map<string, string>();
    for (let step = 0; step < 600; step++) {
      const file = files[next(files.length)]!;
      let raw: string;
      if (file.text === null) {
        // 8–16 KB: texts this large are patched on the hook's path (MIN_PATCH_TEXT).
        raw = Array.from(
          { length: 300 + next(200) },
          (_, i) => `${pick(LINES)} // ${i} ${"-".repeat(12)}`,
        ).join("\n");
      } else if (next(10) === 0 && file.history.length > 2) raw = pick(file.history); // a revert
      else if (next(15) === 0) raw = (pick(files).text ?? "") + "\n"; // another file's content
      else {
        const lines = file.text.split("\n");
        for (let k = 1 + next(3); k > 0; k--) {
          const at = next(lines.length + 1);
          if (next(3) === 0) lines.splice(at, 1);
          else lines.splice(at, next(2), pick(LINES) + (next(2) ? "\r" : ""));
        }
        raw = lines.join(next(20) === 0 ? "\r\n" : "\n");
      }
      if (raw === file.text) continue;
      const id = await insert(store, raw, file.text);
      expected.set(id, storableText(normalizeLineEndings(raw)));
      file.history.push(raw);
      file.text = raw;
    }
    assert.ok(expected.size > 300);
    const formats = new Set<string>();
    for (const [id, text] of expected) {
      const code = store.pattern(id)?.code;
      assert.equal(code, text, `pattern ${id} reads back exactly`);
      assert.equal(await patternId(code as string), id, "the stored text hashes to its ID");
      formats.add(store.codeRow(id)?.stored?.format ?? "none");
    }
    assert.ok(formats.has("patch") && formats.has("text"), [...formats].join());
    assertChainInvariants(store);
    // Export reads them all at once; a new store instance starts without cached texts.
    for (const p of store.allPatterns()) assert.equal(p.code, expected.get(p.patternId));
    // Compressed (as the background flusher leaves them), every version still reads back.
    compactCode(store);
    const fresh = openStore(dir);
    for (const [id, text] of expected) assert.equal(fresh.pattern(id)?.code, text);
    assertChainInvariants(fresh);
    fresh.close();
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a one-line edit stores a small patch; a snapshot every 64 versions bounds every read", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  try {
    let text = Array.from(
      { length: 2500 },
      (_, i) => `  const v${i} = compute(${i}, "${"x".repeat(30)}");`,
    )
      .join("\n");
    let parent: string | null = null;
    const ids: string[] = [];
    for (let k = 0; k < 200; k++) {
      const next = text.replace(
        `compute(${(k * 37) % 2500},`,
        `compute(${(k * 37) % 2500} + ${k},`,
      );
      ids.push(await insert(store, next, parent));
      parent = next;
      text = next;
    }
    const rows = ids.map((id) => store.codeRow(id)!.stored!);
    const snapshots = rows.map((r, i) => [r.format, i] as const).filter(([f]) => f === "text");
    assert.deepEqual(snapshots.map(([, i]) => i), [0, 64, 128, 192]);
    for (const r of rows) {
      if (r.format === "patch") assert.ok(r.data.length < 120, `${r.data.length}`);
    }
    assert.ok(rows.every((r) => r.depth <= MAX_CHAIN));
    assert.equal(store.pattern(ids[199]!)?.code, text);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("reverts X → Y → X add no row and no loop; a wholesale rewrite becomes a snapshot", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  try {
    const x = "a line of code\nb\nc\n".repeat(500);
    const y = x.replace("b", "B");
    const ix = await insert(store, x, null);
    const iy = await insert(store, y, x);
    assert.equal(await insert(store, x, y), ix); // X again: already stored, unchanged
    assert.equal(store.codeRow(ix)?.stored?.format, "text");
    assert.equal(store.codeRow(iy)?.stored?.base, ix);
    assert.equal(store.pattern(ix)?.code, x);
    assert.equal(store.pattern(iy)?.code, y);
    const other = "completely different\n".repeat(600);
    const io = await insert(store, other, y);
    assert.equal(
      store.codeRow(io)?.stored?.format,
      "text",
      "a patch larger than the text is not kept",
    );
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("the recording core's versions read back redacted and exact; a redacted parent is read from the store", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  try {
    const template = JSON.parse(
      Deno.readTextFileSync(new URL("../src/cli/demo_session/04-post-edit.json", import.meta.url)),
    );
    let before = 'import os\r\npassword = "hunter2hunter2hunter2"\r\nx = 1\r\n' +
      "y = '\ud800\0'\r\n".repeat(1200);
    const stored: [string, string][] = [];
    for (let k = 0; k < 80; k++) {
      const oldString = `x = ${k + 1}`;
      const newString = `x = ${k + 2}`;
      const parsed = parseHookPayload(JSON.stringify({
        ...template,
        tool_use_id: `toolu_${k}`,
        tool_input: { file_path: "/p/s.py", old_string: oldString, new_string: newString },
        tool_response: {
          ...template.tool_response,
          filePath: "/p/s.py",
          originalFile: before,
          oldString,
          newString,
        },
      })) as ToolChange;
      const outcome = await track({ ...defaultConfig(dir), dataDir: dir }, parsed, { store });
      assert.equal(outcome.outcome, "recorded");
      const id = outcome.versions.at(-1)!.patternId;
      stored.push([id, redactSecrets(normalizeLineEndings(parsed.after)).text]);
      before = parsed.after;
    }
    for (const [id, text] of stored) {
      const row = store.pattern(id);
      assert.ok(row?.redactedSecrets, "the secret was redacted");
      assert.equal(row?.code, storableText(text));
      assert.ok(!row?.code?.includes("hunter2"));
    }
    // The parent's stored text differs from the payload's (redacted), yet the versions are patches.
    assert.ok(stored.slice(2).some(([id]) => store.codeRow(id)?.stored?.format === "patch"));
    assertChainInvariants(store);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a parent content that is not the parent's stored text is not trusted", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  try {
    const x = "one\ntwo\nthree\n".repeat(700);
    const y = x.replace("two", "2");
    const ix = await insert(store, x, null);
    const iy = await patternId(y);
    store.insertPattern({
      patternId: iy,
      language: "text",
      lineCount: 0,
      byteSize: y.length,
      code: y,
      firstSeenAt: NOW,
      parent: { patternId: ix, content: "not the parent at all\n" },
    });
    assert.equal(store.codeRow(iy)?.stored?.format, "patch");
    assert.equal(store.pattern(iy)?.code, y);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("no code (store_code off, too large) stores nothing; the same pattern with code later keeps it", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  try {
    const id = await patternId("x = 1\n");
    const row = {
      patternId: id,
      language: "python",
      lineCount: 1,
      byteSize: 6,
      firstSeenAt: NOW,
    };
    assert.equal(store.insertPattern({ ...row, code: null, codeOmitted: "store_code_off" }), true);
    assert.equal(store.pattern(id)?.code, null);
    assert.equal(store.pattern(id)?.codeOmitted, "store_code_off");
    assert.equal(store.codeStorage().bytes, 0);
    assert.equal(store.insertPattern({ ...row, code: "x = 1\n" }), false);
    assert.equal(store.pattern(id)?.code, "x = 1\n");
    assert.equal(store.pattern(id)?.codeOmitted, null);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a damaged chain is reported, never followed in a loop or read wrong", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  try {
    const x = "a\nb\n".repeat(2500);
    const ix = await insert(store, x, null);
    const iy = await insert(store, x.replace("b", "c"), x);
    const iz = await insert(store, x.replace("b", "d"), x.replace("b", "c"));
    const db = new DatabaseSync(`${dir}/${DB_FILE}`);
    // A base that claims to be as deep as its dependent: following it could loop.
    db.prepare("UPDATE pattern_code SET depth = 5 WHERE pattern_id = ?").run(iy);
    const error = (pattern: RegExp) => (e: unknown) =>
      e instanceof StoredCodeError && pattern.test(e.message);
    assert.throws(() => openStore(dir).pattern(iz), error(/not nearer/));
    // A base whose code is gone.
    db.prepare("DELETE FROM pattern_code WHERE pattern_id = ?").run(iy);
    assert.throws(() => openStore(dir).pattern(iz), error(/missing/));
    // A patch that does not fit its base.
    db.prepare(
      "INSERT INTO pattern_code (pattern_id, format, base, depth, chain_bytes, length, data) VALUES (?, 'patch', ?, 1, 9, 5, ?)",
    ).run(iy, ix, new TextEncoder().encode('[3,5,0,1,"zz"]'));
    assert.throws(() => openStore(dir).pattern(iy), error(/does not apply/));
    // A format from the future.
    db.prepare("UPDATE pattern_code SET format = 'zstd' WHERE pattern_id = ?").run(ix);
    assert.throws(() => openStore(dir).pattern(ix), error(/cannot read/));
    db.close();
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("recording a change and reading compressed history never load node:zlib", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  let text = Array.from({ length: 300 }, (_, i) => `line ${i} ${"y".repeat(40)}`).join("\n");
  let parent: string | null = null;
  let first = "";
  for (let k = 0; k < 150; k++) {
    const next = text.replace(`line ${k} `, `line ${k}! `);
    if (k === 0) first = next;
    const id = await insert(store, next, parent);
    store.insertVersion({
      filePath: "/p/long.txt",
      version: k + 1,
      patternId: id,
      parentPatternId: parent === null ? null : await patternId(parent),
      eventType: parent === null ? "pattern_created" : "pattern_modified",
      transformationType: null,
      toolName: "Edit",
      toolUseId: null,
      sessionId: null,
      correlationId: "c",
      reason: null,
      createdAt: NOW,
    });
    parent = next;
    text = next;
  }
  compactCode(store);
  assert.ok(store.codeStorage().compressed > 0, "older snapshots were compressed");
  store.close();
  // The newest version's chain stayed uncompressed: a hook patching against it (with the content
  // from the payload, or read back when the payload has none) needs no node:zlib.
  const script = `
    import { openStore } from "${new URL("../src/store/store.ts", import.meta.url).href}";
    import { compressionLoaded } from "${
    new URL("../src/store/compression.ts", import.meta.url).href
  }";
    const [dir, parent, parentText] = Deno.args;
    const store = openStore(dir);
    store.immediate(() => {
      for (const [i, content] of [[1, parentText], [2, null]]) {
        store.insertPattern({ patternId: "f".repeat(15) + i, language: "text", lineCount: 0, byteSize: 0,
          code: parentText + "\\nmore " + i, firstSeenAt: "t", parent: { patternId: parent, content } });
      }
    });
    const format = store.codeRow("f".repeat(15) + 2).stored.format;
    const oldest = store.codeRow(Deno.args[3]).stored.format;
    const read = store.pattern(Deno.args[3]).code === Deno.args[4];
    console.log(JSON.stringify({ zlib: compressionLoaded(), format, oldest, read }));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script, dir, await patternId(text), text, await patternId(first), first],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
    zlib: false,
    format: "patch",
    oldest: "text+deflate",
    read: true,
  });
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("small texts are stored whole by the hook, and made patches by compaction", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-code-" });
  const store = openStore(dir);
  try {
    let text = Array.from({ length: 60 }, (_, i) => `line ${i} of a small module`).join("\n");
    assert.ok(text.length < MIN_PATCH_TEXT);
    let parent: string | null = null;
    const versions: [string, string][] = [];
    for (let k = 0; k < 20; k++) {
      const next = text.replace(`line ${k} `, `line ${k}+ `);
      const id = await insert(store, next, parent);
      // Compaction patches a version against its lineage parent: the file's previous version.
      store.insertVersion({
        filePath: "/p/small.txt",
        version: k + 1,
        patternId: id,
        parentPatternId: versions.at(-1)?.[0] ?? null,
        eventType: k === 0 ? "pattern_created" : "pattern_modified",
        transformationType: null,
        toolName: "Edit",
        toolUseId: null,
        sessionId: null,
        correlationId: "c",
        reason: null,
        createdAt: NOW,
      });
      versions.push([id, next]);
      parent = next;
      text = next;
    }
    assert.ok(versions.every(([id]) => store.codeRow(id)?.stored?.format === "text"));
    compactCode(store);
    const formats = versions.map(([id]) => store.codeRow(id)?.stored?.format);
    // All but the first and the newest (a hook may read the newest: it stays as it was).
    assert.equal(formats.filter((f) => f === "patch").length, 18, formats.join());
    assertChainInvariants(store);
    for (const [id, text] of versions) assert.equal(store.pattern(id)?.code, text);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});
