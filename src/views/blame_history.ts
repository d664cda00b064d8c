/**
 * Blame read from the store: walks a file's versions in order, reading each version's code the
 * cheap way — the stored line patch itself when it was made against the version before (it already
 * is the diff), else the stored text — and carries the origins along (`src/views/blame.ts`). Also the
 * carrier the flusher and the Agent Trace export use: one walk per file, advanced a version at a
 * time as they go through a file's versions in order.
 *
 * @module
 */

import {
  advanceTo,
  applyChange,
  type BlameChange,
  type BlameState,
  blameText,
  emptyBlame,
  freshBlame,
  type LineSource,
  originOfTool,
  sourceOfVersion,
  UNKNOWN_SOURCE,
} from "./blame.ts";
import { type LineAttribution, lineAttribution } from "./blame_runs.ts";
import { isSnapshot, patchOf, snapshotText } from "../store/code_storage.ts";
import type { FileVersion, Store } from "../store/mod.ts";
import { type ChainEntry, fileChain } from "./queries.ts";

/** One version as the walk met it. */
export interface BlameStep {
  version: FileVersion;
  /** The source of the lines this version added. */
  source: LineSource;
  /** What the change did; null when this version's code is not kept (the walk cannot see it). */
  change: BlameChange | null;
  /** Why the code is missing, when it is. */
  missing: string | null;
}

/** Where a file's walk stands. */
export class FileBlameWalk {
  /** The blame of the newest version whose text was seen (the current one when `known`). */
  state: BlameState = emptyBlame();
  /** The version the walk is at (0 before the first). */
  version = 0;
  /** The pattern of that version. */
  patternId: string | null = null;
  /** Whether `state` is that version's text (false after a version whose code is not kept). */
  known = true;
  /** Why the current version's code is missing, when it is. */
  missing: string | null = null;
  /** The last step's attribution summary, when its text was known. */
  lastAttribution: LineAttribution | null = null;

  constructor(
    readonly store: Store,
    readonly filePath: string,
    readonly options: { hunks?: boolean } = {},
  ) {}

  /**
   * Moves the walk to `entry` (the next version of the file). `text`, when given, is that
   * version's stored text already read by the caller (null: not kept).
   */
  advance(entry: ChainEntry, text?: string | null): BlameStep {
    const v = entry.version;
    const source = sourceOfVersion(v);
    const hunks = this.options.hunks === true;
    let change: BlameChange | null = null;
    let missing: string | null = null;
    const created = v.parentPatternId === null || this.version === 0;
    // The cheap way: the stored patch was made against the version before.
    const stored = entry.code?.stored ?? null;
    if (
      text === undefined && stored !== null && !isSnapshot(stored.format) && !created &&
      this.known && stored.base !== null && stored.base === this.patternId
    ) {
      try {
        change = applyChange(this.state, patchOf(stored.format, stored.data).ops, source, {
          hunks,
        });
      } catch {
        change = null; // an unreadable patch: read the text instead
      }
    }
    if (change === null) {
      const next = text === undefined ? this.#readText(entry) : text;
      if (next === null) {
        missing = entry.code?.codeOmitted ?? "absent";
        this.known = false;
      } else if (created) {
        // A created version (or the first): every line is its own, whatever was there before
        // (a file deleted and written anew: the old lines are gone, by whoever deleted them).
        const before = this.version === 0 ? [] : this.state.sources;
        this.state = freshBlame(next, source);
        change = {
          kept: 0,
          added: this.state.lines.length,
          removed: before.length,
          removedSources: [...before],
        };
        if (hunks) {
          change.hunks = [{
            oldStart: 0,
            newStart: 0,
            lines: this.state.lines.map((l) => ({ kind: "add", text: l.replace(/\n$/, "") })),
          }];
        }
        this.known = true;
      } else {
        // After versions the walk could not see, what changed cannot be told apart.
        change = advanceTo(this.state, next, this.known ? source : UNKNOWN_SOURCE, { hunks });
        this.known = true;
      }
    }
    this.version = v.version;
    this.patternId = v.patternId;
    this.missing = missing;
    this.lastAttribution = change === null
      ? null
      : lineAttribution(this.state, change, originOfTool(v.toolName));
    return { version: v, source, change, missing };
  }

  /** A version's stored text, or null when it is not kept or cannot be read. */
  #readText(entry: ChainEntry): string | null {
    const row = entry.code;
    if (!row?.stored) return null;
    try {
      if (isSnapshot(row.stored.format)) {
        return row.legacy
          ? new TextDecoder().decode(row.stored.data)
          : snapshotText(row.stored.format, row.stored.data);
      }
      return this.store.code(entry.version.patternId) ?? null;
    } catch {
      return null;
    }
  }

  /** The current version's text, when known. */
  text(): string | null {
    return this.known ? blameText(this.state) : null;
  }
}

/** A file's blame at its newest version (or at `upTo`), with each step when asked. */
export interface FileBlame {
  filePath: string;
  walk: FileBlameWalk;
  /** The version blamed, or undefined when the file has none. */
  last: FileVersion | undefined;
  steps: BlameStep[];
}

/**
 * Walks a file's versions (all, or up to `upTo`) in one query and returns where it ends.
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
 * import { blameFile } from "./blame_history.ts";
 * const { walk, last } = blameFile(store, "/p/app.py");
 * assert.equal(last?.version, 2);
 * assert.equal(walk.state.sources[0]?.origin, "ai");
 * store.close();
 * ```
 */
export function blameFile(
  store: Store,
  filePath: string,
  options: {
    upTo?: number;
    hunks?: boolean;
    keepSteps?: boolean;
    onStep?: (s: BlameStep) => void;
  } = {},
): FileBlame {
  const walk = new FileBlameWalk(store, filePath, { hunks: options.hunks });
  const steps: BlameStep[] = [];
  let last: FileVersion | undefined;
  for (const entry of fileChain(store, filePath, 1, options.upTo)) {
    const step = walk.advance(entry);
    options.onStep?.(step);
    if (options.keepSteps) steps.push(step);
    last = entry.version;
  }
  return { filePath, walk, last, steps };
}

/**
 * The attribution summaries of versions taken in any order, carried per file: asked for a file's
 * versions in order (as the flusher sends them), each costs one step; asked out of order, the walk
 * starts again from the file's first version. At most `maxFiles` walks are kept (least recently
 * used goes). The summary depends only on the file's chain up to the version, so a resend is the
 * same bytes.
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
 * import { AttributionCarrier } from "./blame_history.ts";
 * const carrier = new AttributionCarrier(store);
 * const [, second] = store.fileHistory("/p/app.py");
 * const attribution = carrier.attributionOf(second!);
 * assert.deepEqual([attribution?.from_parent, attribution?.added], [0, 1]); // x = 1 became x = 2
 * store.close();
 * ```
 */
export class AttributionCarrier {
  readonly #walks = new Map<string, FileBlameWalk>();

  constructor(readonly store: Store, readonly maxFiles = 256) {}

  /**
   * The line attribution of a version, or null when its code (or its file's) is not kept. `text`
   * is the version's stored text when the caller read it already (null: not kept).
   */
  attributionOf(v: FileVersion, text?: string | null): LineAttribution | null {
    const walk = this.walkAt(v, text);
    return walk.version === v.version ? walk.lastAttribution : null;
  }

  /**
   * The file's walk moved to version `v` (its `state` is that version's blame when `known`). The
   * walk goes on from there: read what you need before asking for another version.
   */
  walkAt(v: FileVersion, text?: string | null): FileBlameWalk {
    let walk = this.#walks.get(v.filePath);
    this.#walks.delete(v.filePath);
    if (!walk || walk.version !== v.version || walk.patternId !== v.patternId) {
      if (!walk || walk.version >= v.version) walk = new FileBlameWalk(this.store, v.filePath);
      if (walk.version === v.version - 1 && text !== undefined) {
        walk.advance({ version: v, code: undefined }, text);
      } else {
        for (const entry of fileChain(this.store, v.filePath, walk.version + 1, v.version)) {
          walk.advance(entry);
        }
      }
    }
    this.#walks.set(v.filePath, walk);
    for (const key of this.#walks.keys()) {
      if (this.#walks.size <= this.maxFiles) break;
      this.#walks.delete(key);
    }
    return walk;
  }
}
