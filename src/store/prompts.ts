/**
 * The SQL of requests and classifications (tables `prompts` and `version_classifications`, schema
 * v6), kept out of `src/store/store.ts` so that the tool hooks never load it. It runs on the store's
 * connection through {@linkcode Store.selectRows} and {@linkcode Store.writeRows}.
 *
 * @module
 */

import type { PromptRecord } from "../record/prompt_intent.ts";
import type { FileVersion } from "./rows.ts";
import type { Store } from "./store.ts";
import { toVersion } from "./rows.ts";
import { INSERT_PROMPT_SQL, promptParams } from "./prompt_connection.ts";
import { CLASSIFIER_LABELS, type ClassifierLabel } from "../record/transformation.ts";

/** A request as stored: the record the hook wrote, with its row. */
export interface StoredPrompt extends PromptRecord {
  /** `prompts.id`. */
  row: number;
}

/**
 * Stores one request; returns its row ID. One statement: atomic without a transaction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptRecord } from "../record/prompt_intent.ts";
 * import { openStore } from "./store.ts";
 * import { insertPrompt, storedPrompts } from "./prompts.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * const submission = { kind: "prompt" as const, sessionId: "s", promptId: null, prompt: "fix it" };
 * const policy = { storePrompts: true, maxBytes: 1 << 20, redact: null };
 * const row = insertPrompt(store, promptRecord(submission, new Date().toISOString(), policy));
 * assert.equal(storedPrompts(store)[0]?.row, row);
 * store.close();
 * ```
 */
export function insertPrompt(store: Store, r: PromptRecord): number {
  return store.writeRows(INSERT_PROMPT_SQL, ...promptParams(r)).lastRowId;
}

/**
 * The request a change of a session at `at` answered: the session's newest request submitted at
 * or before `at`. Undefined without a session or without such a request.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptRecord } from "../record/prompt_intent.ts";
 * import { openStore } from "./store.ts";
 * import { insertPrompt, promptAnswered } from "./prompts.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * const prompt = "fix the crash when the list is empty";
 * const policy = { storePrompts: false, maxBytes: 1 << 20, redact: null };
 * insertPrompt(
 *   store,
 *   promptRecord({ kind: "prompt", sessionId: "s", promptId: null, prompt }, "2026-01-01T00:00:00.000Z", policy),
 * );
 * // The request a version made later in the same session answered:
 * assert.equal(promptAnswered(store, "s", "2026-01-01T00:00:05.000Z")?.intentLabel, "bugfix");
 * assert.equal(promptAnswered(store, "s", "2025-12-31T00:00:00.000Z"), undefined); // none yet
 * store.close();
 * ```
 */
export function promptAnswered(
  store: Store,
  sessionId: string | null,
  at: string,
): StoredPrompt | undefined {
  if (sessionId === null) return undefined;
  const [row] = store.selectRows(
    `SELECT * FROM prompts WHERE session_key = ? AND submitted_at <= ?
     ORDER BY submitted_at DESC, id DESC LIMIT 1`,
    sessionId,
    at,
  );
  return row && toPrompt(row);
}

/**
 * Stored requests, oldest first; only a session's when `sessionId` is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { promptRecord } from "../record/prompt_intent.ts";
 * import { openStore } from "./store.ts";
 * import { insertPrompt, storedPrompts } from "./prompts.ts";
 * const store = openStore(Deno.makeTempDirSync());
 * const policy = { storePrompts: true, maxBytes: 1 << 20, redact: null };
 * for (const [sessionId, prompt] of [["a", "fix the crash"], ["b", "rename the helper"]] as const) {
 *   insertPrompt(
 *     store,
 *     promptRecord({ kind: "prompt", sessionId, promptId: null, prompt }, new Date().toISOString(), policy),
 *   );
 * }
 * assert.deepEqual(storedPrompts(store, { sessionId: "a" }).map((p) => p.text), ["fix the crash"]);
 * assert.equal(storedPrompts(store).length, 2);
 * store.close();
 * ```
 */
export function storedPrompts(store: Store, options: { sessionId?: string } = {}): StoredPrompt[] {
  const rows = options.sessionId === undefined
    ? store.selectRows("SELECT * FROM prompts ORDER BY submitted_at, id")
    : store.selectRows(
      "SELECT * FROM prompts WHERE session_key = ? ORDER BY submitted_at, id",
      options.sessionId,
    );
  return rows.map(toPrompt);
}

function toPrompt(r: Record<string, unknown>): StoredPrompt {
  const label = String(r.intent_label ?? "");
  return {
    row: Number(r.id),
    sessionId: r.session_id === null ? null : String(r.session_id),
    promptId: r.prompt_id === null ? null : String(r.prompt_id),
    submittedAt: String(r.submitted_at),
    intentLabel: (CLASSIFIER_LABELS as readonly string[]).includes(label)
      ? label as ClassifierLabel
      : null,
    intentScores: parseScores(r.intent_scores),
    intentModel: r.intent_model === null ? null : String(r.intent_model),
    text: r.prompt_text === null ? null : String(r.prompt_text),
    redactedSecrets: Number(r.redacted_secrets ?? 0),
  };
}

/** Stored scores: a JSON array of one finite number per class, else null (damaged or foreign). */
function parseScores(value: unknown): number[] | null {
  if (typeof value !== "string") return null;
  try {
    const scores = JSON.parse(value);
    return Array.isArray(scores) && scores.length === CLASSIFIER_LABELS.length &&
        scores.every((s) => typeof s === "number" && Number.isFinite(s))
      ? scores
      : null;
  } catch {
    return null;
  }
}

/** What a transformation type was decided from. */
export type ClassificationBasis =
  /** The classifier, from the diff and the words of the request the change answered. */
  | "code+intent"
  /** The classifier, from the diff alone (no request recorded, or a change outside Claude). */
  | "code"
  /** The request's intent label: the code of the version or of its parent is not kept. */
  | "intent"
  /** The diff-shape guess made when the version was recorded (kept: no code, no request; or
   * recorded before the classifier, and perhaps delivered with it). */
  | "recorded"
  /** A created version: no transformation. */
  | "created";

/** A version not yet classified, with its row ID. */
export interface UnclassifiedVersion {
  versionId: number;
  version: FileVersion;
}

/**
 * Versions the classifier has not typed yet, each file's in order; one file's when `filePath` is
 * given, only those waiting in the outbox with `queued` (what a flush sends: no scan of the whole
 * history).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { unclassifiedVersions } from "./prompts.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * assert.equal(unclassifiedVersions(store, { filePath: "/p/app.py" }).length, 2);
 * assert.equal(unclassifiedVersions(store, { filePath: "/p/other.py" }).length, 0);
 * store.close();
 * ```
 */
export function unclassifiedVersions(
  store: Store,
  filter: { filePath?: string; queued?: boolean } = {},
): UnclassifiedVersion[] {
  // A classification of another pattern under the same row ID (a deleted row reused) is void.
  const base = `SELECT v.id AS version_row, v.* FROM file_versions v
    LEFT JOIN version_classifications c ON c.version_id = v.id AND c.pattern_id = v.pattern_id
    WHERE c.version_id IS NULL`;
  const rows = filter.queued
    ? store.selectRows(
      `${base} AND v.id IN (SELECT version_id FROM outbox) ORDER BY v.file_path, v.version`,
    )
    : filter.filePath === undefined
    ? store.selectRows(`${base} ORDER BY v.file_path, v.version`)
    : store.selectRows(`${base} AND v.file_path = ? ORDER BY v.version`, filter.filePath);
  return rows.map((r) => ({ versionId: Number(r.version_row), version: toVersion(r) }));
}

/** One classification to save. */
export interface Classification {
  versionId: number;
  version: FileVersion;
  transformationType: string | null;
  basis: ClassificationBasis;
  /** The request whose intent was read (`prompts.id`), if any. */
  promptRow: number | null;
  at: string;
}

/**
 * Saves a classification: the version's `transformation_type` (what the flusher sends and the
 * views show), the lineage edge the version made, and the row saying it is done. Call it inside
 * a transaction (`store.immediate`) so the three go together.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { classificationOf, saveClassification, unclassifiedVersions } from "./prompts.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * const [pending] = unclassifiedVersions(store);
 * const classification = {
 *   ...pending!, transformationType: "enhancement", basis: "code" as const, promptRow: null,
 *   at: new Date().toISOString(),
 * };
 * store.immediate(() => saveClassification(store, classification));
 * assert.equal(classificationOf(store, pending!.versionId)?.basis, "code");
 * assert.equal(unclassifiedVersions(store).length, 0);
 * store.close();
 * ```
 */
export function saveClassification(store: Store, c: Classification): void {
  if (c.basis !== "recorded" && c.basis !== "created") {
    store.writeRows(
      "UPDATE file_versions SET transformation_type = ? WHERE id = ? AND pattern_id = ?",
      c.transformationType,
      c.versionId,
      c.version.patternId,
    );
    if (c.version.parentPatternId !== null) {
      // The edge (child, parent) is the version's when it was made with it (same file, same time).
      store.writeRows(
        `UPDATE lineage_edges SET transformation_type = ?
         WHERE child_pattern_id = ? AND parent_pattern_id = ? AND file_path = ? AND created_at = ?`,
        c.transformationType,
        c.version.patternId,
        c.version.parentPatternId,
        c.version.filePath,
        c.version.createdAt,
      );
    }
  }
  store.writeRows(
    `INSERT INTO version_classifications (version_id, pattern_id, basis, prompt_row, classified_at)
     VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (version_id) DO UPDATE SET pattern_id = excluded.pattern_id,
       basis = excluded.basis, prompt_row = excluded.prompt_row,
       classified_at = excluded.classified_at`,
    c.versionId,
    c.version.patternId,
    c.basis,
    c.promptRow,
    c.at,
  );
}

/** How a version's transformation type was decided, when it has been. */
export interface ClassificationRow {
  basis: ClassificationBasis;
  promptRow: number | null;
  classifiedAt: string;
}

/**
 * The classification row of a version (by `file_versions.id`), or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { classificationOf, unclassifiedVersions } from "./prompts.ts";
 * import { classifyPending } from "../record/version_transformations.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * const [pending] = unclassifiedVersions(store);
 * assert.equal(classificationOf(store, pending!.versionId), undefined); // not typed yet
 * classifyPending(store);
 * assert.equal(classificationOf(store, pending!.versionId)?.basis, "created"); // a new file
 * store.close();
 * ```
 */
export function classificationOf(store: Store, versionId: number): ClassificationRow | undefined {
  const [r] = store.selectRows(
    `SELECT c.* FROM version_classifications c JOIN file_versions v
       ON v.id = c.version_id AND v.pattern_id = c.pattern_id WHERE c.version_id = ?`,
    versionId,
  );
  return r && {
    basis: String(r.basis) as ClassificationBasis,
    promptRow: r.prompt_row === null ? null : Number(r.prompt_row),
    classifiedAt: String(r.classified_at),
  };
}
