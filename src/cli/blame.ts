/**
 * `blame FILE [--json] [--stored]`: every line of a tracked file with where it came from — the
 * Claude Code tool call that wrote it (`ai`), outside Claude Code (`external`), or before tracking
 * began (`baseline`) — carried through the file's versions (`src/views/blame.ts`). By default the file on
 * disk is compared with the last tracked version, so lines changed since show as `external`;
 * `--stored` blames the last tracked version itself. The disk file is compared the way the hooks
 * store text (LF line endings, secrets redacted), and only that redacted text is ever printed.
 *
 * @module
 */

import type { BlameOptions } from "./commands/blame.ts";
import {
  advanceTo,
  blameText,
  DISK_SOURCE,
  type LineSource,
  type Origin,
  ORIGINS,
} from "../views/blame.ts";
import { blameFile, type FileBlame } from "../views/blame_history.ts";
import { type DiskText, readDisk } from "../views/disk_text.ts";
import { loadConfig } from "../config/mod.ts";
import { openAndReplay } from "../record/spill.ts";
import type { FileVersion, Store } from "../store/mod.ts";
import { CliError } from "./errors.ts";
import { requireTrackedFile } from "./lineage.ts";

/** How the file on disk compared with the last tracked version. */
export type DiskState =
  /** `--stored`: not looked at. */
  | "not_compared"
  /** The same text as the last tracked version. */
  | "same"
  /** Changed since: the changed lines are `external`. */
  | "changed"
  /** Not there (deleted, moved, or a notebook cell's path): the last tracked version is blamed. */
  | "missing"
  /** There, but it could not be read (it is shown, with the reason, on stderr). */
  | "unreadable";

/** A file's blame, ready to print. */
export interface BlameResult {
  filePath: string;
  /** The last tracked version. */
  last: FileVersion;
  disk: DiskState;
  /** Lines of the disk file that differ from the last tracked version. */
  changedOnDisk: number;
  /** The lines (with their `"\n"`), redacted as stored. */
  lines: readonly string[];
  sources: readonly LineSource[];
  counts: Record<Origin, number>;
}

/** Why a version's code is missing, in words. */
function missingReason(reason: string | null): string {
  switch (reason) {
    case "store_code_off":
      return "store_code was off when it was recorded";
    case "too_large":
      return "it was over max_pattern_bytes";
    case "pruned":
      return "prune (retention) dropped it";
    case "unreadable":
      return "it was lost to damage";
    default:
      return "the store holds no code for it";
  }
}

/**
 * Blames a tracked file: its last version, then, when `disk` is given (the disk file as
 * {@linkcode comparableText} read it), the changes since. Throws {@linkcode CliError} when the last
 * version's code is not kept.
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
 * import { blameOf } from "./blame.ts";
 * const result = blameOf(store, "/p/app.py", { kind: "text", text: "x = 2\ny = 3\n" });
 * assert.deepEqual([result.counts.ai, result.counts.external], [1, 1]); // y = 3 was written outside
 * store.close();
 * ```
 */
export function blameOf(
  store: Store,
  filePath: string,
  disk: DiskText | { kind: "not_compared" },
): BlameResult {
  const blamed: FileBlame = blameFile(store, filePath);
  const { walk, last } = blamed;
  if (!last) throw new CliError(`${filePath} has no tracked version in the store ${store.path}`);
  if (!walk.known) {
    throw new CliError(
      `the code of v${last.version} of ${filePath} is not kept (${
        missingReason(walk.missing)
      }), so blame cannot say who wrote its lines. Versions recorded with store_code: true can be blamed.`,
    );
  }
  let state: DiskState = disk.kind === "text" ? "same" : disk.kind;
  let changedOnDisk = 0;
  if (disk.kind === "text" && disk.text !== blameText(walk.state)) {
    changedOnDisk = advanceTo(walk.state, disk.text, DISK_SOURCE).added;
    state = "changed";
  }
  return {
    filePath,
    last,
    disk: state,
    changedOnDisk,
    lines: walk.state.lines,
    sources: walk.state.sources,
    counts: { ...walk.state.counts },
  };
}

/** One line of `blame --json`. */
export interface BlameLineJson {
  /** The line number in the file blamed (1-based). */
  line: number;
  origin: Origin;
  version: number | null;
  pattern_id: string | null;
  tool_use_id: string | null;
  session_id: string | null;
  /** The line's text as stored (redacted, without its line ending). */
  text: string;
}

/** `blame --json`. */
export interface BlameJson {
  file: string;
  /** The last tracked version and its pattern. */
  version: number;
  pattern_id: string;
  disk: DiskState;
  lines: BlameLineJson[];
}

/**
 * The JSON form of a blame (pure).
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
 * import { blameJson, blameOf } from "./blame.ts";
 * const json = blameJson(blameOf(store, "/p/app.py", { kind: "not_compared" }));
 * assert.equal(json.lines[0]?.origin, "ai");
 * assert.equal(json.lines[0]?.version, 2);
 * store.close();
 * ```
 */
export function blameJson(r: BlameResult): BlameJson {
  return {
    file: r.filePath,
    version: r.last.version,
    pattern_id: r.last.patternId,
    disk: r.disk,
    lines: r.lines.map((text, i) => {
      const s = r.sources[i] as LineSource;
      return {
        line: i + 1,
        origin: s.origin,
        version: s.version,
        pattern_id: s.patternId,
        tool_use_id: s.toolUseId,
        session_id: s.sessionId,
        text: text.endsWith("\n") ? text.slice(0, -1) : text,
      };
    }),
  };
}

/** Control characters (but tab) would act on the terminal: shown as U+FFFD. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/**
 * The blame as text, one line per line of the file (pure):
 * `NUMBER  ORIGIN  VERSION  TOOL  TOOL_USE_ID │ TEXT`.
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
 * import { blameOf, renderBlame } from "./blame.ts";
 * const text = renderBlame(blameOf(store, "/p/app.py", { kind: "not_compared" }));
 * assert.match(text, /x = 2/);
 * store.close();
 * ```
 */
export function renderBlame(r: BlameResult): string {
  const total = r.lines.length;
  const parts = ORIGINS.filter((o) => r.counts[o] > 0).map((o) => `${r.counts[o]} ${o}`);
  const head = [
    `${r.filePath}  v${r.last.version} (${r.last.toolName}, ${r.last.createdAt})`,
    `${total} line${total === 1 ? "" : "s"}${parts.length ? `: ${parts.join(", ")}` : ""}`,
    diskNote(r),
  ].filter((s) => s !== "").join(" · ");
  const rows = r.lines.map((text, i) => {
    const s = r.sources[i] as LineSource;
    return [
      String(i + 1),
      s.origin,
      s.version === null ? (s.origin === "external" ? "disk" : "?") : `v${s.version}`,
      s.origin === "ai" ? s.toolName ?? "" : "",
      s.toolUseId ?? "",
      (text.endsWith("\n") ? text.slice(0, -1) : text).replace(CONTROL, "\ufffd"),
    ];
  });
  const width = (k: number) => Math.max(0, ...rows.map((row) => (row[k] as string).length));
  const widths = [0, 1, 2, 3, 4].map(width);
  const out = rows.map((row) =>
    `${(row[0] as string).padStart(widths[0]!)}  ${
      [1, 2, 3, 4].map((k) => (row[k] as string).padEnd(widths[k]!)).join("  ")
    } │ ${row[5]}`
  );
  return [head, ...out].join("\n");
}

function diskNote(r: BlameResult): string {
  switch (r.disk) {
    case "not_compared":
      return "the last tracked version (--stored)";
    case "same":
      return "the file on disk is the same";
    case "changed":
      return `compared with the file on disk: ${r.changedOnDisk} line${
        r.changedOnDisk === 1 ? "" : "s"
      } changed since (external, "disk")`;
    case "missing":
      return "not on disk: the last tracked version";
    case "unreadable":
      return "the file on disk could not be read: the last tracked version";
    default: {
      const unreachable: never = r.disk;
      return String(unreachable);
    }
  }
}

/**
 * `blame FILE [--json] [--stored]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { blameCommand } from "./blame.ts";
 * await assert.rejects(blameCommand({ file: "app.py", json: true, stored: false }), /no tracked file/);
 * ```
 */
export async function blameCommand(options: BlameOptions): Promise<number> {
  const { config } = await loadConfig();
  const { store } = openAndReplay(config);
  try {
    const filePath = requireTrackedFile(store, options.file, Deno.cwd());
    const disk = options.stored ? { kind: "not_compared" as const } : readDisk(filePath, config);
    const result = blameOf(store, filePath, disk);
    console.log(options.json ? JSON.stringify(blameJson(result), null, 2) : renderBlame(result));
    return 0;
  } finally {
    store.close();
  }
}
