/**
 * Agent Trace export with line ranges: each version's ranges are exactly its blame's runs, grouped
 * by contributor (ai per session, human, unknown), hashed by content, with our metadata naming each
 * range's version and tool call; only the specification's field names are used.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { PatternTracker } from "../src/api.ts";
import { blameRuns } from "../src/views/blame_runs.ts";
import { blameFile } from "../src/views/blame_history.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { agentTraceRecords, type TraceRangeSource } from "../src/views/agent_trace.ts";
import { openStore } from "../src/store/mod.ts";

/** The keys the Agent Trace schema allows on each object (it sets additionalProperties false). */
const ALLOWED = {
  record: ["version", "id", "timestamp", "vcs", "tool", "files", "metadata"],
  file: ["path", "conversations"],
  conversation: ["url", "contributor", "ranges", "related"],
  contributor: ["type", "model_id"],
  range: ["start_line", "end_line", "content_hash", "contributor"],
};

function keysWithin(value: object, allowed: readonly string[], what: string) {
  for (const key of Object.keys(value)) assert.ok(allowed.includes(key), `${what} has ${key}`);
}

Deno.test("Agent Trace ranges are each version's blame runs: ai (per session), human for changes outside Claude Code, unknown for what was there before", async () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-trace-" });
  try {
    const config = { ...defaultConfig(dataDir), dataDir, autoFlush: false };
    const first = new PatternTracker(config);
    // The file existed before tracking; Claude edits it, a person edits it, a second session edits it.
    await first.trackModification("a = 1\nb = 2\nc = 3\n", {
      filePath: "/p/t.py",
      parentCode: "a = 1\nb = 0\n",
      toolUseId: "toolu_1",
    });
    first.close();
    const second = new PatternTracker(config);
    await second.trackModification("a = 1\nb = 2\nc = 3\nd = 4\n# by hand\n# again\n", {
      filePath: "/p/t.py",
      parentCode: "a = 1\nb = 2\nc = 3\n# by hand\n# again\n",
      toolUseId: "toolu_2",
    });
    second.close();
    const store = openStore(dataDir);
    try {
      const records = [...agentTraceRecords(store)];
      const history = store.fileHistory("/p/t.py");
      assert.deepEqual(history.map((v) => v.toolName), ["baseline", "Edit", "external", "Edit"]);
      assert.equal(records.length, history.length);
      for (const [i, record] of records.entries()) {
        const v = history[i]!;
        keysWithin(record, ALLOWED.record, "the record");
        assert.equal(record.version, "0.1.0");
        const file = record.files[0]!;
        keysWithin(file, ALLOWED.file, "a file");
        const { walk } = blameFile(store, "/p/t.py", { upTo: v.version });
        const runs = blameRuns(walk.state.sources);
        // Every range of every conversation, in line order, is exactly the blame's runs.
        const ranges = file.conversations.flatMap((c) => {
          keysWithin(c, ALLOWED.conversation, "a conversation");
          keysWithin(c.contributor, ALLOWED.contributor, "a contributor");
          return c.ranges.map((r) => {
            keysWithin(r, ALLOWED.range, "a range");
            return { ...r, type: c.contributor.type };
          });
        }).sort((a, b) => a.start_line - b.start_line);
        assert.deepEqual(
          ranges.map((r) => [r.start_line, r.end_line, r.type]),
          runs.map((r) => [
            r.start,
            r.end,
            { ai: "ai", external: "human", baseline: "unknown", unknown: "unknown" }[
              r.source.origin
            ],
          ]),
          `v${v.version}`,
        );
        for (const r of ranges) {
          const text = walk.state.lines.slice(r.start_line - 1, r.end_line).join("");
          assert.equal(
            r.content_hash,
            `sha256-16:${createHash("sha256").update(text).digest("hex").slice(0, 16)}`,
          );
        }
        const meta = record.metadata["dev.pattern-tracker"] as { ranges: TraceRangeSource[] };
        assert.deepEqual(
          meta.ranges.map((r) => [r.start_line, r.end_line, r.version, r.tool_use_id]),
          runs.map((r) => [r.start, r.end, r.source.version, r.source.toolUseId]),
        );
      }
      // The last version: baseline a, Claude's b c (first session), Claude's d (second session),
      // the person's two lines.
      const last = records[records.length - 1]!.files[0]!.conversations;
      assert.deepEqual(
        last.map((c) => [c.contributor.type, c.ranges.map((r) => [r.start_line, r.end_line])]),
        [
          ["unknown", [[1, 1]]],
          ["ai", [[2, 3]]],
          ["ai", [[4, 4]]],
          ["human", [[5, 6]]],
        ],
      );
    } finally {
      store.close();
    }
  } finally {
    Deno.removeSync(dataDir, { recursive: true });
  }
});
