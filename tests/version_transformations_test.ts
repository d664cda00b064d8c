/**
 * Transformation types from code and intent (src/record/version_transformations.ts): each change Claude
 * made while answering a recorded request is typed from its diff plus that request's intent, any
 * other from its diff alone; decided once and stored, so Phase 4, `lineage` and the edges agree.
 * And the schema v6 migration from older stores.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { TrackerConfig } from "../src/config/mod.ts";
import { patternId } from "../src/record/pattern.ts";
import { parseHookObject, type ToolChange } from "../src/record/payload.ts";
import { type PromptRecord, promptRecord } from "../src/record/prompt_intent.ts";
import { classificationOf, insertPrompt } from "../src/store/prompts.ts";
import { DB_FILE, MIGRATIONS, openStore, type Store } from "../src/store/mod.ts";
import { track } from "../src/record/track.ts";
import { explainTransformation } from "../src/record/transformation.ts";
import { classifyPending, decideTransformation } from "../src/record/version_transformations.ts";
import { flushUntilEmpty, testConfig } from "./delivery_support.ts";
import { startPhase4Server } from "./phase4_server.ts";
import { runCli } from "./support.ts";

const BEFORE = "def first(items):\n    return items[0]\n";
const GUARDED = "def first(items):\n    if not items:\n        return None\n    return items[0]\n";
const REQUEST = "fix the crash when the list is empty";

/** The same change to a function of another name: other contents, so other patterns and edges. */
function named(name: string): { before: string; after: string } {
  return { before: BEFORE.replace("first", name), after: GUARDED.replace("first", name) };
}

function change(
  o: { session: string; id: string; file: string; before: string | null; after: string },
): ToolChange {
  const edit = o.before !== null;
  const parsed = parseHookObject({
    hook_event_name: "PostToolUse",
    session_id: o.session,
    tool_name: edit ? "Edit" : "Write",
    tool_use_id: o.id,
    tool_input: edit
      ? { file_path: o.file, old_string: o.before, new_string: o.after }
      : { file_path: o.file, content: o.after },
    tool_response: edit
      ? { filePath: o.file, originalFile: o.before, structuredPatch: [] }
      : { type: "create", filePath: o.file, content: o.after, originalFile: null },
  });
  assert.equal(parsed.kind, "change", JSON.stringify(parsed));
  return parsed as ToolChange;
}

function request(
  session: string,
  words: string,
  options: { storePrompts?: boolean } = {},
): PromptRecord {
  return promptRecord(
    { kind: "prompt", sessionId: session, promptId: crypto.randomUUID(), prompt: words },
    new Date().toISOString(),
    { storePrompts: options.storePrompts ?? false, maxBytes: 1 << 20, redact: null },
  );
}

/** Waits past the current millisecond: a record made next is strictly later in the ISO order. */
async function tick(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 3));
}

function withStore<T>(config: TrackerConfig, fn: (store: Store) => T): T {
  const store = openStore(config.dataDir);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

Deno.test("each change is typed from its diff and the intent of the request it answered; Phase 4, lineage and the edges agree", async () => {
  const server = await startPhase4Server();
  const config = testConfig(Deno.makeTempDirSync({ prefix: "pt-intent-" }), server.url);
  const B = named("second");
  try {
    // Session s1: a guard added before any request, then the request, then the same guard again.
    await track(
      config,
      change({ session: "s1", id: "t1", file: "/p/a.py", before: null, after: BEFORE }),
    );
    await track(
      config,
      change({ session: "s1", id: "t2", file: "/p/a.py", before: BEFORE, after: GUARDED }),
    );
    await tick();
    withStore(config, (store) => insertPrompt(store, request("s1", REQUEST)));
    await tick();
    await track(
      config,
      change({ session: "s1", id: "t3", file: "/p/b.py", before: null, after: B.before }),
    );
    await track(
      config,
      change({ session: "s1", id: "t4", file: "/p/b.py", before: B.before, after: B.after }),
    );
    // Session s2 makes the same change after s1's request: that request is not its own.
    await track(
      config,
      change({ session: "s2", id: "t1", file: "/p/c.py", before: null, after: BEFORE }),
    );
    await track(
      config,
      change({ session: "s2", id: "t2", file: "/p/c.py", before: BEFORE, after: GUARDED }),
    );

    const codeAlone = explainTransformation({ before: BEFORE, after: GUARDED }).transformationType;
    assert.equal(codeAlone, "enhancement", "the code alone leans the other way");
    assert.equal(explainTransformation(B).transformationType, codeAlone);
    const typed = withStore(config, (store) => {
      assert.equal(classifyPending(store), 6);
      assert.equal(classifyPending(store), 0, "decided once");
      return ["/p/a.py", "/p/b.py", "/p/c.py"].map((f) => store.fileHistory(f)[1]!);
    });
    assert.deepEqual(typed.map((v) => v.transformationType), [codeAlone, "bugfix", codeAlone]);
    withStore(config, (store) => {
      const idOf = (path: string) => store.versionId(path, 2)!;
      assert.equal(classificationOf(store, idOf("/p/a.py"))?.basis, "code");
      const answered = classificationOf(store, idOf("/p/b.py"));
      assert.equal(answered?.basis, "code+intent");
      assert.ok(answered?.promptRow);
      assert.equal(classificationOf(store, idOf("/p/c.py"))?.basis, "code");
      assert.equal(classificationOf(store, store.versionId("/p/b.py", 1)!)?.basis, "created");
      // The lineage edge says the same.
      const [edge] = store.ancestry(typed[1]!.patternId).filter((e) =>
        e.parent === typed[1]!.parentPatternId
      );
      assert.equal(edge?.transformationType, "bugfix");
    });

    // What Phase 4 receives is what the store says.
    await flushUntilEmpty(config);
    const sent = server.events().filter((e) => e.event_type === "pattern_modified");
    assert.deepEqual(
      sent.map((e) => [e.file_path, e.transformation_type]),
      [["/p/a.py", codeAlone], ["/p/b.py", "bugfix"], ["/p/c.py", codeAlone]],
    );
    // And `lineage` shows it.
    const env = {
      HOME: config.dataDir,
      PATTERN_TRACKER_DATA_DIR: config.dataDir,
      PATTERN_TRACKER_CONFIG: `${config.dataDir}/none.yaml`,
    };
    const lineage = await runCli(["lineage", "/p/b.py", "--json"], env);
    assert.equal(lineage.code, 0, lineage.stderr);
    assert.equal(JSON.parse(lineage.stdout).versions[1].transformation_type, "bugfix");
  } finally {
    await server.close();
    Deno.removeSync(config.dataDir, { recursive: true });
  }
});

Deno.test("a change outside Claude Code is typed from its code alone; without code, the request's label or the recorded guess", async () => {
  const config = testConfig(Deno.makeTempDirSync({ prefix: "pt-intent-" }), "http://127.0.0.1:9");
  try {
    await track(
      config,
      change({ session: "s", id: "t1", file: "/p/a.py", before: null, after: BEFORE }),
    );
    await tick();
    withStore(config, (store) => insertPrompt(store, request("s", "refactor: extract the guard")));
    await tick();
    // The file changed outside Claude Code (GUARDED on disk), then Claude edits it.
    const renamed = GUARDED.replace("first", "head");
    await track(
      config,
      change({ session: "s", id: "t2", file: "/p/a.py", before: GUARDED, after: renamed }),
    );
    const history = withStore(config, (store) => {
      classifyPending(store);
      return store.fileHistory("/p/a.py").map((v) => ({
        tool: v.toolName,
        type: v.transformationType,
        basis: classificationOf(store, store.versionId("/p/a.py", v.version)!)?.basis,
      }));
    });
    assert.deepEqual(history.map((v) => [v.tool, v.basis]), [
      ["Write", "created"],
      ["external", "code"],
      ["Edit", "code+intent"],
    ]);
    assert.equal(
      history[1]!.type,
      explainTransformation({ before: BEFORE, after: GUARDED }).transformationType,
    );
    assert.equal(history[2]!.type, "refactor");

    // store_code: false keeps no code to classify: the request's label, else the recorded guess.
    const noCode = { ...config, storeCode: false };
    const [N, M] = [named("third"), named("fourth")];
    await track(
      noCode,
      change({ session: "s", id: "t3", file: "/p/n.py", before: null, after: N.before }),
    );
    await track(
      noCode,
      change({ session: "s", id: "t4", file: "/p/n.py", before: N.before, after: N.after }),
    );
    await track(
      noCode,
      change({ session: "x", id: "t1", file: "/p/m.py", before: null, after: M.before }),
    );
    await track(
      noCode,
      change({ session: "x", id: "t2", file: "/p/m.py", before: M.before, after: M.after }),
    );
    withStore(config, (store) => {
      const recordedGuess = store.fileHistory("/p/m.py")[1]!.transformationType;
      classifyPending(store);
      const n = store.fileHistory("/p/n.py")[1]!;
      assert.equal(n.transformationType, "refactor");
      assert.equal(classificationOf(store, store.versionId("/p/n.py", 2)!)?.basis, "intent");
      const m = store.fileHistory("/p/m.py")[1]!;
      assert.equal(m.transformationType, recordedGuess);
      assert.equal(classificationOf(store, store.versionId("/p/m.py", 2)!)?.basis, "recorded");
    });
  } finally {
    Deno.removeSync(config.dataDir, { recursive: true });
  }
});

Deno.test("scores of another intent model are not mixed with this code model", () => {
  const version = {
    filePath: "/p/a.py",
    version: 2,
    patternId: "b",
    parentPatternId: "a",
    eventType: "pattern_modified",
    transformationType: "refactor",
    toolName: "Edit",
    toolUseId: "t",
    sessionId: "s",
    correlationId: "c",
    reason: null,
    createdAt: "2026-01-01T00:00:00.000Z",
  };
  const r = request("s", REQUEST);
  const prompt = {
    row: 1,
    ...r,
    intentLabel: r.intentLabel,
    intentScores: r.intentScores,
    intentModel: r.intentModel,
  };
  const facts = { version, before: BEFORE, after: GUARDED };
  assert.equal(decideTransformation({ ...facts, prompt }).transformationType, "bugfix");
  const foreign = decideTransformation({
    ...facts,
    prompt: { ...prompt, intentModel: "00000000" },
  });
  assert.deepEqual([foreign.transformationType, foreign.basis], ["enhancement", "code"]);
});

/** A store at schema `version` with a created and a modified version of one file. */
async function olderStore(version: number): Promise<string> {
  const [a, b] = [await patternId(BEFORE), await patternId(GUARDED)];
  const dir = Deno.makeTempDirSync({ prefix: "pt-migrate-v6-" });
  const db = new DatabaseSync(`${dir}/${DB_FILE}`);
  for (let v = 0; v < version; v++) db.exec(MIGRATIONS[v] as string);
  db.exec(`PRAGMA user_version = ${version}`);
  db.exec(`INSERT INTO patterns (pattern_id, language, line_count, byte_size, code, first_seen_at)
    VALUES ('${a}', 'python', 2, 38, '${BEFORE}', '2026-01-01T00:00:00.000Z'),
           ('${b}', 'python', 4, 78, '${GUARDED}', '2026-01-01T00:00:01.000Z')`);
  db.exec(`INSERT INTO file_versions (file_path, version, pattern_id, parent_pattern_id, event_type,
      transformation_type, tool_name, tool_use_id, session_id, correlation_id, created_at)
    VALUES ('/p/a.py', 1, '${a}', NULL, 'pattern_created', NULL, 'Write', 't1', 's',
            'c1', '2026-01-01T00:00:00.000Z'),
           ('/p/a.py', 2, '${b}', '${a}', 'pattern_modified',
            'simplification', 'Edit', 't2', 's', 'c2', '2026-01-01T00:00:01.000Z')`);
  db.close();
  return dir;
}

for (const version of [2, 5]) {
  Deno.test(`a schema v${version} store migrates to v6: versions recorded before keep their type (maybe delivered with it), new ones are classified`, async () => {
    const dir = await olderStore(version);
    const config = testConfig(dir, "http://127.0.0.1:9");
    try {
      withStore(config, (store) => {
        assert.equal(store.schemaVersion(), MIGRATIONS.length);
        assert.equal(classificationOf(store, store.versionId("/p/a.py", 2)!)?.basis, "recorded");
        assert.equal(classifyPending(store), 0);
        assert.equal(store.fileHistory("/p/a.py")[1]?.transformationType, "simplification");
        assert.ok(insertPrompt(store, request("s", REQUEST, { storePrompts: true })) > 0);
      });
      await tick();
      await track(
        config,
        change({ session: "s", id: "t3", file: "/p/a.py", before: GUARDED, after: BEFORE }),
      );
      withStore(config, (store) => {
        assert.equal(classifyPending(store), 1);
        const v3 = store.fileHistory("/p/a.py")[2]!;
        assert.equal(classificationOf(store, store.versionId("/p/a.py", 3)!)?.basis, "code+intent");
        assert.equal(v3.transformationType, "bugfix");
        assert.equal(store.selectRows("SELECT prompt_text FROM prompts")[0]?.prompt_text, REQUEST);
      });
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  });
}

Deno.test("a flush types the versions it sends; a version outside the outbox waits for the view that shows it", async () => {
  const server = await startPhase4Server();
  const config = testConfig(Deno.makeTempDirSync({ prefix: "pt-intent-" }), server.url);
  const [Q, H] = [named("queued"), named("held")];
  try {
    for (const [file, c] of [["/p/q.py", Q], ["/p/h.py", H]] as const) {
      await track(
        config,
        change({ session: "s", id: `${file}1`, file, before: null, after: c.before }),
      );
      await track(
        config,
        change({ session: "s", id: `${file}2`, file, before: c.before, after: c.after }),
      );
    }
    // h.py's versions leave the outbox (as after an import without --queue).
    const db = new DatabaseSync(`${config.dataDir}/${DB_FILE}`);
    db.exec(`DELETE FROM outbox WHERE version_id IN
      (SELECT id FROM file_versions WHERE file_path = '/p/h.py')`);
    db.close();
    await flushUntilEmpty(config);
    withStore(config, (store) => {
      assert.equal(classificationOf(store, store.versionId("/p/q.py", 2)!)?.basis, "code");
      assert.equal(classificationOf(store, store.versionId("/p/h.py", 2)!), undefined);
    });
    const env = {
      HOME: config.dataDir,
      PATTERN_TRACKER_DATA_DIR: config.dataDir,
      PATTERN_TRACKER_CONFIG: `${config.dataDir}/none.yaml`,
    };
    const lineage = await runCli(["lineage", "/p/h.py", "--json"], env);
    assert.equal(lineage.code, 0, lineage.stderr);
    assert.equal(
      JSON.parse(lineage.stdout).versions[1].transformation_type,
      explainTransformation(H).transformationType,
    );
    withStore(config, (store) => {
      assert.equal(classificationOf(store, store.versionId("/p/h.py", 2)!)?.basis, "code");
    });
  } finally {
    await server.close();
    Deno.removeSync(config.dataDir, { recursive: true });
  }
});
