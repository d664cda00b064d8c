/**
 * Pure: what happened to the lines Claude wrote, and how its tool calls went — fed by blame walks
 * (`src/views/blame_history.ts`: each version's change, each file's current lines) and by the executions.
 *
 * Every line an `ai` version adds is one line written by Claude. Its fate, exactly one of:
 * - **surviving**: it is still in the current file (the file on disk, or the last tracked version);
 * - **superseded by Claude**: a later Claude version replaced or deleted it (Claude's own
 *   iteration, not a person's judgement: left out of the rates);
 * - **reworked**: an `external` version (a person, a formatter, a script) or the disk file since
 *   the last tracked version replaced or deleted it;
 * - **fate unknown**: it went across versions whose code is not kept, or the file was deleted and
 *   written anew.
 *
 * Lines Claude delivered = written − superseded by Claude; survival rate = surviving / delivered,
 * rework rate = reworked / delivered. AI share = the current files' lines of `ai` origin / all
 * their lines. Tool calls (executions): `calls`, of which `edits` succeeded and `failures` failed
 * (the rest never reported an outcome).
 *
 * @module
 */

import type { BlameChange, LineSource, Origin } from "./blame.ts";
import type { ExecutionRow } from "../store/mod.ts";

/** What the lines of one group (a file, session, tool, day, or all) became. */
export interface LineFates {
  /** Lines Claude's versions added. */
  lines_written: number;
  lines_surviving: number;
  lines_superseded_by_claude: number;
  lines_reworked: number;
  lines_fate_unknown: number;
  /** surviving / (written − superseded); null when nothing was delivered. */
  survival_rate: number | null;
  /** reworked / (written − superseded); null when nothing was delivered. */
  rework_rate: number | null;
}

/** Tool calls of one group. */
export interface CallCounts {
  calls: number;
  edits: number;
  failures: number;
}

/** The current lines of one or more files, by origin. */
export interface CurrentLines {
  current_lines: number;
  current_ai_lines: number;
  current_external_lines: number;
  current_baseline_lines: number;
  current_unknown_lines: number;
  /** current_ai_lines / current_lines; null for empty files. */
  ai_share: number | null;
}

/** `stats --json`. */
export interface Stats {
  scope: { session: string | null; file: string | null };
  /** Whether the files on disk were compared (lines changed since the last version are external). */
  compared_with_disk: boolean;
  totals:
    & {
      files: number;
      /** Files not on disk: their last tracked version stands for them. */
      files_missing_on_disk: number;
      /** Files whose last version's code is not kept: their current lines are not counted. */
      files_without_code: number;
    }
    & LineFates
    & CallCounts
    & CurrentLines;
  by_tool: ({ tool: string } & LineFates & CallCounts)[];
  by_file: ({ file: string; versions: number } & LineFates & CallCounts & CurrentLines)[];
  by_session: ({ session: string } & LineFates & CallCounts)[];
  by_day: ({ day: string } & LineFates & CallCounts)[];
}

interface Fates {
  written: number;
  surviving: number;
  superseded: number;
  reworked: number;
  unknown: number;
}

const noFates = (): Fates => ({ written: 0, surviving: 0, superseded: 0, reworked: 0, unknown: 0 });

/**
 * Gathers the measures. Feed every file's steps in order ({@linkcode StatsBuilder.addStep}), then its
 * current lines ({@linkcode StatsBuilder.addCurrent}), and the executions; then
 * {@linkcode StatsBuilder.build}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StatsBuilder } from "./stats.ts";
 * const stats = new StatsBuilder({}, { comparedWithDisk: false }).build();
 * assert.deepEqual(stats.totals.lines_written, 0);
 * ```
 */
export class StatsBuilder {
  /** Per source of ai lines (one per Claude version): what its lines became, and its file. */
  readonly #fates = new Map<LineSource, { file: string; fates: Fates }>();
  readonly #files = new Map<string, { versions: number; current: Record<Origin, number> }>();
  readonly #executions: ExecutionRow[] = [];
  #missingOnDisk = 0;
  #withoutCode = 0;

  constructor(
    readonly scope: { sessionId?: string; filePath?: string },
    readonly options: { comparedWithDisk: boolean },
  ) {}

  #fatesOf(source: LineSource, file: string): Fates | null {
    if (source.origin !== "ai") return null;
    if (this.scope.sessionId !== undefined && source.sessionId !== this.scope.sessionId) {
      return null;
    }
    let entry = this.#fates.get(source);
    if (!entry) this.#fates.set(source, entry = { file, fates: noFates() });
    return entry.fates;
  }

  #file(file: string) {
    let entry = this.#files.get(file);
    if (!entry) {
      this.#files.set(
        file,
        entry = { versions: 0, current: { ai: 0, external: 0, baseline: 0, unknown: 0 } },
      );
    }
    return entry;
  }

  /**
   * One change to a file: a version (`version` true) or the disk file since the last version. A
   * version whose code is not kept has no change (null). `created`: the version wrote the file
   * anew, so the lines it removed were gone already, by whoever deleted the file.
   */
  addStep(
    file: string,
    source: LineSource,
    change: BlameChange | null,
    options: { version: boolean; created?: boolean },
  ): void {
    const entry = this.#file(file);
    if (options.version) entry.versions++;
    if (change === null) return;
    const writer = this.#fatesOf(source, file);
    if (writer) writer.written += change.added;
    for (const gone of change.removedSources) {
      const fates = this.#fatesOf(gone, file);
      if (!fates) continue;
      if (options.created || source.origin === "unknown" || source.origin === "baseline") {
        fates.unknown++;
      } else if (source.origin === "ai") fates.superseded++;
      else fates.reworked++;
    }
  }

  /** A file's current lines (after the disk step when the disk was compared). */
  addCurrent(file: string, sources: readonly LineSource[], missingOnDisk = false): void {
    const entry = this.#file(file);
    if (missingOnDisk) this.#missingOnDisk++;
    for (const source of sources) {
      entry.current[source.origin]++;
      const fates = this.#fatesOf(source, file);
      if (fates) fates.surviving++;
    }
  }

  /** A file whose last version's code is not kept: its current lines cannot be counted. */
  addUncounted(file: string): void {
    this.#file(file);
    this.#withoutCode++;
  }

  /** Tool calls (already limited to the scope by the caller). */
  addExecutions(executions: readonly ExecutionRow[]): void {
    this.#executions.push(...executions);
  }

  /**
   * The measures, groups in a stable order (most lines written first, then by key).
   *
   * One function of about 80 lines on purpose: it is one pass that fills the four groupings
   * (file, session, tool, day) and the totals side by side; split, each part would walk the
   * same fates again or pass the five maps around.
   */
  build(): Stats {
    const fileGroups = new Map<string, Fates>();
    const sessionGroups = new Map<string, Fates>();
    const toolGroups = new Map<string, Fates>();
    const dayGroups = new Map<string, Fates>();
    const total = noFates();
    const add = (groups: Map<string, Fates>, key: string, f: Fates) => {
      let g = groups.get(key);
      if (!g) groups.set(key, g = noFates());
      addFates(g, f);
    };
    for (const [source, { file, fates }] of this.#fates) {
      addFates(total, fates);
      add(fileGroups, file, fates);
      add(sessionGroups, source.sessionId ?? "(none)", fates);
      add(toolGroups, source.toolName ?? "(none)", fates);
      add(dayGroups, (source.createdAt ?? "").slice(0, 10) || "(none)", fates);
    }
    const calls = (rows: readonly ExecutionRow[]): CallCounts => ({
      calls: rows.length,
      edits: rows.filter((e) => e.success === true).length,
      failures: rows.filter((e) => e.success === false).length,
    });
    const callsBy = (key: (e: ExecutionRow) => string) => {
      const groups = new Map<string, ExecutionRow[]>();
      for (const e of this.#executions) {
        const k = key(e);
        groups.set(k, [...groups.get(k) ?? [], e]);
      }
      return groups;
    };
    const toolCalls = callsBy((e) => e.toolName);
    const fileCalls = callsBy((e) => e.filePath ?? "(none)");
    const sessionCalls = callsBy((e) => e.sessionId ?? "(none)");
    const dayCalls = callsBy((e) => (e.startedAt ?? e.finishedAt ?? "").slice(0, 10) || "(none)");
    const keys = (
      ...maps: Map<string, unknown>[]
    ) => [...new Set(maps.flatMap((m) => [...m.keys()]))];
    const rows = <K extends string>(
      name: K,
      fates: Map<string, Fates>,
      called: Map<string, ExecutionRow[]>,
      only: (key: string) => boolean = () => true,
    ) =>
      keys(fates, called).filter(only).map((key) =>
        ({
          [name]: key,
          ...fateFields(fates.get(key) ?? noFates()),
          ...calls(called.get(key) ?? []),
        }) as { [k in K]: string } & LineFates & CallCounts
      ).sort((a, b) =>
        b.lines_written - a.lines_written || b.calls - a.calls ||
        (a[name] < b[name] ? -1 : a[name] > b[name] ? 1 : 0)
      );
    const allCurrent = { ai: 0, external: 0, baseline: 0, unknown: 0 };
    const byFile = [...this.#files.entries()].map(([file, entry]) => {
      for (const o of Object.keys(allCurrent) as Origin[]) allCurrent[o] += entry.current[o];
      return {
        file,
        versions: entry.versions,
        ...fateFields(fileGroups.get(file) ?? noFates()),
        ...calls(fileCalls.get(file) ?? []),
        ...currentFields(entry.current),
      };
    }).sort((a, b) => b.lines_written - a.lines_written || (a.file < b.file ? -1 : 1));
    return {
      scope: { session: this.scope.sessionId ?? null, file: this.scope.filePath ?? null },
      compared_with_disk: this.options.comparedWithDisk,
      totals: {
        files: this.#files.size,
        files_missing_on_disk: this.#missingOnDisk,
        files_without_code: this.#withoutCode,
        ...fateFields(total),
        ...calls(this.#executions),
        ...currentFields(allCurrent),
      },
      by_tool: rows("tool", toolGroups, toolCalls),
      by_file: byFile,
      by_session: rows("session", sessionGroups, sessionCalls),
      by_day: rows("day", dayGroups, dayCalls),
    };
  }
}

function addFates(into: Fates, f: Fates): void {
  into.written += f.written;
  into.surviving += f.surviving;
  into.superseded += f.superseded;
  into.reworked += f.reworked;
  into.unknown += f.unknown;
}

function fateFields(f: Fates): LineFates {
  const delivered = f.written - f.superseded;
  return {
    lines_written: f.written,
    lines_surviving: f.surviving,
    lines_superseded_by_claude: f.superseded,
    lines_reworked: f.reworked,
    lines_fate_unknown: f.unknown,
    survival_rate: delivered > 0 ? f.surviving / delivered : null,
    rework_rate: delivered > 0 ? f.reworked / delivered : null,
  };
}

function currentFields(c: Record<Origin, number>): CurrentLines {
  const total = c.ai + c.external + c.baseline + c.unknown;
  return {
    current_lines: total,
    current_ai_lines: c.ai,
    current_external_lines: c.external,
    current_baseline_lines: c.baseline,
    current_unknown_lines: c.unknown,
    ai_share: total > 0 ? c.ai / total : null,
  };
}

/** A rate as a percentage with one decimal, or "–". */
function percent(rate: number | null): string {
  return rate === null ? "–" : `${(rate * 100).toFixed(1)}%`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

/**
 * The measures as text (pure).
 *
 * @example
 * ```ts
 * import { renderStats, StatsBuilder } from "./stats.ts";
 * import assert from "node:assert/strict";
 * const text = renderStats(new StatsBuilder({}, { comparedWithDisk: true }).build());
 * assert.equal(text.split("\n")[0], "All tracked files (0), compared with the files on disk");
 * ```
 */
export function renderStats(s: Stats): string {
  const t = s.totals;
  const scope = s.scope.file
    ? `File ${s.scope.file}`
    : s.scope.session
    ? `Session ${s.scope.session} (${t.files} file${t.files === 1 ? "" : "s"})`
    : `All tracked files (${t.files})`;
  const out = [
    `${scope}, ${
      s.compared_with_disk
        ? `compared with the files on disk${
          t.files_missing_on_disk ? ` (${t.files_missing_on_disk} not on disk: last version)` : ""
        }`
        : "the last tracked versions (--stored)"
    }`,
    "",
    `Lines written by Claude   ${t.lines_written}`,
    `  surviving              ${t.lines_surviving}  (survival ${percent(t.survival_rate)})`,
    `  reworked by people     ${t.lines_reworked}  (rework rate ${percent(t.rework_rate)})`,
    `  superseded by Claude   ${t.lines_superseded_by_claude}`,
    ...(t.lines_fate_unknown ? [`  fate unknown           ${t.lines_fate_unknown}`] : []),
    ...(t.files_without_code
      ? [`(${t.files_without_code} file(s) keep no code for their last version: not counted)`]
      : []),
    `Current lines            ${t.current_lines}: ${t.current_ai_lines} ai (AI share ${
      percent(t.ai_share)
    }), ${t.current_external_lines} external, ${t.current_baseline_lines} baseline${
      t.current_unknown_lines ? `, ${t.current_unknown_lines} unknown` : ""
    }`,
    `Tool calls               ${t.calls}: ${t.edits} succeeded, ${t.failures} failed`,
  ];
  const fateCells = (r: LineFates & CallCounts) => [
    String(r.calls),
    String(r.edits),
    String(r.failures),
    String(r.lines_written),
    String(r.lines_surviving),
    String(r.lines_reworked),
    percent(r.rework_rate),
  ];
  const fateHeader = ["calls", "edits", "failed", "written", "surviving", "reworked", "rework"];
  const section = (title: string, header: string[], rows: string[][]) => {
    if (rows.length === 0) return;
    out.push("", title, ...table(header, rows).map((l) => `  ${l}`));
  };
  section(
    "By tool",
    ["tool", ...fateHeader],
    s.by_tool.map((r) => [r.tool, ...fateCells(r)]),
  );
  section(
    "By file",
    ["file", "versions", ...fateHeader, "lines", "AI share"],
    s.by_file.map((r) => [
      r.file,
      String(r.versions),
      ...fateCells(r),
      String(r.current_lines),
      percent(r.ai_share),
    ]),
  );
  section(
    "By session",
    ["session", ...fateHeader],
    s.by_session.map((r) => [r.session, ...fateCells(r)]),
  );
  section("By day (UTC)", ["day", ...fateHeader], s.by_day.map((r) => [r.day, ...fateCells(r)]));
  return out.join("\n");
}
