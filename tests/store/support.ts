/** Helpers of the store's unit tests: a fresh store, and a pattern with one version in it. */
import { openStore, type Store } from "../../src/store/store.ts";

/** A fresh store in a temporary data directory; `done` closes it and removes the directory. */
export function freshStore(): { store: Store; dir: string; done: () => void } {
  const dir = Deno.makeTempDirSync({ prefix: "pt-store-unit-" });
  const store = openStore(dir);
  return {
    store,
    dir,
    done: () => {
      store.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** Stores a pattern with `code` and appends it as the next version of `file`; returns its row ID. */
export function addVersion(
  store: Store,
  file: string,
  patternId: string,
  code: string | null,
  parent: string | null = null,
): number {
  const latest = store.latestVersion(file);
  store.insertPattern({
    patternId,
    language: "python",
    lineCount: code === null ? 0 : code.split("\n").length - 1,
    byteSize: code?.length ?? 0,
    code,
    firstSeenAt: "2026-11-25T10:00:00.000Z",
    codeOmitted: code === null ? "store_code_off" : null,
    redactedSecrets: 0,
    parent: parent === null ? null : { patternId: parent, content: null },
  });
  return store.insertVersion({
    filePath: file,
    version: (latest?.version ?? 0) + 1,
    patternId,
    parentPatternId: parent,
    eventType: parent === null ? "pattern_created" : "pattern_modified",
    transformationType: null,
    toolName: "Write",
    toolUseId: `toolu_${patternId}`,
    sessionId: "s",
    correlationId: "c",
    reason: null,
    createdAt: "2026-11-25T10:00:00.000Z",
  });
}
