/**
 * The transformation type of each recorded version, from its diff and the intent of the request it
 * answered, decided once, off the hooks' path: the flusher types the versions before it sends them,
 * and `lineage`, `report` and `export` type any still untyped before they show them. The answer is
 * stored in the version's `transformation_type` (and its lineage edge), so Phase 4 and the views
 * read the same value, and a resend is the same bytes.
 *
 * The classifier is the one `tracker classify` runs (`classifyTransformation`'s, through
 * `explainTransformation`): a version Claude made after a recorded request of its session is typed
 * from the code before and after plus that request's intent scores; a version without one (no
 * prompt hook, an import, a change outside Claude Code) from the code alone.
 *
 * @module
 */

import type { FileVersion } from "../store/rows.ts";
import type { PatternRow } from "../store/pattern_rows.ts";
import type { Store } from "../store/store.ts";
import {
  type ClassificationBasis,
  promptAnswered,
  saveClassification,
  type StoredPrompt,
  type UnclassifiedVersion,
  unclassifiedVersions,
} from "../store/prompts.ts";
import { explainTransformation, intentModelId } from "./transformation.ts";

/** What a version's type is decided from. */
export interface VersionFacts {
  version: FileVersion;
  /** The content before (the parent's stored text); null when not kept, "" for none. */
  before: string | null;
  /** The content of the version; null when not kept. */
  after: string | null;
  /** The request the change answered, if one was recorded. */
  prompt: StoredPrompt | undefined;
}

/** A version's type and what it was decided from. */
export interface VersionTransformation {
  transformationType: string | null;
  basis: ClassificationBasis;
  promptRow: number | null;
}

/** Versions made outside Claude's tool calls: no request of Claude's answered them. */
const BRIDGE_TOOLS = new Set(["external", "baseline"]);

/**
 * Decides a version's transformation type (pure): a created version has none; a modification is
 * classified from its code and, for Claude's own changes, the intent scores of the request it
 * answered (scores of another intent model are not mixed in); without its code or its parent's,
 * the request's intent label, else the diff-shape guess it was recorded with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideTransformation } from "./version_transformations.ts";
 * const decided = decideTransformation({
 *   version: { filePath: "/p/a.py", version: 2, patternId: "b", parentPatternId: "a",
 *     eventType: "pattern_modified", transformationType: "refactor", toolName: "Edit",
 *     toolUseId: "t", sessionId: "s", correlationId: "c", reason: null, createdAt: "2026-01-01T00:00:00.000Z" },
 *   before: "x = f(y)\n", after: "x = f(y) if y else None\n", prompt: undefined,
 * });
 * assert.equal(decided.basis, "code");
 * ```
 */
export function decideTransformation(facts: VersionFacts): VersionTransformation {
  const v = facts.version;
  if (v.eventType !== "pattern_modified" || v.parentPatternId === null) {
    return { transformationType: null, basis: "created", promptRow: null };
  }
  const prompt = BRIDGE_TOOLS.has(v.toolName) ? undefined : facts.prompt;
  const scores = prompt?.intentScores && prompt.intentModel === intentModelId()
    ? prompt.intentScores
    : null;
  if (facts.before !== null && facts.after !== null) {
    const explained = explainTransformation({
      before: facts.before,
      after: facts.after,
      intentScores: scores,
    });
    return {
      transformationType: explained.transformationType,
      basis: scores ? "code+intent" : "code",
      promptRow: scores ? prompt!.row : null,
    };
  }
  if (prompt?.intentLabel) {
    return { transformationType: prompt.intentLabel, basis: "intent", promptRow: prompt.row };
  }
  return { transformationType: v.transformationType, basis: "recorded", promptRow: null };
}

/** Classifications saved per transaction: a long backlog does not hold the write lock long. */
const BATCH = 200;

/**
 * Types every version not typed yet (one file's with `filePath`; those in the outbox with
 * `queued`), and stores the answers; returns how many it typed. Reads and classifies outside the
 * write lock, writes in short transactions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import { classifyPending } from "./version_transformations.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * const typed = classifyPending(store); // before sending, or before showing a lineage
 * assert.ok(typed > 0);
 * assert.equal(classifyPending(store), 0); // nothing left to type
 * store.close();
 * ```
 */
export function classifyPending(
  store: Store,
  options: { filePath?: string; queued?: boolean; now?: () => string } = {},
): number {
  const now = options.now ?? (() => new Date().toISOString());
  const pending = unclassifiedVersions(store, options);
  const texts = new TextCache(store);
  let done = 0;
  for (let at = 0; at < pending.length; at += BATCH) {
    const batch = pending.slice(at, at + BATCH).map((p) => ({ ...p, ...typeOf(store, texts, p) }));
    const time = now();
    store.immediate(() => {
      for (const c of batch) saveClassification(store, { ...c, at: time });
    });
    done += batch.length;
  }
  return done;
}

function typeOf(store: Store, texts: TextCache, p: UnclassifiedVersion): VersionTransformation {
  const v = p.version;
  if (v.eventType !== "pattern_modified" || v.parentPatternId === null) {
    return decideTransformation({ version: v, before: null, after: null, prompt: undefined });
  }
  try {
    return decideTransformation({
      version: v,
      before: texts.get(v.parentPatternId),
      after: texts.get(v.patternId),
      prompt: promptAnswered(store, v.sessionId, v.createdAt),
    });
  } catch {
    // Unreadable code (a damaged chain): keep the type the version was recorded with.
    return { transformationType: v.transformationType, basis: "recorded", promptRow: null };
  }
}

/** The last texts read, by pattern ID: a version's parent is usually the version before it. */
class TextCache {
  readonly #texts = new Map<string, string | null>();
  constructor(readonly store: Store, readonly size = 8) {}

  get(patternId: string): string | null {
    if (this.#texts.has(patternId)) return this.#texts.get(patternId)!;
    const row: PatternRow | undefined = this.store.pattern(patternId);
    const text = row?.code ?? null;
    this.#texts.set(patternId, text);
    if (this.#texts.size > this.size) this.#texts.delete(this.#texts.keys().next().value!);
    return text;
  }
}

/**
 * {@linkcode classifyPending} before a view shows versions: a store that cannot be written now
 * (locked by a long write, read-only) shows the types it holds, and the flusher types the rest
 * before sending them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * import { classifyBeforeShowing, classifyPending } from "./version_transformations.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * classifyBeforeShowing(store, { filePath: "/p/app.py" });
 * assert.equal(classifyPending(store, { filePath: "/p/app.py" }), 0); // all typed already
 * store.close();
 * ```
 */
export function classifyBeforeShowing(store: Store, options: { filePath?: string } = {}): void {
  try {
    classifyPending(store, options);
  } catch { /* shown as recorded; typed on the next try */ }
}
