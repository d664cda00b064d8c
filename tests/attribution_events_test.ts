/**
 * The line attribution each Phase 4 event carries in `pattern_data.line_attribution`: right for
 * Claude's versions and for changes made outside Claude Code, carried through a flush that sends a
 * long history in small batches exactly as computed alone, the same bytes on every send, absent when
 * no code is kept.
 */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import { blameFile } from "../src/views/blame_history.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { queuedEventBodies } from "../src/delivery/bodies.ts";
import { openStore } from "../src/store/mod.ts";
import { flushUntilEmpty, testConfig } from "./delivery_support.ts";
import { startPhase4Server } from "./phase4_server.ts";

const V1 = "a = 1\nb = 2\nc = 3\n";
const PERSON = "a = 1\nb = 20\nc = 3\nd = 4\ne = 5\n";
const V3 = "a = 1\nb = 20\nc = 30\nd = 4\ne = 5\n";

Deno.test("each event says which lines its version kept, added and by whom, and the version's lines by origin", async () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-attr-" });
  try {
    const config = { ...defaultConfig(dataDir), dataDir, autoFlush: false };
    const tracker = new PatternTracker(config);
    await tracker.trackCreation(V1, { filePath: "/p/a.py" });
    await tracker.trackModification(V3, { filePath: "/p/a.py", parentCode: PERSON });
    tracker.close();
    const store = openStore(dataDir);
    const bodies = queuedEventBodies(store, config, 10);
    assert.deepEqual(queuedEventBodies(store, config, 10), bodies, "the same bytes every time");
    store.close();
    const attributions = bodies.map((b) => JSON.parse(b).pattern_data.line_attribution);
    assert.deepEqual(attributions, [
      {
        lines: 3,
        from_parent: 0,
        added: 3,
        removed: 0,
        added_by: "ai",
        by_origin: { ai: 3, external: 0, baseline: 0 },
      },
      {
        // The person's change, bridged: b rewritten, d and e appended.
        lines: 5,
        from_parent: 2,
        added: 3,
        removed: 1,
        added_by: "external",
        by_origin: { ai: 2, external: 3, baseline: 0 },
      },
      {
        lines: 5,
        from_parent: 4,
        added: 1,
        removed: 1,
        added_by: "ai",
        by_origin: { ai: 2, external: 3, baseline: 0 },
      },
    ]);
    // With store_code off nothing can be attributed: the key is absent.
    const off = Deno.makeTempDirSync({ prefix: "pt-attr-" });
    const offConfig = { ...defaultConfig(off), dataDir: off, autoFlush: false, storeCode: false };
    const offTracker = new PatternTracker(offConfig);
    await offTracker.trackCreation(V1, { filePath: "/p/a.py" });
    offTracker.close();
    const offStore = openStore(off);
    const [offBody] = queuedEventBodies(offStore, offConfig, 1);
    offStore.close();
    assert.equal("line_attribution" in JSON.parse(offBody!).pattern_data, false);
    Deno.removeSync(off, { recursive: true });
  } finally {
    Deno.removeSync(dataDir, { recursive: true });
  }
});

Deno.test("a flush of a long history in small batches carries each file's blame along: every event's attribution is what a walk from the start gives", async () => {
  const server = await startPhase4Server();
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-attr-flush-" });
  try {
    const config = testConfig(dataDir, server.url, { batchSize: 7 });
    const tracker = new PatternTracker(config);
    const texts = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      for (const file of ["/p/x.py", "/p/y.py"]) {
        const before = texts.get(file) ?? "";
        const next = `${before}line ${i} of ${file}\n`.replace(
          `line ${i - 3} of`,
          `LINE ${i - 3} of`,
        );
        if (i === 0) await tracker.trackCreation(next, { filePath: file });
        else {
          // Every seventh change follows one made outside Claude Code (bridged by this call).
          const parentCode = i % 7 === 0 ? `${before}# a person's line\n` : before;
          await tracker.trackModification(next, { filePath: file, parentCode });
        }
        texts.set(file, next);
      }
    }
    tracker.close();
    await flushUntilEmpty(config);
    const store = openStore(dataDir);
    try {
      const events = server.events();
      assert.ok(events.length > 80, `${events.length} events delivered`);
      for (const event of events) {
        const data = event.pattern_data as { file_version: number; line_attribution: unknown };
        const path = event.file_path as string;
        const expected = blameFile(store, path, { upTo: data.file_version }).walk.lastAttribution;
        assert.deepEqual(data.line_attribution, expected, `${path} v${data.file_version}`);
      }
      assert.ok(
        events.some((e) =>
          (e.pattern_data as { line_attribution: { added_by: string } }).line_attribution
            .added_by === "external"
        ),
      );
    } finally {
      store.close();
    }
  } finally {
    await server.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
});
