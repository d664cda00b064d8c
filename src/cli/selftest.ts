/**
 * `selftest`: real checks of every part a hook relies on, printed one per line like the original
 * system's self-test (including `Same instance: True`).
 *
 * @module
 */

import { BUNDLE_DIR, bundleState } from "./bundle.ts";
import { ROOT } from "../runtime.ts";
import { getTracker, PatternTracker } from "../api.ts";
import { loadConfig } from "../config/mod.ts";
import { patternId } from "../record/pattern.ts";
import { openStore } from "../store/mod.ts";

/** One check's outcome. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Runs every check; the service check never fails the run (events wait in the outbox).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runSelftest } from "./selftest.ts";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * const checks = await runSelftest();
 * assert.ok(checks.some((c) => c.name === "Pattern ID" && c.ok));
 * ```
 */
// A list of ten checks in the order they are printed, each a few lines (longer than 80 lines).
export async function runSelftest(): Promise<Check[]> {
  const checks: Check[] = [];
  const check = async (name: string, fn: () => Promise<[boolean, string]> | [boolean, string]) => {
    try {
      const [ok, detail] = await fn();
      checks.push({ name, ok, detail });
    } catch (error) {
      checks.push({ name, ok: false, detail: (error as Error).message });
    }
  };
  const { config, problems, configPath } = await loadConfig();
  await check(
    "Config",
    () => [
      problems.length === 0,
      problems.length === 0
        ? `${configPath} (intelligence_url=${config.intelligenceUrl}, data_dir=${config.dataDir})`
        : problems.map((p) => `${p.source}: ${p.key}: ${p.reason}`).join("; "),
    ],
  );
  await check("Pattern ID", async () => {
    const id = await patternId('def hello():\n    print("world")');
    return [id === "3d73da5b43ce076f", `${id} (expected 3d73da5b43ce076f)`];
  });
  await check("Line endings", async () => {
    const [lf, crlf] = await Promise.all([patternId("a\nb\n"), patternId("a\r\nb\r\n")]);
    return [lf === crlf, `LF and CRLF give ${lf === crlf ? "the same" : "different"} ID`];
  });
  const tracker = await getTracker();
  await check(
    "Session ID",
    () => [UUID_V4.test(tracker.sessionId), `${tracker.sessionId} (UUID v4)`],
  );
  await check("Timestamp", () => {
    const now = new Date().toISOString();
    return [ISO_UTC.test(now), `${now} (ISO 8601 UTC)`];
  });
  await check("Same instance", async () => {
    const same = (await getTracker()) === tracker;
    return [same, same ? "True" : "False"];
  });
  const scratch = Deno.makeTempDirSync({ prefix: "pattern-tracker-selftest-" });
  try {
    await check("Lineage", async () => {
      const t = new PatternTracker({ ...config, dataDir: scratch });
      await t.trackCreation("x = 1\n", { filePath: "/selftest/a.py" });
      await t.trackModification("x = 2\n", { filePath: "/selftest/a.py" });
      const history = t.history("/selftest/a.py");
      t.close();
      const ok = history.length === 2 && history[1]?.parentPatternId === history[0]?.patternId;
      return [ok, `created → modified in a scratch store (${history.length} versions)`];
    });
  } finally {
    Deno.removeSync(scratch, { recursive: true });
  }
  await check("Store", () => {
    const store = openStore(config.dataDir);
    try {
      const c = store.counts();
      return [
        true,
        `${store.path} (schema v${store.schemaVersion()}, ${c.patterns} patterns, ${c.outbox} waiting)`,
      ];
    } finally {
      store.close();
    }
  });
  await check("Hook bundle", async () => {
    const state = await bundleState(ROOT);
    return [
      state !== "stale",
      state === "fresh"
        ? `${ROOT}/${BUNDLE_DIR} matches the sources`
        : state === "stale"
        ? `${ROOT}/${BUNDLE_DIR} is older than the sources: run "deno task tracker install"`
        : "none: hooks run from the .ts scripts (install --no-bundle, plugin) or as binaries",
    ];
  });
  await check("Intelligence service", async () => {
    const url = `${config.intelligenceUrl}/api/pattern-traceability/health`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(config.timeoutSeconds * 1000) });
      await res.body?.cancel();
      return [true, `${url} answered ${res.status}`];
    } catch (error) {
      // Not a failure of the tracker: events wait in the outbox until the service is back.
      return [true, `${url} not reachable (${(error as Error).name}); events wait in the outbox`];
    }
  });
  return checks;
}

/**
 * Renders checks as the self-test prints them (pure).
 *
 * @example
 * ```ts
 * import { renderChecks } from "./selftest.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   renderChecks([{ name: "Same instance", ok: true, detail: "True" }]),
 *   "Pattern Tracker self-test\n✓ Same instance: True\nAll 1 checks passed.",
 * );
 * ```
 */
export function renderChecks(checks: readonly Check[]): string {
  const lines = ["Pattern Tracker self-test"];
  for (const c of checks) lines.push(`${c.ok ? "✓" : "✗"} ${c.name}: ${c.detail}`);
  const failed = checks.filter((c) => !c.ok).length;
  lines.push(
    failed === 0
      ? `All ${checks.length} checks passed.`
      : `${failed} of ${checks.length} checks FAILED.`,
  );
  return lines.join("\n");
}

/**
 * Runs `selftest`: prints each check; exit code 1 when any failed.
 *
 * @example
 * ```ts ignore
 * // Opens the configured store and calls the configured service: tests/hooks_test.ts runs it.
 * import { selftestCommand } from "./selftest.ts";
 * Deno.exit(await selftestCommand());
 * ```
 */
export async function selftestCommand(): Promise<number> {
  const checks = await runSelftest();
  console.log(renderChecks(checks));
  return checks.every((c) => c.ok) ? 0 : 1;
}
