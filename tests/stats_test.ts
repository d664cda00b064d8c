/**
 * stats: every line Claude wrote ends in exactly one fate (surviving, superseded by Claude, reworked
 * by a person, unknown); rates, AI share, calls and failures per tool, file, session and day; the
 * disk file counted as a person's change; the command line.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import { parseStatsArgs } from "../src/cli/commands/stats.ts";
import { gatherStats } from "../src/views/stats_history.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { renderStats } from "../src/views/stats.ts";
import { openStore } from "../src/store/mod.ts";

const V1 = "a = 1\nb = 2\nc = 3\nd = 4\n";
// Claude rewrites its own line b.
const V2 = "a = 1\nb = 22\nc = 3\nd = 4\n";
// A person rewrites c and deletes d (outside Claude Code), then Claude appends e.
const PERSON = "a = 1\nb = 22\nc = 33\n";
const V4 = "a = 1\nb = 22\nc = 33\ne = 5\n";

async function history() {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-stats-" });
  const config = { ...defaultConfig(dataDir), dataDir, autoFlush: false };
  const tracker = new PatternTracker(config);
  await tracker.trackCreation(V1, { filePath: `${dataDir}/m.py`, toolUseId: "t1" });
  await tracker.trackModification(V2, { filePath: `${dataDir}/m.py`, toolUseId: "t2" });
  await tracker.trackModification(V4, {
    filePath: `${dataDir}/m.py`,
    parentCode: PERSON,
    toolUseId: "t3",
    toolName: "MultiEdit",
  });
  await tracker.trackExecution({
    toolUseId: "t4",
    filePath: `${dataDir}/m.py`,
    toolName: "Edit",
    durationMs: 3,
    success: false,
    error: "old_string not found",
  });
  // Another session writes another file.
  const other = new PatternTracker(config);
  await other.trackCreation("x = 1\ny = 2\n", { filePath: `${dataDir}/n.py`, toolUseId: "u1" });
  other.close();
  tracker.close();
  return { dataDir, config, session: tracker.sessionId, otherSession: other.sessionId };
}

Deno.test("every line Claude wrote has one fate; rates, AI share, calls and failures add up", async () => {
  const { dataDir, session, otherSession } = await history();
  const store = openStore(dataDir);
  try {
    const files = [`${dataDir}/m.py`, `${dataDir}/n.py`];
    const s = gatherStats(store, files, {}, null);
    const t = s.totals;
    // Written: 4 (v1) + 1 (v2: b) + 1 (v4: e) + 2 (n.py).
    assert.equal(t.lines_written, 8);
    assert.equal(t.lines_superseded_by_claude, 1, "v2 rewrote v1's b");
    assert.equal(t.lines_reworked, 2, "the person rewrote c and deleted d");
    assert.equal(t.lines_surviving, 5, "a, b (v2), e, x, y");
    assert.equal(t.lines_fate_unknown, 0);
    assert.equal(
      t.lines_written,
      t.lines_surviving + t.lines_superseded_by_claude + t.lines_reworked + t.lines_fate_unknown,
    );
    assert.equal(t.survival_rate, 5 / 7);
    assert.equal(t.rework_rate, 2 / 7);
    assert.equal(t.current_lines, 6);
    assert.equal(t.current_ai_lines, 5);
    assert.equal(t.current_external_lines, 1);
    assert.equal(t.ai_share, 5 / 6);
    assert.deepEqual([t.calls, t.edits, t.failures], [5, 4, 1]);
    const edit = s.by_tool.find((r) => r.tool === "Edit")!;
    assert.deepEqual([edit.calls, edit.edits, edit.failures, edit.lines_written], [2, 1, 1, 1]);
    const multi = s.by_tool.find((r) => r.tool === "MultiEdit")!;
    assert.equal(multi.lines_written, 1);
    const m = s.by_file.find((r) => r.file.endsWith("m.py"))!;
    assert.equal(m.versions, 4, "v1, v2, the bridged external v3, v4");
    assert.equal(m.ai_share, 3 / 4);
    assert.equal(s.by_session.find((r) => r.session === session)?.lines_written, 6);
    assert.equal(s.by_session.find((r) => r.session === otherSession)?.lines_written, 2);
    assert.equal(s.by_day.length, 1);
    assert.equal(s.by_day[0]?.day, new Date().toISOString().slice(0, 10));
    assert.match(renderStats(s), /Lines written by Claude\s+8/);
    // A session's scope: its lines only, its calls only.
    const only = gatherStats(store, [`${dataDir}/n.py`], { sessionId: otherSession }, null);
    assert.deepEqual(
      [only.totals.lines_written, only.totals.calls, only.totals.files],
      [2, 1, 1],
    );
  } finally {
    store.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
});

Deno.test("compared with the disk: a line a person changed since the last version is reworked, and not Claude's any more", async () => {
  const { dataDir, config } = await history();
  const file = `${dataDir}/m.py`;
  Deno.writeTextFileSync(file, V4.replace("e = 5", "e = 50").replaceAll("\n", "\r\n"));
  const store = openStore(dataDir);
  try {
    const s = gatherStats(store, [file], { filePath: file }, config);
    assert.equal(s.compared_with_disk, true);
    assert.equal(s.totals.lines_reworked, 3);
    assert.equal(s.totals.lines_surviving, 2);
    assert.equal(s.totals.current_external_lines, 2);
    // The other file is not on disk: its last version stands for it.
    const both = gatherStats(store, [file, `${dataDir}/n.py`], {}, config);
    assert.equal(both.totals.files_missing_on_disk, 1);
    assert.equal(both.totals.current_lines, 6);
  } finally {
    store.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
});

Deno.test("stats' command line", () => {
  assert.deepEqual(parseStatsArgs(["--file", "a.py", "--stored"]), {
    session: null,
    file: "a.py",
    stored: true,
    json: false,
  });
  assert.throws(
    () => parseStatsArgs(["--session", "s", "--file", "f"]),
    (e: Error & { exitCode?: number }) => e.exitCode === 2 && /not both/.test(e.message),
  );
  assert.throws(() => parseStatsArgs(["stray"]), /Unexpected argument/);
});
