/**
 * A store's health: the periodic `PRAGMA quick_check` (in the flusher and `status`, never in a
 * hook; a damaged database is moved aside and a fresh store goes on), and the list of databases
 * moved aside as corrupt, with what `recover` took from each (`recovery.ts`).
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import type { LogRecord } from "../log.ts";
import { journalWaiting, openAndReplay } from "../record/spill.ts";
import { movedAsideLogger } from "./failure.ts";
import { DB_FILE, MOVED_ASIDE_META, noteMovedAside } from "./open.ts";
import { openStore, type Store } from "./store.ts";

/** Meta key of the last quick check's time (ms since the epoch). */
const QUICK_CHECK_META = "quick_check_at";
/**
 * File in the data directory whose mtime is the last quick check's time: the flusher looks at it
 * without opening the store (it starts after most hooks' bursts, and mostly has nothing to do).
 */
export const QUICK_CHECK_STAMP = "quick-check.stamp";
/** Meta key prefix of a recovered file's summary. */
export const RECOVERED_META = "recovered:";

/** What a health check found. */
export interface HealthReport {
  /** The store to go on with: the same one, or a fresh one after a move aside. */
  store: Store;
  /** Whether the check ran (it is skipped when one ran within the interval). */
  checked: boolean;
  /** SQLite's findings; empty when sound. */
  problems: string[];
  /** Where the damaged database went, when it was moved aside. */
  movedAside: string | null;
}

/**
 * Runs `PRAGMA quick_check` unless one ran within `everyMs` (0: always). Damage moves the database
 * aside (never deleted) and a fresh store is returned, so recording goes on; `status` then says how
 * to salvage it (`tracker.ts recover FILE`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "./store.ts";
 * import { checkStoreHealth } from "./health.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const report = checkStoreHealth(openStore(dataDir), { ...defaultConfig(dataDir), dataDir }, {
 *   everyMs: 0,
 * });
 * assert.equal(report.checked, true);
 * assert.deepEqual(report.problems, []);
 * assert.equal(report.movedAside, null);
 * report.store.close();
 * ```
 */
export function checkStoreHealth(
  store: Store,
  config: TrackerConfig,
  options: { everyMs: number; now?: () => Date; log?: (r: LogRecord) => void },
): HealthReport {
  const now = options.now ?? (() => new Date());
  const last = Number(store.meta(QUICK_CHECK_META) ?? 0);
  if (options.everyMs > 0 && now().getTime() - last < options.everyMs) {
    return { store, checked: false, problems: [], movedAside: null };
  }
  let problems: string[];
  try {
    problems = store.quickCheck();
  } catch (error) {
    problems = [String((error as Error)?.message ?? error)];
  }
  stampQuickCheck(config.dataDir);
  if (problems.length === 0) {
    try {
      store.setMeta(QUICK_CHECK_META, String(now().getTime()));
    } catch { /* a locked store: the check runs again next time */ }
    return { store, checked: true, problems, movedAside: null };
  }
  const at = now();
  const reason = `PRAGMA quick_check: ${problems.slice(0, 3).join("; ")}`;
  const aside = store.moveAsideAsCorrupt(at);
  if (aside !== null && options.log) movedAsideLogger(options.log)(aside, reason);
  const fresh = openStore(config.dataDir, { now });
  if (aside !== null) noteMovedAside(fresh, aside, reason, at);
  return { store: fresh, checked: true, problems, movedAside: aside };
}

/** How often the flusher runs `PRAGMA quick_check` (it reads the whole database). */
export const QUICK_CHECK_EVERY_MS = 10 * 60 * 1000;

/**
 * The flusher's upkeep before it delivers: replay the spill journal — patiently, since a hook that
 * spilled because the store was locked starts the flusher to do exactly this once the lock is gone
 * (up to `patienceMs`) — and a `PRAGMA quick_check` at most every `quickCheckEveryMs`. Logs what it
 * could not do; never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultConfig } from "../config/mod.ts";
 * import { spillEntry } from "../record/journal_files.ts";
 * import { journalWaiting } from "../record/spill.ts";
 * import { replayAndCheckStore } from "./health.ts";
 * const dataDir = Deno.makeTempDirSync();
 * spillEntry(dataDir, {
 *   journal: 1, id: crypto.randomUUID(), spilled_at: new Date().toISOString(), reason: "locked",
 *   record: { kind: "intent", toolUseId: "toolu_1", sessionId: "s", toolName: "Write",
 *     filePath: "/p/a.py", at: new Date().toISOString(), correlationId: crypto.randomUUID() },
 * });
 * await replayAndCheckStore({ ...defaultConfig(dataDir), dataDir }, {
 *   patienceMs: 1_000, quickCheckEveryMs: 0, log: () => {},
 * });
 * assert.equal(journalWaiting(dataDir), false); // replayed
 * ```
 */
export async function replayAndCheckStore(
  config: TrackerConfig,
  options: {
    patienceMs: number;
    quickCheckEveryMs: number;
    log: (r: LogRecord) => void;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<void> {
  // Most flusher runs have nothing to replay and no check due: then the store is not opened here.
  if (
    !journalWaiting(config.dataDir) && !quickCheckDue(config.dataDir, options.quickCheckEveryMs)
  ) {
    return;
  }
  const deadline = Date.now() + options.patienceMs;
  const sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  for (;;) {
    let opened;
    try {
      opened = openAndReplay(config, { log: options.log });
    } catch (error) {
      options.log({ level: "error", event: "store_unavailable", reason: (error as Error).message });
      return;
    }
    const waitAgain = opened.replayFailure?.kind === "locked" && Date.now() < deadline;
    if (!waitAgain) {
      if (opened.replayFailure) {
        options.log({
          level: "warn",
          event: "journal_not_replayed",
          reason: opened.replayFailure.message,
        });
      }
      try {
        const health = checkStoreHealth(opened.store, config, {
          everyMs: options.quickCheckEveryMs,
          log: options.log,
        });
        health.store.close();
      } catch (error) {
        opened.store.close();
        options.log({
          level: "error",
          event: "quick_check_failed",
          reason: (error as Error).message,
        });
      }
      return;
    }
    opened.store.close();
    await sleep(250);
  }
}

function quickCheckDue(dataDir: string, everyMs: number): boolean {
  try {
    const at = Deno.statSync(`${dataDir}/${QUICK_CHECK_STAMP}`).mtime?.getTime() ?? 0;
    return Date.now() - at >= everyMs;
  } catch {
    return true; // never checked
  }
}

function stampQuickCheck(dataDir: string): void {
  try {
    Deno.writeFileSync(`${dataDir}/${QUICK_CHECK_STAMP}`, new Uint8Array(), { mode: 0o600 });
  } catch { /* a read-only directory: checked again next time */ }
}

/** A database moved aside as corrupt, for `status`. */
export interface MovedAside {
  path: string;
  /** When and why (from the fresh store's note; null when the note was lost). */
  at: string | null;
  reason: string | null;
  /** When `recover` copied it into this store, or null. */
  recoveredAt: string | null;
}

/**
 * The moved-aside databases of a data directory, oldest first, with what the store noted of them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { movedAsideStores } from "./health.ts";
 * const dataDir = Deno.makeTempDirSync();
 * assert.deepEqual(movedAsideStores(dataDir, null), []);
 * Deno.writeTextFileSync(`${dataDir}/patterns.db.corrupt-20261125T020927.034Z`, "");
 * assert.deepEqual(movedAsideStores(dataDir, null).map((m) => m.path), [
 *   `${dataDir}/patterns.db.corrupt-20261125T020927.034Z`,
 * ]);
 * ```
 */
export function movedAsideStores(dataDir: string, store: Store | null): MovedAside[] {
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync(dataDir)].map((e) => e.name).filter((n) =>
      n.startsWith(`${DB_FILE}.corrupt-`) && !/-(?:wal|shm)$/.test(n)
    ).sort();
  } catch {
    return [];
  }
  const notes = store?.metaWithPrefix(MOVED_ASIDE_META) ?? new Map<string, string>();
  const recovered = store?.metaWithPrefix(RECOVERED_META) ?? new Map<string, string>();
  return names.map((name) => {
    const note = parseJson(notes.get(name));
    const done = parseJson(recovered.get(name));
    return {
      path: `${dataDir}/${name}`,
      at: typeof note?.at === "string" ? note.at : null,
      reason: typeof note?.reason === "string" ? note.reason : null,
      recoveredAt: typeof done?.at === "string" ? done.at : null,
    };
  });
}

function parseJson(text: string | undefined): Record<string, unknown> | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return null;
  }
}
