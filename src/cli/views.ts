/**
 * `report`, `export` and `import`: the views and interchange formats over the store.
 *
 * @module
 */

import type { ReportRequest } from "./commands/report.ts";
import type { ExportRequest } from "./commands/export.ts";
import type { ImportRequest } from "./commands/import.ts";
import { loadConfig } from "../config/mod.ts";
import { exportRecords, importRecords } from "../views/export.ts";
import { agentTraceRecords } from "../views/agent_trace.ts";
import { renderHtmlReport } from "../views/report.ts";
import { gatherReportData } from "../views/report_data.ts";
import { openStore } from "../store/mod.ts";
import { classifyBeforeShowing } from "../record/version_transformations.ts";
import { openAndReplay } from "../record/spill.ts";
import { requireTrackedFile } from "./lineage.ts";
import { CliError } from "./errors.ts";

/**
 * `report [--session ID | --file PATH] [--code] [--out FILE]`: writes the self-contained HTML page.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { reportCommand } from "./views.ts";
 * const out = `${Deno.makeTempDirSync()}/report.html`;
 * assert.equal(await reportCommand({ session: undefined, file: undefined, code: false, out }), 0);
 * assert.match(Deno.readTextFileSync(out), /^<!DOCTYPE html>/i);
 * ```
 */
export async function reportCommand(values: ReportRequest): Promise<number> {
  const { config } = await loadConfig();
  const store = openStore(config.dataDir);
  try {
    // The same lookup as `lineage`: exact, relative to the working directory, or a path suffix.
    const filePath = values.file === undefined
      ? undefined
      : requireTrackedFile(store, values.file, Deno.cwd());
    classifyBeforeShowing(store, filePath === undefined ? {} : { filePath });
    const data = gatherReportData(store, {
      sessionId: values.session,
      filePath,
      includeCode: values.code,
    });
    const out = values.out;
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
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { exportCommand } from "./views.ts";
 * const out = `${Deno.makeTempDirSync()}/trace.jsonl`;
 * assert.equal(await exportCommand({ format: "agent-trace", out }), 0);
 * assert.equal(Deno.readTextFileSync(out), ""); // an empty store: no records
 * ```
 */
export async function exportCommand(values: ExportRequest): Promise<number> {
  const format = values.format;
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
    classifyBeforeShowing(store);
    switch (format) {
      case "jsonl":
        for (const r of exportRecords(store)) write(r);
        break;
      case "agent-trace":
        for (const r of agentTraceRecords(store)) write(r);
        break;
      default: {
        const unreachable: never = format;
        throw new Error(`unknown export format ${unreachable}`);
      }
    }
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
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { importCommand } from "./views.ts";
 * const file = `${Deno.makeTempDirSync()}/empty.jsonl`;
 * Deno.writeTextFileSync(file, "");
 * assert.equal(await importCommand({ file, queue: false }), 0);
 * ```
 */
export async function importCommand(values: ImportRequest): Promise<number> {
  const file = values.file;
  const { config } = await loadConfig();
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`);
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
    // The import's own failures name the line and say that nothing was imported.
    throw new CliError((error as Error).message);
  } finally {
    store.close();
  }
}
