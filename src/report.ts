/**
 * The HTML report: one self-contained page (inline CSS, inline SVG, a few lines of inline script, no
 * network) with the files of a session or of the whole store, each file's lineage drawn as a graph,
 * a table of its versions, and the execution metrics. Gathering reads the store; rendering is pure.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { blameRuns, type Hunk, type LineSource, type Origin, ORIGINS } from "./blame.ts";
import { blameFile } from "./blame_history.ts";
import type { Stats } from "./stats.ts";
import { gatherStats } from "./stats_history.ts";
import type { ExecutionRow, Store, VersionWithMetrics } from "./store/mod.ts";

/** One stretch of lines of the last version with one source (a blame run). */
export interface ReportRun {
  start: number;
  end: number;
  origin: Origin;
  version: number | null;
  toolName: string | null;
  toolUseId: string | null;
}

/** Who wrote the lines of a file's last tracked version. */
export interface ReportAttribution {
  /** The version blamed (the file's last). */
  version: number;
  counts: Record<Origin, number>;
  runs: ReportRun[];
  /** The lines (redacted, without their line endings), only when code is asked for. */
  lines?: string[];
}

/** One file in the report. */
export interface ReportFile {
  filePath: string;
  versions: VersionWithMetrics[];
  /** Code by pattern ID, when stored and asked for. */
  code: Record<string, string | null>;
  /** Who wrote each line of the last version; null when its code is not kept. */
  attribution?: ReportAttribution | null;
  /** Each version's diff against the version before, by version number (with code only). */
  diffs?: Record<number, Hunk[]>;
}

/** Everything the page shows. */
export interface ReportData {
  title: string;
  generatedAt: string;
  scope: string;
  files: ReportFile[];
  executions: ExecutionRow[];
  /** Lines written by Claude, their fate, AI share (`src/stats.ts`), of the last versions. */
  stats?: Stats;
}

/** Which part of the store to report on. */
export interface ReportFilter {
  sessionId?: string;
  filePath?: string;
  includeCode?: boolean;
  /** At most this many files (newest first). */
  maxFiles?: number;
}

/**
 * Reads what a report needs from the store.
 *
 * @example
 * ```ts
 * import { gatherReportData } from "./report.ts";
 * // const data = gatherReportData(store, { sessionId: "af2c…" });
 * ```
 */
export function gatherReportData(store: Store, filter: ReportFilter = {}): ReportData {
  const paths = filter.filePath
    ? [filter.filePath]
    : store.trackedFiles({ sessionId: filter.sessionId, limit: filter.maxFiles ?? 200 });
  const files = paths.map((filePath) => {
    const versions = store.fileHistory(filePath);
    const code: Record<string, string | null> = {};
    if (filter.includeCode) {
      for (const v of versions) code[v.patternId] = store.pattern(v.patternId)?.code ?? null;
    }
    return { filePath, versions, code, ...attributionOf(store, filePath, filter.includeCode) };
  });
  const executions = store.executions({ sessionId: filter.sessionId }).filter((e) =>
    !filter.filePath || e.filePath === filter.filePath
  );
  const scope = filter.filePath
    ? `file ${filter.filePath}`
    : filter.sessionId
    ? `session ${filter.sessionId}`
    : "all sessions";
  return {
    title: "Pattern Tracker report",
    generatedAt: new Date().toISOString(),
    scope,
    files,
    executions,
    stats: gatherStats(store, paths, {
      ...(filter.sessionId ? { sessionId: filter.sessionId } : {}),
      ...(filter.filePath ? { filePath: filter.filePath } : {}),
    }, null),
  };
}

/** A file's blame at its last version, and each version's diff when code is shown. */
function attributionOf(
  store: Store,
  filePath: string,
  withCode = false,
): Pick<ReportFile, "attribution" | "diffs"> {
  const diffs: Record<number, Hunk[]> = {};
  const { walk, last } = blameFile(store, filePath, {
    hunks: withCode,
    onStep: (step) => {
      if (withCode && step.change?.hunks) diffs[step.version.version] = step.change.hunks;
    },
  });
  if (!last || !walk.known) return { attribution: null, ...(withCode ? { diffs } : {}) };
  return {
    attribution: {
      version: last.version,
      counts: { ...walk.state.counts },
      runs: blameRuns(walk.state.sources).map(({ start, end, source }) =>
        runOf(start, end, source)
      ),
      ...(withCode ? { lines: walk.state.lines.map((l) => l.replace(/\n$/, "")) } : {}),
    },
    ...(withCode ? { diffs } : {}),
  };
}

function runOf(start: number, end: number, s: LineSource): ReportRun {
  return {
    start,
    end,
    origin: s.origin,
    version: s.version,
    toolName: s.toolName,
    toolUseId: s.toolUseId,
  };
}

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * import { escapeHtml } from "./report.ts";
 * escapeHtml("<b>&"); // "&lt;b&gt;&amp;"
 * ```
 */
export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(
    /"/g,
    "&quot;",
  ).replace(/'/g, "&#39;");
}

const COLORS: Record<string, string> = {
  created: "#4c8bf5",
  refactor: "#8e6cd9",
  enhancement: "#2fa36b",
  bugfix: "#e0533d",
  optimization: "#e8a317",
  simplification: "#1fa5b8",
  merge: "#7a7a7a",
};

/**
 * The lineage of one file as an inline SVG: a vertical chain of versions.
 *
 * @example
 * ```ts
 * import { lineageSvg } from "./report.ts";
 * lineageSvg({ filePath: "/p/a.py", versions: [], code: {} }).startsWith("<svg"); // true
 * ```
 */
export function lineageSvg(file: ReportFile): string {
  const boxW = 420, boxH = 46, gap = 30, pad = 10;
  const height = pad * 2 + file.versions.length * boxH +
    Math.max(0, file.versions.length - 1) * gap;
  const parts = [
    `<svg class="lineage" role="img" aria-label="${
      escapeHtml(`lineage of ${file.filePath}`)
    }" width="${boxW + pad * 2 + 130}" height="${height}" viewBox="0 0 ${
      boxW + pad * 2 + 130
    } ${height}">`,
  ];
  file.versions.forEach((v, i) => {
    const y = pad + i * (boxH + gap);
    const kind = v.parentPatternId === null ? "created" : v.transformationType ?? "refactor";
    const color = COLORS[kind] ?? "#888";
    if (i > 0) {
      const y0 = y - gap;
      parts.push(
        `<line x1="${pad + 30}" y1="${y0}" x2="${pad + 30}" y2="${
          y - 2
        }" stroke="#999" stroke-width="2" marker-end="url(#arrow)"/>`,
      );
      parts.push(
        `<text x="${pad + 40}" y="${y0 + gap / 2 + 4}" class="edge">${escapeHtml(kind)}</text>`,
      );
    }
    const delta = v.linesAdded === null ? "" : `  +${v.linesAdded} −${v.linesRemoved ?? 0}`;
    const tip = [
      `v${v.version} ${v.patternId}`,
      `${v.eventType}${v.parentPatternId ? ` from ${v.parentPatternId}` : ""}`,
      `${v.toolName}${delta}${v.durationMs === null ? "" : `, ${v.durationMs} ms`}`,
      v.createdAt,
      v.reason ?? "",
    ].join("\n");
    parts.push(
      `<g class="node" data-pattern="${escapeHtml(v.patternId)}"><title>${escapeHtml(tip)}</title>`,
    );
    parts.push(
      `<rect x="${pad}" y="${y}" width="${boxW}" height="${boxH}" rx="8" fill="${color}" fill-opacity="0.13" stroke="${color}" stroke-width="1.5"/>`,
    );
    parts.push(`<circle cx="${pad + 30}" cy="${y + boxH / 2}" r="6" fill="${color}"/>`);
    parts.push(
      `<text x="${pad + 48}" y="${y + 19}" class="title">v${v.version}  ${
        escapeHtml(v.patternId)
      }</text>`,
    );
    parts.push(
      `<text x="${pad + 48}" y="${y + 36}" class="sub">${
        escapeHtml(`${v.toolName}${delta} · ${v.createdAt.replace("T", " ").slice(0, 19)}`)
      }</text>`,
    );
    parts.push(
      `<text x="${pad + boxW + 10}" y="${y + 28}" class="kind" fill="${color}">${
        escapeHtml(kind)
      }</text></g>`,
    );
  });
  parts.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="5" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#999"/></marker></defs></svg>`,
  );
  return parts.join("");
}

// The page's only script. The Content-Security-Policy allows it by hash, not every inline script:
// should some store value ever reach the page unescaped, a <script> in it would not run.
const PAGE_SCRIPT = `
(function () {
  var input = document.getElementById("filter");
  var sections = document.querySelectorAll("section.file[data-path]");
  input.addEventListener("input", function () {
    var q = input.value.toLowerCase();
    sections.forEach(function (s) { s.classList.toggle("hidden", s.getAttribute("data-path").toLowerCase().indexOf(q) < 0); });
  });
  document.documentElement.setAttribute("data-report-ready", String(sections.length));
})();
`;
const PAGE_SCRIPT_HASH = `sha256-${createHash("sha256").update(PAGE_SCRIPT).digest("base64")}`;

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const lo = s[Math.floor((s.length - 1) / 2)] ?? 0;
  const hi = s[Math.floor(s.length / 2)] ?? 0;
  return (lo + hi) / 2;
}

/** Colours of the line origins (the blame view, the attribution bar). */
const ORIGIN_COLORS: Record<Origin, string> = {
  ai: "#4c8bf5",
  external: "#e8a317",
  baseline: "#9aa3b2",
  unknown: "#c678dd",
};

function runLabel(r: ReportRun): string {
  const lines = r.start === r.end ? `line ${r.start}` : `lines ${r.start}–${r.end}`;
  const who = r.origin === "ai"
    ? `ai: v${r.version} ${r.toolName ?? ""} ${r.toolUseId ?? ""}`
    : r.version === null
    ? r.origin
    : `${r.origin}: v${r.version}`;
  return `${lines}: ${who}`.trim();
}

/**
 * Who wrote a file's lines: a bar of the runs (width by lines, colour by origin), the counts, and,
 * with code, every line with its origin (pure; everything escaped).
 *
 * @example
 * ```ts
 * import { attributionHtml } from "./report.ts";
 * attributionHtml({ filePath: "/p/a.py", versions: [], code: {}, attribution: null }); // a note that the code is not kept
 * ```
 */
export function attributionHtml(f: ReportFile): string {
  const a = f.attribution;
  if (a === undefined) return "";
  if (a === null) {
    return `<p class="meta">Who wrote which line: not known (the last version's code is not kept).</p>`;
  }
  const total = ORIGINS.reduce((n, o) => n + a.counts[o], 0);
  const counts = ORIGINS.filter((o) => a.counts[o] > 0).map((o) =>
    `<span class="chip o-${o}">${a.counts[o]} ${o}</span>`
  ).join(" ");
  const bar = a.runs.map((r) =>
    `<span class="seg o-${r.origin}" style="flex-grow:${r.end - r.start + 1}" title="${
      escapeHtml(runLabel(r))
    }"></span>`
  ).join("");
  const head = `<p class="meta">Lines of v${a.version} by origin: ${total} line${
    total === 1 ? "" : "s"
  } ${counts}</p><div class="bar" role="img" aria-label="${
    escapeHtml(`who wrote the lines of ${f.filePath}`)
  }">${bar}</div>`;
  if (!a.lines) return head;
  const rows: string[] = [];
  for (const r of a.runs) {
    for (let n = r.start; n <= r.end; n++) {
      const who = n === r.start
        ? escapeHtml(
          r.origin === "ai"
            ? `v${r.version} ${r.toolName ?? ""} ${r.toolUseId ?? ""}`
            : r.version === null
            ? r.origin === "external" ? "disk" : "?"
            : `v${r.version} ${r.origin}`,
        )
        : "";
      rows.push(
        `<tr class="o-${r.origin}"><td class="num">${n}</td><td class="who">${who}</td><td><code>${
          escapeHtml(a.lines[n - 1] ?? "")
        }</code></td></tr>`,
      );
    }
  }
  // Open when it is short enough to read in place.
  return `${head}<details${
    a.lines.length <= 400 ? " open" : ""
  }><summary>blame of v${a.version}</summary><table class="blame"><tbody>${
    rows.join("")
  }</tbody></table></details>`;
}

/**
 * A version's diff against the version before (pure; escaped).
 *
 * @example
 * ```ts
 * import { diffHtml } from "./report.ts";
 * diffHtml([{ oldStart: 0, newStart: 0, lines: [{ kind: "add", text: "x" }] }]); // '<pre class="diff">…'
 * ```
 */
export function diffHtml(hunks: readonly Hunk[]): string {
  const out: string[] = [];
  for (const h of hunks) {
    out.push(`<span class="at">@@ line ${h.newStart + 1} @@</span>`);
    for (const l of h.lines) {
      const mark = l.kind === "add" ? "+" : l.kind === "del" ? "-" : " ";
      out.push(`<span class="${l.kind}">${mark} ${escapeHtml(l.text)}</span>`);
    }
  }
  return `<pre class="diff">${out.join("")}</pre>`;
}

function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)}%`;
}

/**
 * Renders the report page (pure). Every value from the store is escaped.
 *
 * @example
 * ```ts
 * import { renderHtmlReport } from "./report.ts";
 * const html = renderHtmlReport({ title: "t", generatedAt: "now", scope: "all", files: [], executions: [] });
 * html.startsWith("<!doctype html>"); // true
 * ```
 */
export function renderHtmlReport(data: ReportData): string {
  const ex = data.executions;
  const failed = ex.filter((e) => e.success === false);
  const durations = ex.map((e) => e.durationMs).filter((d): d is number => d !== null);
  const versions = data.files.reduce((n, f) => n + f.versions.length, 0);
  const added = ex.reduce((n, e) => n + (e.linesAdded ?? 0), 0);
  const removed = ex.reduce((n, e) => n + (e.linesRemoved ?? 0), 0);
  const fileSections = data.files.map((f, i) => {
    const rows = f.versions.map((v) => {
      const code = f.code[v.patternId];
      return `<tr><td>v${v.version}</td><td><code>${escapeHtml(v.patternId)}</code></td><td>${
        escapeHtml(v.eventType.replace("pattern_", ""))
      }</td>` +
        `<td>${escapeHtml(v.transformationType ?? "")}</td><td>${escapeHtml(v.toolName)}</td>` +
        `<td class="num">${
          v.linesAdded === null ? "" : `+${v.linesAdded} −${v.linesRemoved ?? 0}`
        }</td>` +
        `<td class="num">${v.durationMs ?? ""}</td><td>${
          v.success === null ? "" : v.success ? "✓" : "✗"
        }</td>` +
        `<td>${escapeHtml(v.createdAt.replace("T", " ").slice(0, 19))}</td></tr>` +
        (code
          ? `<tr class="code"><td colspan="9"><details><summary>code of v${v.version}</summary><pre>${
            escapeHtml(code)
          }</pre></details></td></tr>`
          : "") +
        (f.diffs?.[v.version]
          ? `<tr class="code"><td colspan="9"><details><summary>diff of v${v.version}</summary>${
            diffHtml(f.diffs[v.version]!)
          }</details></td></tr>`
          : "");
    }).join("");
    return `<section class="file" id="file-${i}" data-path="${escapeHtml(f.filePath)}"><h2>${
      escapeHtml(f.filePath)
    }</h2>` +
      `<p class="meta">${f.versions.length} version(s)</p>${attributionHtml(f)}<div class="graph">${
        lineageSvg(f)
      }</div>` +
      `<table><thead><tr><th>version</th><th>pattern</th><th>event</th><th>transformation</th><th>tool</th><th>lines</th><th>ms</th><th>ok</th><th>time (UTC)</th></tr></thead><tbody>${rows}</tbody></table></section>`;
  }).join("\n");
  const failures = failed.map((e) =>
    `<tr><td>${escapeHtml(e.toolName)}</td><td>${escapeHtml(e.filePath ?? "")}</td><td>${
      escapeHtml(e.error ?? "")
    }</td><td>${escapeHtml(e.finishedAt ?? "")}</td></tr>`
  ).join("");
  const legend = Object.entries(COLORS).map(([k, c]) =>
    `<span class="chip" style="border-color:${c};color:${c}">${k}</span>`
  ).join(" ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src '${PAGE_SCRIPT_HASH}'; img-src data:">
<title>${escapeHtml(data.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:20px}header p{margin:0;color:#b9c0cc}
main{padding:20px 28px;max-width:1100px}.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
.card{background:#fff;border:1px solid #e2e5ea;border-radius:10px;padding:10px 16px;min-width:120px}.card b{display:block;font-size:22px}
.file{background:#fff;border:1px solid #e2e5ea;border-radius:10px;padding:14px 18px;margin:16px 0}.file h2{font-size:15px;margin:0;word-break:break-all}
.meta{color:#6b7385;margin:2px 0 8px}table{border-collapse:collapse;width:100%;margin-top:8px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eef0f3;font-size:13px}
th{color:#6b7385;font-weight:600}.num{text-align:right;font-variant-numeric:tabular-nums}pre{background:#f3f4f7;padding:8px;overflow:auto;max-height:320px}
svg text.title{font:600 13px ui-monospace,Menlo,monospace;fill:#1d2330}svg text.sub{font:12px system-ui,sans-serif;fill:#4b5263}svg text.edge{font:11px system-ui,sans-serif;fill:#6b7385}
svg text.kind{font:600 12px system-ui,sans-serif}.chip{border:1px solid;border-radius:10px;padding:0 8px;font-size:12px;margin-right:4px}
#filter{padding:6px 10px;border:1px solid #cfd4dc;border-radius:6px;width:320px}.hidden{display:none}
.bar{display:flex;height:12px;border-radius:6px;overflow:hidden;margin:4px 0 10px;max-width:640px}.seg{min-width:1px}
${
    ORIGINS.map((o) =>
      `.seg.o-${o}{background:${ORIGIN_COLORS[o]}}.chip.o-${o}{border-color:${
        ORIGIN_COLORS[o]
      };color:${ORIGIN_COLORS[o]}}tr.o-${o} td:first-child{border-left:4px solid ${
        ORIGIN_COLORS[o]
      }}`
    ).join("")
  }
table.blame{width:auto;margin-top:4px}table.blame td{padding:0 8px;border:0;font:12px ui-monospace,Menlo,monospace;white-space:pre}table.blame td.who{color:#6b7385}
pre.diff span{display:block}pre.diff .add{background:#e6f6ea}pre.diff .del{background:#fbe9e7}pre.diff .at{color:#6b7385}
</style></head>
<body><header><h1>${escapeHtml(data.title)}</h1><p>${escapeHtml(data.scope)} · generated ${
    escapeHtml(data.generatedAt)
  }</p></header>
<main>
<div class="cards">
<div class="card"><b id="n-files">${data.files.length}</b>files</div>
<div class="card"><b>${versions}</b>versions</div>
<div class="card"><b>${ex.length}</b>tool calls</div>
<div class="card"><b>${failed.length}</b>failed</div>
<div class="card"><b>${median(durations) ?? "–"}</b>median ms</div>
<div class="card"><b>+${added} −${removed}</b>lines</div>
${
    data.stats
      ? `<div class="card"><b>${data.stats.totals.lines_written}</b>lines by Claude</div>
<div class="card"><b>${percent(data.stats.totals.ai_share)}</b>AI share</div>
<div class="card"><b>${data.stats.totals.lines_reworked}</b>reworked by people (${
        percent(data.stats.totals.rework_rate)
      })</div>`
      : ""
  }
</div>
<p>${legend}</p>
<p>${
    ORIGINS.map((o) => `<span class="chip o-${o}">${o}</span>`).join(" ")
  } lines: written by Claude, outside Claude Code, before tracking, not known</p>
<p><input id="filter" type="search" placeholder="Filter files by path…" aria-label="Filter files"></p>
${fileSections || "<p>No files recorded.</p>"}
${
    failures
      ? `<section class="file"><h2>Failed tool calls</h2><table><thead><tr><th>tool</th><th>file</th><th>error</th><th>time</th></tr></thead><tbody>${failures}</tbody></table></section>`
      : ""
  }
</main>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}
