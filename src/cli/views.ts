/**
 * `report`, `export` and `import`: the views and interchange formats over the store.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { agentTraceRecords, exportRecords, importRecords } from "../export.ts";
import { gatherReportData, renderHtmlReport } from "../report.ts";
import { openStore } from "../store/mod.ts";
import { openAndReplay } from "../record/spill.ts";
import { resolveLineageTarget } from "./lineage.ts";

/**
 * `report [--session ID | --file PATH] [--code] [--out FILE]`: writes the self-contained HTML page.
 *
 * @example
 * ```ts
 * import { reportCommand } from "./views.ts";
 * await reportCommand(["--out", "report.html"]);
 * ```
 */
export async function reportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      session: { type: "string" },
      file: { type: "string" },
      code: { type: "boolean" },
      out: { type: "string" },
    },
  });
  if (values.session !== undefined && values.file !== undefined) {
    console.error("error: report takes --session ID or --file PATH, not both");
    return 2;
  }
  const { config } = await loadConfig();
  const store = openStore(config.dataDir);
  try {
    let filePath: string | undefined;
    if (values.file !== undefined) {
      // The same lookup as `lineage`: exact, relative to the working directory, or a path suffix.
      const target = resolveLineageTarget(store, values.file, Deno.cwd());
      if (target.kind !== "file") {
        console.error(
          target.kind === "ambiguous"
            ? `error: "${values.file}" matches ${target.candidates.length} entries; be more specific:\n  ${
              target.candidates.join("\n  ")
            }`
            : `error: no tracked file matches "${values.file}" in ${store.path}`,
        );
        return 1;
      }
      filePath = target.filePath;
    }
    const data = gatherReportData(store, {
      sessionId: values.session,
      filePath,
      includeCode: values.code,
    });
    const out = values.out ?? "pattern-tracker-report.html";
    Deno.writeTextFileSync(out, renderHtmlReport(data), { mode: 0o600 });
    console.log(
      `Wrote ${out}: ${data.files.length} file(s), ${data.executions.length} tool call(s) (${data.scope}).`,
    );
    return 0;
  } finally {
    store.close();
  }
}

/**
 * `export [--format jsonl|agent-trace] [--out FILE]`: JSON lines to a file or stdout.
 *
 * @example
 * ```ts
 * import { exportCommand } from "./views.ts";
 * await exportCommand(["--format", "agent-trace", "--out", "trace.jsonl"]);
 * ```
 */
export async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { format: { type: "string" }, out: { type: "string" } },
  });
  const format = values.format ?? "jsonl";
  if (format !== "jsonl" && format !== "agent-trace") {
    console.error(`error: --format must be jsonl or agent-trace, got "${format}"`);
    return 2;
  }
  const { config } = await loadConfig();
  const store = openStore(config.dataDir);
  const encoder = new TextEncoder();
  const sink = values.out
    ? Deno.openSync(values.out, { write: true, create: true, truncate: true, mode: 0o600 })
    : Deno.stdout;
  let n = 0;
  try {
    const write = (record: unknown) => {
      const bytes = encoder.encode(JSON.stringify(record) + "\n");
      for (let off = 0; off < bytes.length;) off += sink.writeSync(bytes.subarray(off));
      n++;
    };
    if (format === "jsonl") { for (const r of exportRecords(store)) write(r); }
    else for (const r of agentTraceRecords(store)) write(r);
  } catch (error) {
    // A reader that stops early (`| head`) is not an error of ours.
    if (!(error instanceof Deno.errors.BrokenPipe)) throw error;
  } finally {
    store.close();
    if (values.out) (sink as Deno.FsFile).close();
  }
  if (values.out) console.error(`Wrote ${n} record(s) to ${values.out} (${format}).`);
  return 0;
}

/**
 * `import FILE [--queue]`: reads an export back without duplicates.
 *
 * @example
 * ```ts
 * import { importCommand } from "./views.ts";
 * await importCommand(["all.jsonl"]);
 * ```
 */
export async function importCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { queue: { type: "boolean" } },
    allowPositionals: true,
  });
  const file = positionals[0];
  if (!file) {
    console.error("error: import takes the export file, e.g. tracker.ts import patterns.jsonl");
    return 2;
  }
  const { config } = await loadConfig();
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (error) {
    console.error(`error: cannot read ${file}: ${(error as Error).message}`);
    return 1;
  }
  const { store } = openAndReplay(config);
  try {
    const report = await importRecords(store, text.split("\n"), config, { queue: values.queue });
    console.log(
      `Imported ${report.patterns} pattern(s), ${report.versions} version(s), ${report.edges} edge(s), ${report.executions} execution(s); ` +
        `${report.skipped} already present${
          report.excluded ? `; ${report.excluded} left out by the path rules` : ""
        }${values.queue ? `; ${report.queued} queued for delivery` : ""}.`,
    );
    return 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    return 1;
  } finally {
    store.close();
  }
}
