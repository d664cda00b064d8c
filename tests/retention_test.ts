/** Retention and maintenance: prune drops only old delivered code, breaks no chain, frees what it says. */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  compactCode,
  maintainStore,
  MAINTENANCE_INTERVAL_MS,
} from "../src/store/code_maintenance.ts";
import { defaultConfig, resolveConfig } from "../src/config/mod.ts";
import { normalizeLineEndings, patternId } from "../src/record/pattern.ts";
import { planPrune, prune, PRUNED, retentionCutoff } from "../src/store/retention.ts";
import { DB_FILE, openStore, type Store } from "../src/store/mod.ts";
import { parseAgeLimit } from "../src/cli/commands/prune.ts";
import { runBackgroundFlusher } from "../src/delivery/background.ts";
import { parseHookPayload, type ToolChange } from "../src/record/payload.ts";
import { track } from "../src/record/track.ts";
import { startPhase4Server } from "./phase4_server.ts";
import { denoDirEnv, runCli, seeded } from "./support.ts";

/** The server the delivery states below are recorded for. */
const SERVER = "http://127.0.0.1:8053";

const DAY = 86_400_000;
const NOW = new Date("2026-06-01T00:00:00.000Z");
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();

/** How a version ends up on the delivery side. */
type Delivery = "delivered" | "queued" | "dead" | "never";

/**
 * Records a file's versions (pattern with parent, version, edge, an event) with the given ages and
 * delivery states; returns each version's pattern ID and text.
 */
async function history(
  store: Store,
  file: string,
  texts: string[],
  age: (i: number) => number,
  delivery: (i: number) => Delivery,
): Promise<{ id: string; text: string }[]> {
  const out: { id: string; text: string }[] = [];
  let parent: { id: string; text: string } | null = null;
  const start = (store.latestVersion(file)?.version ?? 0) + 1;
  for (const [i, text] of texts.entries()) {
    const id = await patternId(text);
    const at = ago(age(i));
    store.immediate(() => {
      store.insertPattern({
        patternId: id,
        language: "typescript",
        lineCount: text.split("\n").length,
        byteSize: new TextEncoder().encode(text).length,
        code: text,
        firstSeenAt: at,
        parent: parent && { patternId: parent.id, content: parent.text },
      });
      const versionId = store.insertVersion({
        filePath: file,
        version: start + i,
        patternId: id,
        parentPatternId: parent?.id ?? null,
        eventType: parent ? "pattern_modified" : "pattern_created",
        transformationType: parent ? "refactor" : null,
        toolName: "Edit",
        toolUseId: `toolu_${file}_${i}`,
        sessionId: "s",
        correlationId: "c",
        reason: null,
        createdAt: at,
      });
      if (parent) {
        store.insertEdge({
          child: id,
          parent: parent.id,
          edgeType: "modified_from",
          transformationType: "refactor",
          filePath: file,
          createdAt: at,
        });
      }
      const state = delivery(i);
      if (state !== "never") {
        store.enqueueVersion(versionId, at);
        const row = store.queuedVersions(SERVER, 1_000_000).at(-1)!;
        if (state === "delivered") store.markDelivered(SERVER, [row.queueId], at);
        if (state === "dead") {
          store.moveToDeadLetter(
            SERVER,
            row.queueId,
            { status: 422, message: "refused", verdict: "rejected" },
            at,
          );
        }
      }
    });
    out.push({ id, text });
    parent = { id, text };
  }
  return out;
}

/** A 400-line module changed one line at a time, `n` times. */
function edits(seed: number, n: number, tag: string): string[] {
  const { next } = seeded(seed);
  const lines = Array.from(
    { length: 400 },
    (_, i) => `  const ${tag}${i} = make(${i}, "${"z".repeat(30)}");`,
  );
  const texts: string[] = [];
  for (let k = 0; k < n; k++) {
    lines[next(lines.length)] = `  const ${tag}${k}_edit = make(${next(1e6)});`;
    texts.push(lines.join("\n") + "\n");
  }
  return texts;
}

function assertReadable(store: Store): void {
  for (const p of store.allPatterns()) {
    const stored = store.codeRow(p.patternId)?.stored;
    if (!stored?.base) continue;
    const base = store.codeRow(stored.base)?.stored;
    assert.ok(base, `${p.patternId}'s base ${stored.base} keeps its code`);
    assert.ok(base.depth < stored.depth);
  }
}

function counts(store: Store) {
  const c = store.counts();
  return {
    patterns: c.patterns,
    versions: c.versions,
    edges: c.edges,
    outbox: c.outbox,
    dead: c.deadLetters,
  };
}

Deno.test("prune drops only the code of old, delivered, superseded versions; the dry run is the real run", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-prune-" });
  const store = openStore(dir);
  try {
    // a.ts: 150 versions from 300 days ago to 10 days ago; a few old ones not delivered.
    const a = await history(
      store,
      "/p/a.ts",
      edits(1, 150, "a"),
      (i) => 300 - 2 * i,
      (i) => i === 20 ? "queued" : i === 21 ? "dead" : i === 22 ? "never" : "delivered",
    );
    // b.ts: old throughout; its newest version is its current content and stays.
    const b = await history(store, "/p/b.ts", edits(2, 5, "b"), () => 200, () => "delivered");
    // c.ts has, recently, the same content as an old version of a.ts: that pattern stays.
    await history(store, "/p/c.ts", [a[10]!.text], () => 1, () => "delivered");
    const before = counts(store);
    const texts = new Map([...a, ...b].map((v) => [v.id, v.text]));

    const cutoff = retentionCutoff(90, NOW);
    const dry = prune(store, cutoff, { dryRun: true });
    assert.equal(store.codeStorage().bytes, dry.codeBytesBefore, "a dry run changes nothing");
    const dropped = new Set(dry.drop.map((d) => d.patternId));
    // a.ts versions 0..105 are older than 90 days (age 300 - 2i > 90 ⇔ i < 105).
    const expected = a.slice(0, 105).filter((_, i) => ![10, 20, 21, 22].includes(i))
      .concat(b.slice(0, 4)).map((v) => v.id);
    assert.deepEqual([...dropped].sort(), [...new Set(expected)].sort());
    assert.equal(dry.undelivered, 3);
    assert.ok(dry.resnapshot.length > 0, "some kept versions were patches against dropped ones");

    const real = prune(store, cutoff);
    assert.deepEqual(real.drop, dry.drop);
    assert.deepEqual(
      real.resnapshot.map((r) => [r.patternId, r.stored.format, r.stored.data.length]),
      dry.resnapshot.map((r) => [r.patternId, r.stored.format, r.stored.data.length]),
    );
    assert.equal(real.freedBytes, dry.freedBytes);
    assert.equal(
      store.codeStorage().bytes,
      dry.codeBytesBefore - dry.freedBytes,
      "frees exactly what it said",
    );

    for (const [id, text] of texts) {
      const p = store.pattern(id)!;
      assert.equal(p.code, dropped.has(id) ? null : text, id);
      if (dropped.has(id)) assert.equal(p.codeOmitted, PRUNED);
      assert.equal(p.byteSize, new TextEncoder().encode(text).length, "sizes stay");
    }
    assert.deepEqual(counts(store), before, "versions, edges, events: nothing else goes");
    assertReadable(store);
    // Nothing more to do at the same cutoff.
    assert.equal(planPrune(store, cutoff).drop.length, 0);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("after a prune the file shrinks by at least what prune said it frees (incremental vacuum)", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-prune-" });
  const store = openStore(dir);
  try {
    // Rewrites of half the file: many snapshots, so there is something substantial to free.
    const { next } = seeded(9);
    const texts = Array.from(
      { length: 120 },
      (_, k) =>
        Array.from(
          { length: 300 },
          (_, i) => `row ${i} ${i % 2 === k % 2 ? next(1e9) : "same"} ${"w".repeat(20)}`,
        )
          .join("\n"),
    );
    await history(store, "/p/big.txt", texts, (i) => 200 - i, () => "delivered");
    compactCode(store);
    assert.equal(store.shrink().method, "incremental", "a new store shrinks without a VACUUM");
    const used = () => store.databaseSize().fileBytes - store.databaseSize().freeBytes;
    const before = used();
    // What the stored code occupies, pages and all: no prune can shrink the file by more.
    const db = new DatabaseSync(`${dir}/${DB_FILE}`, { readOnly: true });
    const codePages = Number(
      (db.prepare(
        "SELECT SUM(pgsize) AS n FROM dbstat WHERE name IN ('pattern_code', 'pattern_code_base', 'sqlite_autoindex_pattern_code_1')",
      ).get() as { n: number }).n,
    );
    db.close();
    const plan = prune(store, retentionCutoff(90, NOW));
    assert.ok(plan.freedBytes > 100_000, `${plan.freedBytes}`);
    assert.equal(store.shrink().method, "incremental");
    const shrink = before - used();
    // At least the code freed: the space around those rows (index entries, row headers, the
    // unused ends of their pages, left over when compaction rewrote them smaller) goes too.
    assert.ok(
      shrink >= plan.freedBytes && shrink <= codePages,
      `freed ${plan.freedBytes} bytes of code, the file shrank by ${shrink}`,
    );
    assert.equal(store.databaseSize().freeBytes, 0);
    assertReadable(store);
    // Versions at most 90 days old (200 - i <= 90) keep their code.
    for (const v of store.fileHistory("/p/big.txt")) {
      const kept = 200 - (v.version - 1) <= 90 || v.version === texts.length;
      assert.equal(store.pattern(v.patternId)?.code, kept ? texts[v.version - 1] : null);
    }
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a prune in small chunks never leaves a patch without its base", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-prune-" });
  const store = openStore(dir);
  try {
    const a = await history(
      store,
      "/p/a.ts",
      edits(3, 140, "a"),
      (i) => 280 - 2 * i,
      () => "delivered",
    );
    const cutoff = retentionCutoff(60, NOW);
    for (let round = 0; round < 200; round++) {
      const plan = prune(store, cutoff, { limit: 1 + (round % 7) });
      assertReadable(store);
      for (const v of a.slice(-20)) assert.equal(store.pattern(v.id)?.code, v.text);
      if (plan.drop.length === 0) break;
    }
    assert.equal(planPrune(store, cutoff).drop.length, 0);
    // The versions of the last 60 days all kept their code.
    for (const [i, v] of a.entries()) {
      if (280 - 2 * i <= 60) assert.equal(store.pattern(v.id)?.code, v.text);
    }
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("content whose code was pruned gets it back when it is written again", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-prune-" });
  const store = openStore(dir);
  try {
    const a = await history(store, "/p/a.ts", edits(4, 3, "a"), (i) => 200 - i, () => "delivered");
    prune(store, retentionCutoff(30, NOW));
    assert.equal(store.pattern(a[0]!.id)?.code, null);
    // A revert to the first version.
    await history(store, "/p/a.ts", [a[0]!.text], () => 0, () => "queued");
    assert.equal(store.pattern(a[0]!.id)?.code, a[0]!.text);
    assert.equal(store.pattern(a[0]!.id)?.codeOmitted, null);
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("maintenance compresses all but the newest versions' chains, applies retention_days, at most every 10 minutes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "pt-prune-" });
  const store = openStore(dir);
  try {
    const a = await history(
      store,
      "/p/a.ts",
      edits(5, 200, "a"),
      (i) => 400 - 2 * i,
      () => "delivered",
    );
    const raw = store.codeStorage();
    assert.equal(raw.compressed, 0, "hooks write no compressed rows");
    let clock = NOW;
    const first = maintainStore(store, { retentionDays: 0 }, { now: () => clock });
    assert.ok(first && first.compacted.rows > 0 && first.pruned === null);
    assert.ok(store.codeStorage().bytes < raw.bytes);
    // The newest version's chain is untouched: a hook reads it without node:zlib.
    const hot = store.hotCodeIds();
    assert.ok(hot.has(a.at(-1)!.id));
    for (const id of hot) assert.ok(!store.codeRow(id)!.stored!.format.endsWith("+deflate"), id);
    for (const v of a) assert.equal(store.pattern(v.id)?.code, v.text);
    // Too soon: nothing runs.
    clock = new Date(NOW.getTime() + MAINTENANCE_INTERVAL_MS - 1);
    assert.equal(maintainStore(store, { retentionDays: 30 }, { now: () => clock }), null);
    clock = new Date(NOW.getTime() + MAINTENANCE_INTERVAL_MS);
    const second = maintainStore(store, { retentionDays: 30 }, { now: () => clock });
    assert.ok(second?.pruned && second.pruned.drop.length > 100);
    assertReadable(store);
    // Retention ran 10 minutes after NOW: a version exactly 30 days older than NOW is past it.
    for (const [i, v] of a.entries()) {
      assert.equal(
        store.pattern(v.id)?.code,
        400 - 2 * i < 30 || i === a.length - 1 ? v.text : null,
      );
    }
  } finally {
    store.close();
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("config: retention_days is a whole number of days, 0 keeps everything", () => {
  const resolve = (value: unknown) =>
    resolveConfig({ env: {}, file: { retention_days: value }, filePath: "c.yaml", home: "/h" });
  assert.equal(resolve(undefined).config.retentionDays, 0);
  assert.equal(resolve(90).config.retentionDays, 90);
  for (const bad of [-1, 1.5, "soon", true, 40000]) {
    const r = resolve(bad);
    assert.equal(r.config.retentionDays, 0);
    assert.equal(r.problems[0]?.key, "retention_days");
    assert.match(r.problems[0]!.reason, /whole number of days/);
  }
  assert.equal(normalizeLineEndings("x"), "x");
});

Deno.test("tracker prune: the dry run predicts the real run, which returns the free pages; status shows the size and what prune would free", async () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-prune-cli-" });
  const store = openStore(dataDir);
  const { next } = seeded(21);
  const texts = Array.from({ length: 120 }, (_, k) =>
    Array.from(
      { length: 300 },
      (_, i) => `row ${i} ${i % 2 === k % 2 ? next(1e9) : "same"} ${"w".repeat(20)}`,
    ).join("\n"));
  // Ages relative to 2026-06-01: all older than 30 days today.
  await history(
    store,
    "/p/big.txt",
    texts,
    (i) => 200 - i,
    (i) => i === 5 ? "queued" : "delivered",
  );
  store.close();
  const env = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: dataDir,
    PATTERN_TRACKER_DATA_DIR: dataDir,
    PATTERN_TRACKER_CONFIG: `${dataDir}/absent.yaml`,
    ...denoDirEnv(),
  };
  const json = async (args: string[], extra: Record<string, string> = {}) => {
    const r = await runCli(args, { ...env, ...extra });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  try {
    const status = await json(["status", "--json"]);
    assert.ok(status.storage.database.fileBytes > 1_000_000);
    assert.equal(status.storage.code.withCode, 120);
    assert.equal(status.prune.older_than_days, 90);
    assert.equal(status.prune.from_retention_days, false);
    const dry = await json(["prune", "--older-than", "30d", "--dry-run", "--json"]);
    assert.equal(dry.patterns, 118, "all but the newest version and the queued one");
    assert.equal(dry.undelivered_kept, 1);
    assert.ok(dry.freed_code_bytes > 1_000_000);
    assert.equal(
      status.prune.freed_code_bytes,
      dry.freed_code_bytes,
      "status's 90 days hold all too",
    );
    const again = await json(["prune", "--older-than", "30d", "--dry-run", "--json"]);
    assert.equal(again.freed_code_bytes, dry.freed_code_bytes, "a dry run changes nothing");
    const real = await json(["prune", "--older-than", "30d", "--json"]);
    assert.equal(real.patterns, dry.patterns);
    assert.equal(real.freed_code_bytes, dry.freed_code_bytes);
    assert.equal(real.shrink, "incremental");
    assert.equal(real.free_bytes_after, 0);
    assert.ok(
      real.database_bytes_before - real.database_bytes_after >= real.freed_code_bytes,
      `${real.database_bytes_before} → ${real.database_bytes_after}, freed ${real.freed_code_bytes}`,
    );
    const text = await runCli(["status"], env);
    assert.match(text.stdout, /store size +\d/);
    assert.match(text.stdout, /prune +--older-than 90d would free 0 B/);
    const withRetention = await json(["status", "--json"], {
      PATTERN_TRACKER_RETENTION_DAYS: "30",
    });
    assert.equal(withRetention.prune.from_retention_days, true);
    // retention_days set: prune needs no --older-than.
    assert.equal(
      (await json(["prune", "--json"], { PATTERN_TRACKER_RETENTION_DAYS: "30" })).patterns,
      0,
    );
    const none = await runCli(["prune"], env);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /retention_days is 0 \(keep everything\)/);
    const bad = await runCli(["prune", "--older-than", "soon"], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an age/);
    const reopened = openStore(dataDir);
    assert.equal(reopened.pattern(await patternId(texts.at(-1)!))?.code, texts.at(-1));
    assert.equal(
      reopened.pattern(await patternId(texts[5]!))?.code,
      texts[5],
      "not delivered: kept",
    );
    reopened.close();
  } finally {
    Deno.removeSync(dataDir, { recursive: true });
  }
});

Deno.test("parseAgeLimit reads days, weeks and hours", () => {
  assert.deepEqual(parseAgeLimit("90d"), { ok: true, days: 90 });
  assert.deepEqual(parseAgeLimit("90"), { ok: true, days: 90 });
  assert.deepEqual(parseAgeLimit("2w"), { ok: true, days: 14 });
  assert.deepEqual(parseAgeLimit("36h"), { ok: true, days: 1.5 });
  for (const bad of ["", "soon", "-1d", "3m", "1 year"]) {
    assert.equal(parseAgeLimit(bad).ok, false, bad);
  }
});

Deno.test("compaction turns imported snapshots into patches against their lineage parents", async () => {
  const source = openStore(Deno.makeTempDirSync({ prefix: "pt-prune-" }));
  const target = openStore(Deno.makeTempDirSync({ prefix: "pt-prune-" }));
  try {
    const a = await history(
      source,
      "/p/a.ts",
      edits(8, 40, "a"),
      (i) => 100 - i,
      () => "delivered",
    );
    const { exportRecords, importRecords } = await import("../src/views/export.ts");
    const targetDir = target.path.replace(/\/[^/]+$/, "");
    await importRecords(
      target,
      [...exportRecords(source)].map((r) => JSON.stringify(r)),
      { ...defaultConfig(targetDir), dataDir: targetDir },
    );
    assert.equal(target.codeStorage().patches, 0, "an import stores whole texts");
    compactCode(target);
    const after = target.codeStorage();
    assert.ok(after.patches >= 38, `${after.patches} patches`);
    assertReadable(target);
    for (const v of a) assert.equal(target.pattern(v.id)?.code, v.text);
  } finally {
    for (const s of [source, target]) {
      const dir = s.path.replace(/\/[^/]+$/, "");
      s.close();
      Deno.removeSync(dir, { recursive: true });
    }
  }
});

Deno.test("the background flusher delivers, then compacts the store and applies retention_days", async () => {
  const server = await startPhase4Server();
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-prune-flusher-" });
  try {
    const store = openStore(dataDir);
    const template = JSON.parse(
      Deno.readTextFileSync(new URL("../src/cli/demo_session/04-post-edit.json", import.meta.url)),
    );
    let before = Array.from({ length: 40 }, (_, i) =>
      `value_${i} = compute(${i})  # ${"c".repeat(30)}`)
      .join("\n") + "\n";
    const texts: string[] = [];
    for (let k = 0; k < 80; k++) {
      const oldString = `value_${k % 40} = `;
      const newString = `value_${k % 40} = ${k} + `;
      const parsed = parseHookPayload(JSON.stringify({
        ...template,
        tool_use_id: `toolu_f${k}`,
        tool_input: { file_path: "/p/m.py", old_string: oldString, new_string: newString },
        tool_response: {
          ...template.tool_response,
          filePath: "/p/m.py",
          originalFile: before,
          oldString,
          newString,
        },
      })) as ToolChange;
      assert.equal(parsed.kind, "change");
      await track({ ...defaultConfig(dataDir), dataDir }, parsed, { store });
      before = parsed.after;
      texts.push(parsed.after);
    }
    assert.equal(store.codeStorage().compressed, 0);
    store.close();
    const { config } = resolveConfig({
      env: {
        PATTERN_TRACKER_DATA_DIR: dataDir,
        PATTERN_TRACKER_INTELLIGENCE_URL: server.url,
        PATTERN_TRACKER_RETENTION_DAYS: "1",
      },
      file: null,
      filePath: "",
      home: dataDir,
    });
    const logs: Record<string, unknown>[] = [];
    await runBackgroundFlusher(config, { log: (r) => logs.push(r), lingerMs: 0, pollMs: 10 });
    const maintenance = logs.find((r) => r.event === "store_maintenance");
    assert.ok(maintenance, JSON.stringify(logs));
    assert.ok((maintenance.compacted_rows as number) > 0);
    const after = openStore(dataDir);
    assert.equal(after.counts().outbox, 0, "delivered first");
    assert.ok(after.codeStorage().compressed > 0, "the old snapshot was compressed");
    // Everything is younger than a day: retention dropped nothing.
    assert.equal(maintenance.pruned_patterns, 0);
    for (const [k, text] of texts.entries()) {
      assert.equal(after.pattern(await patternId(text))?.code, text, `version ${k + 2}`);
    }
    after.close();
  } finally {
    await server.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
});
