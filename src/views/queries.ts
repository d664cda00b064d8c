/**
 * Read-only queries of the views (blame, stats, the report's attribution, the Agent Trace ranges,
 * the attribution sent to Phase 4), kept out of `src/store/store.ts` so that the hooks never load them.
 * They run through {@linkcode Store.selectRows}, which accepts nothing but a `SELECT`.
 *
 * @module
 */

import { type CodeRow, type FileVersion, type Store, toCodeRow, toVersion } from "../store/mod.ts";

/** One version of a file's chain with how its code is kept (undefined: its pattern row is gone). */
export interface ChainEntry {
  version: FileVersion;
  code: CodeRow | undefined;
}

const CHAIN = `SELECT v.*, p.pattern_id AS p_pattern_id, p.code, p.code_omitted, p.redacted_secrets,
    p.byte_size, p.first_seen_at, c.format AS code_format, c.base AS code_base,
    c.depth AS code_depth, c.chain_bytes AS code_chain_bytes, c.length AS code_length,
    c.data AS code_data
  FROM file_versions v
  LEFT JOIN patterns p ON p.pattern_id = v.pattern_id
  LEFT JOIN pattern_code c ON c.pattern_id = v.pattern_id
  WHERE v.file_path = ? AND v.version BETWEEN ? AND ? ORDER BY v.version`;

/**
 * The versions `from`..`to` (inclusive) of a file, oldest first, each with its stored code row, in
 * one query.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { fileChain } from "./queries.ts";
 * assert.deepEqual(fileChain(store, "/p/app.py").map((e) => e.version.version), [1, 2]);
 * store.close();
 * ```
 */
export function fileChain(
  store: Store,
  filePath: string,
  from = 1,
  to = Number.MAX_SAFE_INTEGER,
): ChainEntry[] {
  return store.selectRows(CHAIN, filePath, from, to).map((r) => ({
    version: toVersion(r),
    code: r.p_pattern_id === null || r.p_pattern_id === undefined ? undefined : toCodeRow(r),
  }));
}

/**
 * Every tracked file, newest change first; only those a session touched when `sessionId` is given
 * (no limit, unlike {@linkcode Store.trackedFiles}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { allTrackedFiles } from "./queries.ts";
 * assert.deepEqual(allTrackedFiles(store), ["/p/app.py"]);
 * assert.deepEqual(allTrackedFiles(store, { sessionId: "another session" }), []);
 * store.close();
 * ```
 */
export function allTrackedFiles(store: Store, options: { sessionId?: string } = {}): string[] {
  const rows = options.sessionId === undefined
    ? store.selectRows(
      "SELECT file_path FROM file_versions GROUP BY file_path ORDER BY MAX(id) DESC",
    )
    : store.selectRows(
      `SELECT file_path FROM file_versions WHERE file_path IN
         (SELECT file_path FROM file_versions WHERE session_id = ?
          UNION SELECT file_path FROM executions WHERE session_id = ? AND file_path IS NOT NULL)
       GROUP BY file_path ORDER BY MAX(id) DESC`,
      options.sessionId,
      options.sessionId,
    );
  return rows.map((r) => String(r.file_path));
}
