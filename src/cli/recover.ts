/**
 * `recover FILE`: copies every readable row of a database moved aside as corrupt
 * (`patterns.db.corrupt-<time>`) into the current store, without duplicates, and queues again, in
 * doubt, the recovered versions the configured server has not acknowledged. Without FILE, lists
 * the moved-aside databases.
 *
 * @module
 */

import { loadConfig } from "../config/mod.ts";
import { serverKey } from "../delivery/plan.ts";
import { movedAsideStores } from "../store/health.ts";
import { recoverInto, type RecoveryReport } from "../store/recovery.ts";
import { DB_FILE } from "../store/mod.ts";
import { openAndReplay } from "../record/spill.ts";
import type { RecoverRequest } from "./commands/recover.ts";

/**
 * Renders what a recovery did (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderRecovery } from "./recover.ts";
 * const text = renderRecovery({ file: "f", read: { patterns: 2 }, added: { patterns: 1 }, requeued: 0, conflicts: [], unreadable: [], repairs: [] });
 * assert.ok(text.includes("f"), text);
 * ```
 */
export function renderRecovery(r: RecoveryReport): string {
  const tables = [...new Set([...Object.keys(r.read), ...Object.keys(r.added)])].filter((t) =>
    (r.read[t] ?? 0) > 0 || (r.added[t] ?? 0) > 0
  );
  const lines = [`Recovered from ${r.file}:`];
  for (const t of tables) {
    lines.push(`  ${t.padEnd(16)} ${r.read[t] ?? 0} readable, ${r.added[t] ?? 0} added`);
  }
  if (tables.length === 0) lines.push("  no readable rows");
  lines.push(
    `  ${r.requeued} version(s) queued for delivery, in doubt (the server had not acknowledged them; it is asked before they are sent).`,
  );
  for (const f of r.conflicts) {
    lines.push(
      `  ! ${f}: its salvaged history interleaves with the one recorded since; left as it is (export the moved-aside file's rows by hand if you need them)`,
    );
  }
  for (const u of r.repairs) lines.push(`  note: ${u}`);
  for (const u of r.unreadable) lines.push(`  ! unreadable: ${u}`);
  return lines.join("\n");
}

/**
 * The `recover` command; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { recoverCommand } from "./recover.ts";
 * // Not a moved-aside store: refused, nothing changed.
 * assert.equal(await recoverCommand({ file: "/nonexistent/patterns.db.corrupt-1", json: false }), 1);
 * ```
 */
export async function recoverCommand(request: RecoverRequest): Promise<number> {
  const { config } = await loadConfig();
  const file = request.file;
  if (file === null) {
    const aside = movedAsideStores(config.dataDir, null);
    console.error(
      aside.length === 0
        ? `error: recover takes a moved-aside database, e.g. tracker.ts recover ${config.dataDir}/${DB_FILE}.corrupt-<time>; there is none in ${config.dataDir}`
        : `error: recover takes one moved-aside database; in ${config.dataDir}:\n  ${
          aside.map((a) => a.path).join("\n  ")
        }`,
    );
    return 2;
  }
  try {
    const info = Deno.statSync(file);
    if (!info.isFile) throw new Error("not a file");
  } catch (error) {
    console.error(`error: cannot read ${file} (${(error as Error).message}); nothing was changed`);
    return 1;
  }
  const { store } = openAndReplay(config);
  try {
    if (Deno.realPathSync(file) === Deno.realPathSync(store.path)) {
      console.error(`error: ${file} is the current store; recover reads a moved-aside one`);
      return 2;
    }
    let report: RecoveryReport;
    try {
      report = recoverInto(store, file, { server: serverKey(config.intelligenceUrl) });
    } catch (error) {
      console.error(
        `error: recovering ${file} failed (${
          (error as Error).message
        }); nothing was changed. Run it again once "tracker.ts status" shows the store healthy.`,
      );
      return 1;
    }
    console.log(request.json ? JSON.stringify(report, null, 2) : renderRecovery(report));
    return report.unreadable.length > 0 && Object.keys(report.added).length === 0 ? 1 : 0;
  } finally {
    store.close();
  }
}
