/**
 * Reading a damaged database for `recover` (`recovery.ts`): a copy of it (and its WAL) opened as
 * far as SQLite allows — a header rewritten when that is what keeps it from opening — and every
 * table read from both ends of its b-tree, row by row, each row checked on its way out; the code
 * read back through the store's own decoding.
 *
 * @module
 */

import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { DB_FILE } from "./open.ts";
import type { PatternRow } from "./pattern_rows.ts";
import type { RecoveryReport } from "./recovery.ts";
import type { ExecutionRow, FileVersion } from "./rows.ts";
import { Store } from "./store.ts";

/** A row as SQLite returns it, not yet checked. */
export type Row = Record<string, unknown>;

/**
 * The tables `recover` reads, each with the orders that walk its b-tree end to end (its key in the
 * current schema, then in older ones: a per-server outbox since schema v3, executions by session
 * since v5). `pattern_code` (v4) holds the code of most patterns; it is read through the store's
 * own decoding.
 */
const TABLES: readonly { name: string; orders: string[] }[] = [
  { name: "patterns", orders: ["pattern_id"] },
  { name: "file_versions", orders: ["id"] },
  { name: "lineage_edges", orders: ["child_pattern_id, parent_pattern_id"] },
  { name: "executions", orders: ["session_key, tool_use_id, call_seq", "tool_use_id"] },
  { name: "outbox", orders: ["id"] },
  { name: "dead_letters", orders: ["server, version_id", "outbox_id"] },
  { name: "delivered", orders: ["seq", "pattern_id, pattern_version"] },
  { name: "journal_replays", orders: ["entry_id"] },
];

/**
 * Puts each salvaged pattern's code in its row's `code`: since schema v4 most of it is a snapshot
 * or a line patch in `pattern_code`, read back through the store's own decoding (a chain that
 * runs through a damaged row cannot be read: that pattern's code is "unreadable").
 */
function readCode(db: DatabaseSync, path: string, patterns: Row[], report: RecoveryReport): void {
  const hasCodeTable = db.prepare(
    "SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'pattern_code'",
  ).get() !== undefined;
  if (!hasCodeTable) return; // the text, if any, is in `code`
  const reader = new Store(db, path, null);
  let unreadable = 0;
  for (const r of patterns) {
    if (typeof r.pattern_id !== "string" || r.code_omitted) continue;
    try {
      const code = reader.code(r.pattern_id);
      if (typeof code === "string") r.code = code;
    } catch {
      r.code = null;
      r.code_omitted = "unreadable";
      unreadable++;
    }
  }
  if (unreadable > 0) report.unreadable.push(`the code of ${unreadable} pattern(s)`);
}

/** Reads every table of a copy of `file`, each as far as it can be read from both ends. */
export function readSalvage(file: string, report: RecoveryReport): Record<string, Row[]> {
  const scratch = Deno.makeTempDirSync({ prefix: "pattern-tracker-recover-" });
  const copy = `${scratch}/${DB_FILE}`;
  const out: Record<string, Row[]> = {};
  try {
    Deno.copyFileSync(file, copy);
    let hasWal = false;
    try {
      Deno.copyFileSync(`${file}-wal`, `${copy}-wal`);
      hasWal = true;
    } catch { /* no WAL beside it */ }
    const db = openReadable(copy, hasWal, report);
    if (db === null) return out;
    try {
      for (const table of TABLES) {
        out[table.name] = readTable(db, table.name, table.orders, report);
        report.read[table.name] = out[table.name]!.length;
      }
      readCode(db, copy, out.patterns ?? [], report);
    } finally {
      db.close();
    }
  } catch (error) {
    report.unreadable.push(`${file}: ${(error as Error).message}`);
  } finally {
    Deno.removeSync(scratch, { recursive: true });
  }
  return out;
}

/**
 * Opens the scratch copy so that its schema can be read. Garbage in the 100-byte file header
 * ("file is not a database") hides every table although the pages behind it are whole: then the
 * header is rewritten in the copy with SQLite's fixed values and each page size the file's length
 * allows, until the schema reads.
 */
function openReadable(copy: string, hasWal: boolean, report: RecoveryReport): DatabaseSync | null {
  const attempt = (): DatabaseSync | null => {
    let db: DatabaseSync | null = null;
    try {
      db = new DatabaseSync(copy);
      db.prepare("SELECT count(*) FROM sqlite_master").get();
      return db;
    } catch {
      db?.close();
      return null;
    }
  };
  const first = attempt();
  if (first) return first;
  const size = Deno.statSync(copy).size;
  const file = Deno.openSync(copy, { read: true, write: true });
  try {
    const header = new Uint8Array(100);
    file.readSync(header);
    const stated = header[16]! * 256 + header[17]!;
    const candidates = [
      stated === 1 ? 65536 : stated,
      4096,
      1024,
      2048,
      8192,
      16384,
      32768,
      65536,
      512,
    ]
      .filter((n, i, all) => n >= 512 && (n & (n - 1)) === 0 && all.indexOf(n) === i)
      .filter((n) => size % n === 0);
    for (const pageSize of candidates) {
      file.seekSync(0, Deno.SeekMode.Start);
      file.writeSync(repairedHeader(header, pageSize, hasWal));
      const db = attempt();
      if (db) {
        report.repairs.push(
          `the file header was damaged; read through a rewritten header (page size ${pageSize}) in a scratch copy`,
        );
        return db;
      }
    }
  } finally {
    file.close();
  }
  report.unreadable.push(
    "the file is not readable as a database, even with its header rewritten (its schema page is damaged)",
  );
  return null;
}

/** SQLite's database header with its fixed fields restored (https://sqlite.org/fileformat.html). */
function repairedHeader(original: Uint8Array, pageSize: number, hasWal: boolean): Uint8Array {
  const h = original.slice(0, 100);
  const view = new DataView(h.buffer);
  h.set(new TextEncoder().encode("SQLite format 3\0"), 0);
  view.setUint16(16, pageSize === 65536 ? 1 : pageSize);
  h[18] = h[19] = hasWal ? 2 : 1; // file format: WAL or rollback journal
  h[20] = 0; // reserved bytes per page
  h[21] = 64; // payload fractions, fixed by the format
  h[22] = 32;
  h[23] = 32;
  view.setUint32(28, 0); // size in pages: 0 makes SQLite use the file's size
  view.setUint32(32, 0); // freelist: dropped (free pages hold no rows)
  view.setUint32(36, 0);
  view.setUint32(44, 4); // schema format
  view.setUint32(48, 0);
  view.setUint32(52, 0); // no auto-vacuum
  view.setUint32(56, 1); // UTF-8
  view.setUint32(64, 0);
  h.fill(0, 72, 92);
  return h;
}

/**
 * Reads a table by its key in pages (keyset pagination: `.all()` reports damage; `node:sqlite`'s
 * iterator ends quietly at it), forward until the damage, then backward from the end until the
 * damage or the rows already read: every row on both sides of a damaged page.
 */
function readTable(
  db: DatabaseSync,
  table: string,
  orders: readonly string[],
  report: RecoveryReport,
): Row[] {
  const keys = (orders[0] as string).split(",").map((c) => c.trim());
  const tuple = `(${keys.join(", ")})`;
  const marks = `(${keys.map(() => "?").join(", ")})`;
  const keyOf = (row: Row) => keys.map((k) => row[k] as SQLInputValue);
  const page = (direction: "ASC" | "DESC", after: SQLInputValue[] | null, limit: number) =>
    db.prepare(
      `SELECT * FROM ${table}${
        after === null ? "" : ` WHERE ${tuple} ${direction === "ASC" ? ">" : "<"} ${marks}`
      } ORDER BY ${keys.map((k) => `${k} ${direction}`).join(", ")} LIMIT ${limit}`,
    ).all(...(after ?? [])) as Row[];
  const forward: Row[] = [];
  let damaged = false;
  try {
    damaged = !walk("ASC", null, (row) => void forward.push(row));
  } catch (error) {
    const message = (error as Error).message;
    if (/no such table/.test(message)) return []; // an older schema: nothing to read
    if (/no such column/.test(message) && orders.length > 1) {
      return readTable(db, table, orders.slice(1), report); // an older schema's key
    }
    throw error;
  }
  if (!damaged) return forward;
  report.unreadable.push(`${table}: damaged after ${forward.length} row(s); read from the end too`);
  const seen = new Set(forward.map((r) => JSON.stringify(keyOf(r))));
  const backward: Row[] = [];
  walk("DESC", null, (row) => {
    if (seen.has(JSON.stringify(keyOf(row)))) return false;
    backward.push(row);
  });
  return [...forward, ...backward.reverse()];

  /** Visits rows in key order until the end (true) or damage (false); `visit` may stop it. */
  function walk(
    direction: "ASC" | "DESC",
    start: SQLInputValue[] | null,
    visit: (row: Row) => boolean | void,
  ): boolean {
    let after = start;
    let limit = 500;
    for (;;) {
      let rows: Row[];
      try {
        rows = page(direction, after, limit);
      } catch (error) {
        if (/no such (?:table|column)/.test((error as Error).message)) throw error;
        if (limit > 1) {
          limit = 1; // close in on the damage one row at a time
          continue;
        }
        return false;
      }
      for (const row of rows) {
        if (visit(row) === false) return true;
      }
      if (rows.length < limit) return true;
      after = keyOf(rows[rows.length - 1] as Row);
    }
  }
}

export function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

export function toPattern(r: Row): PatternRow | null {
  if (typeof r.pattern_id !== "string") return null;
  return {
    patternId: r.pattern_id,
    language: String(r.language ?? "unknown"),
    lineCount: Number(r.line_count ?? 0),
    byteSize: Number(r.byte_size ?? 0),
    code: strOrNull(r.code),
    firstSeenAt: String(r.first_seen_at ?? ""),
    codeOmitted: strOrNull(r.code_omitted),
    redactedSecrets: Number(r.redacted_secrets ?? 0),
  };
}

export function toVersion(r: Row): FileVersion | null {
  if (typeof r.file_path !== "string" || typeof r.pattern_id !== "string") return null;
  return {
    filePath: r.file_path,
    version: Number(r.version),
    patternId: r.pattern_id,
    parentPatternId: strOrNull(r.parent_pattern_id),
    eventType: String(r.event_type ?? "pattern_created"),
    transformationType: strOrNull(r.transformation_type),
    toolName: String(r.tool_name ?? "unknown"),
    toolUseId: strOrNull(r.tool_use_id),
    sessionId: strOrNull(r.session_id),
    correlationId: String(r.correlation_id ?? crypto.randomUUID()),
    reason: strOrNull(r.reason),
    createdAt: String(r.created_at ?? ""),
    changeLinesAdded: numOrNull(r.change_lines_added),
    changeLinesRemoved: numOrNull(r.change_lines_removed),
    changeDurationMs: numOrNull(r.change_duration_ms),
  };
}

export function toExecution(r: Row): ExecutionRow | null {
  if (typeof r.tool_use_id !== "string") return null;
  return {
    toolUseId: r.tool_use_id,
    sessionId: strOrNull(r.session_id),
    toolName: String(r.tool_name ?? "unknown"),
    filePath: strOrNull(r.file_path),
    correlationId: String(r.correlation_id ?? crypto.randomUUID()),
    startedAt: strOrNull(r.started_at),
    finishedAt: strOrNull(r.finished_at),
    durationMs: numOrNull(r.duration_ms),
    success: r.success === null || r.success === undefined ? null : Number(r.success) === 1,
    error: strOrNull(r.error),
    linesAdded: numOrNull(r.lines_added),
    linesRemoved: numOrNull(r.lines_removed),
    beforePatternId: strOrNull(r.before_pattern_id),
    patternId: strOrNull(r.pattern_id),
  };
}
