/**
 * The records of an export (`import`), through the recording core's rules: each pattern ID checked
 * against its code, the code capped, redacted and dropped as the hooks would, versions whose parent
 * is unknown refused, and — when queueing — versions queued in doubt (the flusher asks the server
 * which it holds before sending), after the versions of parents the server cannot know yet.
 * Loaded by `track` only for an import, so hooks never load it.
 *
 * @module
 */

import { languageFromPath } from "./language.ts";
import { patternId } from "./pattern.ts";
import { redactSecrets } from "./privacy.ts";
import { contentFacts } from "./change.ts";
import { RecordRefused } from "./inputs.ts";
import type {
  CommitOptions,
  CommitOutcome,
  ContentFacts,
  ImportedVersion,
  ImportedVersionRecord,
  ImportInput,
  ImportRecord,
  RecordRules,
} from "./records.ts";
import type { Store } from "../store/store.ts";

/**
 * Size cap → redaction for an export's record (after the path rules, `admit`). Throws
 * {@linkcode RecordRefused} for a pattern whose ID is not the hash of its code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import { shapeImported } from "./import.ts";
 * // An export's version, here read from a store the library seeded.
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/a.py" });
 * tracker.close();
 * const source = openStore(dataDir);
 * const [version] = source.allVersions();
 * const [pattern] = source.allPatterns();
 * source.close();
 * const record = await shapeImported(defaultConfig("/tmp"), {
 *   kind: "imported_version", version: version!, pattern, line: 3,
 * });
 * assert.equal(record.kind, "imported_version");
 * if (record.kind === "imported_version") {
 *   assert.equal(record.language, "python");
 *   assert.equal(record.content.code, "x = 1\n");
 * }
 * ```
 */
export async function shapeImported(rules: RecordRules, input: ImportInput): Promise<ImportRecord> {
  switch (input.kind) {
    case "imported_version":
      return await shapeImportedVersion(rules, input);
    case "imported_execution":
      return {
        kind: "imported_execution",
        line: input.line,
        execution: {
          ...input.execution,
          error: input.execution.error !== null && rules.redactSecrets
            ? redactSecrets(input.execution.error).text
            : input.execution.error,
        },
      };
    case "imported_edge":
      return { kind: "imported_edge", edge: input.edge, line: input.line };
    default: {
      const unreachable: never = input;
      throw new Error(`unhandled input ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Count of `[REDACTED:` markers: code that carries them was redacted, so its hash cannot be checked. */
function redactionMarkers(code: string): number {
  return code.split("[REDACTED:").length - 1;
}

async function shapeImportedVersion(
  rules: RecordRules,
  input: ImportedVersion,
): Promise<ImportedVersionRecord> {
  const { version, pattern, line } = input;
  const where = `line ${line}: ${version.filePath} version ${version.version}`;
  if (!/^[0-9a-f]{16}$/.test(version.patternId)) {
    throw new RecordRefused(
      `${where}: pattern ID ${
        JSON.stringify(version.patternId)
      } is not 16 hex characters (the first 16 of a SHA-256)`,
    );
  }
  let content: ContentFacts;
  if (pattern && typeof pattern.code === "string") {
    // An ID must be the hash of its code. Redacted code hashes differently from the real code the
    // ID was made from, so only code without redaction markers can be checked.
    if (redactionMarkers(pattern.code) === 0) {
      const actual = await patternId(pattern.code);
      if (actual !== version.patternId) {
        throw new RecordRefused(
          `${where}: pattern ${version.patternId} does not match its code (its SHA-256 gives ${actual}); a pattern ID must be the hash of the code`,
        );
      }
    }
    content = contentFacts(version.patternId, pattern.code, rules);
    // Code redacted by the exporting store keeps its count; redacting again finds nothing new.
    if (content.code !== null) {
      content.redactedSecrets = Math.max(content.redactedSecrets, redactionMarkers(content.code));
    }
  } else {
    content = {
      id: version.patternId,
      code: null,
      codeOmitted: rules.storeCode
        ? (pattern?.codeOmitted === "too_large" ? "too_large" : "store_code_off")
        : "store_code_off",
      redactedSecrets: 0,
      lineCount: pattern?.lineCount ?? 0,
      byteSize: pattern?.byteSize ?? 0,
    };
  }
  return {
    kind: "imported_version",
    version,
    content,
    language: pattern?.language ?? languageFromPath(version.filePath),
    line,
  };
}

/**
 * Writes one of an export's records into the store, in the import's transaction. Throws
 * {@linkcode RecordRefused} for a version whose parent is unknown or that contradicts the store's
 * history of its path, and for an edge between unknown patterns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import { commitImported, shapeImported } from "./import.ts";
 * // An export's version, here read from a store the library seeded, imported into a second store.
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/a.py" });
 * tracker.close();
 * const source = openStore(dataDir);
 * const [version] = source.allVersions();
 * const [pattern] = source.allPatterns();
 * source.close();
 * const record = await shapeImported(defaultConfig("/tmp"), {
 *   kind: "imported_version", version: version!, pattern, line: 1,
 * });
 * const store = openStore(Deno.makeTempDirSync());
 * const outcome = store.immediate(() =>
 *   commitImported(store, record, { queue: false, imported: new Set() })
 * );
 * assert.equal(outcome.kind, "imported");
 * assert.equal(store.fileHistory("/p/a.py").length, 1);
 * store.close();
 * ```
 */
export function commitImported(
  store: Store,
  record: ImportRecord,
  options: CommitOptions,
): CommitOutcome {
  switch (record.kind) {
    case "imported_version":
      return commitImportedVersion(store, record, options);
    case "imported_execution": {
      const x = record.execution;
      // The same call (session, ID) with the same outcome is already here: skip.
      const same = store.executionsOfCall(x.sessionId, x.toolUseId).some((e) =>
        e.patternId === x.patternId && e.finishedAt === x.finishedAt
      );
      if (!same) store.finishExecution(x);
      return { kind: "imported", what: "execution", added: !same, patternAdded: false, queued: 0 };
    }
    case "imported_edge": {
      const e = record.edge;
      const known = (id: string) => options.imported?.has(id) || store.hasPattern(id);
      if (!known(e.child) || !known(e.parent)) {
        throw new RecordRefused(
          `line ${record.line}: the edge ${e.child} → ${e.parent} names a pattern that is neither in the export nor in this store`,
        );
      }
      return {
        kind: "imported",
        what: "edge",
        added: store.insertEdge(e),
        patternAdded: false,
        queued: 0,
      };
    }
    default: {
      const unreachable: never = record;
      throw new Error(`unhandled record ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * An imported version: its pattern and version (skipped when present; another history of the same
 * path is refused), its edge, and — when queueing — the version, in doubt (it came from another
 * store, which may have delivered it), after a version of its parent the server cannot know yet (a
 * version of the parent in this store that was never queued, delivered or refused). A parent that
 * is neither in the export nor in this store is refused: its child would wait in the outbox
 * forever.
 */
function commitImportedVersion(
  store: Store,
  record: ImportedVersionRecord,
  options: CommitOptions,
): CommitOutcome {
  const { version: v, content, language, line } = record;
  const parent = v.parentPatternId;
  if (parent !== null && !options.imported?.has(parent) && !store.hasPattern(parent)) {
    throw new RecordRefused(
      `line ${line}: ${v.filePath} version ${v.version} comes from pattern ${parent}, which is neither in the export nor in this store (import the export it came from first)`,
    );
  }
  const patternAdded = store.insertPattern({
    patternId: content.id,
    language,
    lineCount: content.lineCount,
    byteSize: content.byteSize,
    code: content.code,
    firstSeenAt: v.createdAt,
    codeOmitted: content.codeOmitted,
    redactedSecrets: content.redactedSecrets,
  });
  options.imported?.add(content.id);
  const versionId = store.insertVersionIfAbsent(v);
  if (versionId === null) {
    const here = store.fileHistory(v.filePath).find((h) => h.version === v.version);
    if (here !== undefined && here.patternId !== v.patternId) {
      throw new RecordRefused(
        `line ${line}: ${v.filePath} version ${v.version} is ${here.patternId} in this store but ${v.patternId} in the export (two different histories of one path)`,
      );
    }
    return { kind: "imported", what: "version", added: false, patternAdded, queued: 0 };
  }
  let queued = 0;
  if (options.queue) {
    const at = options.queuedAt ?? new Date().toISOString();
    const queuedNow = options.queuedNow ?? new Set<string>();
    const ensureParentKnown = (patternIdOfParent: string, depth: number) => {
      if (queuedNow.has(patternIdOfParent) || store.patternInDelivery(patternIdOfParent)) return;
      const holder = store.versionsOfPattern(patternIdOfParent)[0];
      if (!holder) {
        throw new RecordRefused(
          `line ${line}: ${v.filePath} version ${v.version} would wait for pattern ${patternIdOfParent}, which no version in this store holds; import without --queue, or import its history first`,
        );
      }
      // The parent's own parent first, so the server learns the chain in order.
      if (holder.parentPatternId !== null && depth < 10_000) {
        ensureParentKnown(holder.parentPatternId, depth + 1);
      }
      store.enqueueVersion(store.versionId(holder.filePath, holder.version) as number, at, {
        inDoubt: true,
      });
      queuedNow.add(patternIdOfParent);
      queued++;
    };
    if (parent !== null) ensureParentKnown(parent, 0);
    store.enqueueVersion(versionId, at, { inDoubt: true });
    queuedNow.add(v.patternId);
    queued++;
  }
  return { kind: "imported", what: "version", added: true, patternAdded, queued };
}
