/**
 * Runs `flush`: a manual delivery (waits for a background flusher's lock, reports to the terminal)
 * or, with `--background`, the detached flusher a hook starts: the spill journal first, then
 * delivery and the code's maintenance while it holds the flusher lock.
 *
 * @module
 */

import { loadConfig } from "../config/mod.ts";
import { runBackgroundFlusher } from "../delivery/background.ts";
import { flushOutbox, type FlushReport } from "../delivery/flush.ts";
import { waitForFlusherLock } from "../delivery/lock.ts";
import { appendLog } from "../log.ts";
import { QUICK_CHECK_EVERY_MS, replayAndCheckStore } from "../store/health.ts";
import { journalWaiting, openAndReplay } from "../record/spill.ts";
import type { FlushRequest } from "./commands/flush.ts";
import { CliError } from "./errors.ts";

/**
 * Renders a flush report for people (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderFlushReport } from "./flush_command.ts";
 * const text = renderFlushReport({
 *   server: "localhost:8053", sent: 3, alreadyExisted: 1, requests: 1, confirmed: 0, restored: 0,
 *   requeued: 0, deadLettered: 0, heldBack: 0, left: 0, stopped: null, skipped: 0,
 *   breaker: { state: "closed", failures: 0 },
 * } as unknown as Parameters<typeof renderFlushReport>[0]);
 * assert.match(text, /^Sent 3 event\(s\) to localhost:8053 \(1 already on the server\) in 1 request\(s\)\.$/m);
 * assert.match(text, /^Breaker closed\.$/m);
 * ```
 */
export function renderFlushReport(r: FlushReport): string {
  const lines = [
    `Sent ${r.sent} event(s) to ${r.server}${
      r.alreadyExisted ? ` (${r.alreadyExisted} already on the server)` : ""
    } in ${r.requests} request(s).`,
    ...(r.confirmed
      ? [`Found ${r.confirmed} event(s) in doubt already on the server: not sent again.`]
      : []),
    ...(r.restored
      ? [`Queued ${r.restored} earlier version(s) again: the server lacked a parent.`]
      : []),
    ...(r.requeued ? [`Put ${r.requeued} dead letter(s) back in the outbox.`] : []),
    `Dead-lettered ${r.deadLettered}; held back ${r.heldBack} (parent in dead letters); ${r.left} left in the outbox.`,
    `Breaker ${r.breaker.state}${
      r.breaker.state === "open" ? ` until ${new Date(r.breaker.openUntil).toISOString()}` : ""
    }.`,
  ];
  if (r.stopped) {
    lines.push(`Stopped early: ${r.stopped}. Events stay in the outbox for the next flush.`);
  }
  return lines.join("\n");
}

/**
 * Runs `flush`; returns the exit code (1 when it stopped early or dead-lettered events).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * Deno.env.set("PATTERN_TRACKER_DATA_DIR", Deno.makeTempDirSync()); // an empty store of its own
 * import { flushCommand } from "./flush_command.ts";
 * Deno.env.set("PATTERN_TRACKER_ENABLED", "false");
 * assert.equal(await flushCommand({ retryDead: false, background: true, json: false }), 0);
 * Deno.env.delete("PATTERN_TRACKER_ENABLED");
 * ```
 */
export async function flushCommand(request: FlushRequest): Promise<number> {
  const { config } = await loadConfig();
  if (!config.enabled) {
    if (!request.background) {
      console.log("Tracking is disabled (enabled: false); nothing to flush.");
    }
    return 0;
  }
  Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const log = (record: Parameters<typeof appendLog>[1]) => appendLog(config.logFile, record);
  if (request.background) {
    // Detached, started by a hook: first the spill journal (waiting for a lock that made hooks
    // spill) and, now and then, an integrity check; then delivery, and the code's compaction and
    // retention (src/store/code_maintenance.ts) while it holds the flusher lock.
    // A hook that spilled while this flusher lingered saw its lock held and started none: look
    // at the journal again after the lock is released.
    for (let round = 0; round < 3; round++) {
      await replayAndCheckStore(config, {
        patienceMs: 60_000,
        quickCheckEveryMs: QUICK_CHECK_EVERY_MS,
        log,
      });
      try {
        await runBackgroundFlusher(config, { log });
      } catch (error) {
        // A store locked past the busy timeout, say: the journal check below still runs.
        log({ level: "error", event: "flusher_failed", error: error as Error });
      }
      if (!journalWaiting(config.dataDir)) break;
    }
    return 0;
  }
  const lock = await waitForFlusherLock(config.dataDir, 60_000);
  if (!lock) {
    throw new CliError(
      `another flusher has held ${config.dataDir}/flusher.lock for 60 s; try again later.`,
    );
  }
  const { store } = openAndReplay(config, { log });
  try {
    const report = await flushOutbox(store, config, {
      retryDead: request.retryDead,
      ignoreBreaker: true,
      deps: { log },
    });
    log({
      level: "info",
      event: "flush",
      mode: "manual",
      ...report,
      breaker: report.breaker.state,
    });
    console.log(request.json ? JSON.stringify(report, null, 2) : renderFlushReport(report));
    return report.stopped || report.deadLettered > 0 ? 1 : 0;
  } finally {
    store.close();
    lock.close();
  }
}
