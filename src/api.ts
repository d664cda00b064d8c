/**
 * The tracker as a library: one {@linkcode PatternTracker} per process (see {@linkcode getTracker}),
 * with functions to track creations, modifications and executions outside of Claude Code hooks.
 *
 * @module
 */

import { loadConfig, type TrackerConfig } from "./config/mod.ts";
import type { TrackedTool } from "./record/payload.ts";
import {
  COMMAND_BUSY_TIMEOUT_MS,
  openStore,
  type Store,
  type VersionWithMetrics,
} from "./store/mod.ts";
import { track } from "./record/track.ts";
import type { TrackResult } from "./record/recorder.ts";
import { classifyBeforeShowing } from "./record/version_transformations.ts";

/** Where a piece of code lives and which tool wrote it. */
export interface CodeContext {
  filePath: string;
  /** Defaults to `Write` for creations and `Edit` for modifications. */
  toolName?: TrackedTool;
  /** Correlates with a Claude Code tool call; a fresh one is made when absent. */
  toolUseId?: string;
  durationMs?: number;
}

/** A tool call's outcome, for {@linkcode PatternTracker.trackExecution}. */
export interface ExecutionReport {
  toolUseId: string;
  filePath: string;
  toolName: TrackedTool;
  durationMs: number | null;
  success: boolean;
  error?: string;
}

/**
 * Records patterns into the store of a configuration. Obtain the shared one with
 * {@linkcode getTracker}; construct one directly only for a different data directory. Every call
 * goes through the hooks' recording core (`track`), so it obeys the same rules: nothing is recorded
 * with `enabled: false` or for a path the path rules exclude, code is capped and redacted the same
 * way, and a store that cannot take the record spills it to the journal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "./api.ts";
 * import { defaultConfig } from "./config/mod.ts";
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir: Deno.makeTempDirSync() });
 * assert.equal((await tracker.trackCreation("x = 1\n", { filePath: "/p/a.py" })).outcome, "recorded");
 * await tracker.trackModification("x = 2\n", { filePath: "/p/a.py", parentCode: "x = 1\n" });
 * const history = tracker.history("/p/a.py");
 * assert.deepEqual(history.map((v) => v.eventType), ["pattern_created", "pattern_modified"]);
 * tracker.close();
 * ```
 */
export class PatternTracker {
  /** UUID v4 of this tracker's session (used when a call gives none). */
  readonly sessionId: string = crypto.randomUUID();
  readonly config: TrackerConfig;
  #store: Store | null = null;

  constructor(config: TrackerConfig) {
    this.config = config;
  }

  #open(): Store {
    this.#store ??= openStore(this.config.dataDir);
    return this.#store;
  }

  /** Tracks a new file's content as a `pattern_created`. */
  trackCreation(code: string, context: CodeContext): Promise<TrackResult> {
    return this.#change(null, code, context, "Write");
  }

  /**
   * Tracks a change from `parentCode` (or, when omitted, from the file's newest tracked version)
   * to `code`, as a `pattern_modified`.
   */
  trackModification(
    code: string,
    context: CodeContext & { parentCode?: string },
  ): Promise<TrackResult> {
    return this.#change(context.parentCode, code, context, "Edit");
  }

  /**
   * Records a failed tool call (successful ones are recorded by the two functions above); null for
   * a successful report.
   */
  async trackExecution(report: ExecutionReport): Promise<TrackResult | null> {
    if (report.success) return null;
    return await track(this.config, {
      kind: "failure",
      hookEvent: "PostToolUseFailure",
      toolName: report.toolName,
      toolUseId: report.toolUseId,
      sessionId: this.sessionId,
      cwd: null,
      filePath: report.filePath,
      error: report.error ?? "failed",
      durationMs: report.durationMs,
    }, { waitMs: COMMAND_BUSY_TIMEOUT_MS });
  }

  /** The versions of a file, oldest first, each typed as it is (or will be) sent. */
  history(filePath: string): VersionWithMetrics[] {
    const store = this.#open();
    classifyBeforeShowing(store, { filePath });
    return store.fileHistory(filePath);
  }

  /** Closes the store (it reopens on the next call). */
  close(): void {
    this.#store?.close();
    this.#store = null;
  }

  #change(
    before: string | null | undefined,
    after: string,
    context: CodeContext,
    tool: TrackedTool,
  ): Promise<TrackResult> {
    return track(this.config, {
      kind: "change",
      hookEvent: "PostToolUse",
      toolName: context.toolName ?? tool,
      toolUseId: context.toolUseId ?? `api-${crypto.randomUUID()}`,
      sessionId: this.sessionId,
      cwd: null,
      filePath: context.filePath,
      before,
      after,
      durationMs: context.durationMs ?? null,
      lineDelta: null,
      summary: `${context.toolName ?? tool} (library call)`,
      replaceAll: false,
    }, { waitMs: COMMAND_BUSY_TIMEOUT_MS });
  }
}

let shared: Promise<PatternTracker> | null = null;

/**
 * The process's one tracker, configured from the environment and `config.yaml`. Every call returns
 * the same instance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getTracker } from "./api.ts";
 * // Configured from the environment: here a temp data directory and no config file.
 * const dataDir = Deno.makeTempDirSync();
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", dataDir);
 * Deno.env.set("PATTERN_TRACKER_CONFIG", `${dataDir}/config.yaml`);
 * const a = await getTracker();
 * const b = await getTracker();
 * assert.equal(a, b);
 * assert.equal(a.config.dataDir, dataDir);
 * Deno.env.delete("PATTERN_TRACKER_DATA_DIR");
 * Deno.env.delete("PATTERN_TRACKER_CONFIG");
 * ```
 */
export function getTracker(): Promise<PatternTracker> {
  shared ??= loadConfig().then(({ config }) => new PatternTracker(config));
  return shared;
}
