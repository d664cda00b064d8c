/**
 * The storage scenarios of the benchmark (`bench/run.ts` section 6): what a history costs on disk,
 * what the post hook costs on a large file, and how fast old and new versions read back.
 *
 * - the large file: a 2,500-line TypeScript module (≈ 163 KB) edited 300 times, one line each time,
 *   recorded by the real `track` (the post hook's write path, in-process);
 * - a typical small-file session: 12 files of 1–6 KB, each written then edited 9 times;
 * - the post hook on the large file (whole process, interleaved with the floor);
 * - reading the newest and the oldest of 1,000 versions of the large file, and its `lineage`.
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { compactCode } from "../src/store/code_maintenance.ts";
import { flushOutbox } from "../src/delivery/flush.ts";
import { resolveConfig } from "../src/config/mod.ts";
import { renderFileLineage } from "../src/cli/lineage.ts";
import { patternId } from "../src/record/pattern.ts";
import { parseHookPayload, type ToolChange } from "../src/record/payload.ts";
import { track } from "../src/record/track.ts";
import { openStore } from "../src/store/mod.ts";
import type { Phase4Server } from "../tests/phase4_server.ts";
import { seeded } from "../tests/support.ts";
import { type Arm, interleave, ROOT, shell, summarize, type Summary } from "./lib.ts";

/**
 * A read-only look at a database file: bytes per table (with its indexes) from `dbstat`.
 *
 * @example
 * ```ts
 * import { tableBytes } from "./storage.ts";
 * // tableBytes(`${dataDir}/patterns.db`).pattern_code
 * ```
 */
export function tableBytes(dbPath: string): Record<string, number> {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const rows = db.prepare(
      `SELECT COALESCE(m.tbl_name, s.name) AS tbl, SUM(s.pgsize) AS bytes
       FROM dbstat s LEFT JOIN sqlite_schema m ON m.name = s.name GROUP BY tbl`,
    ).all() as { tbl: string; bytes: number }[];
    return Object.fromEntries(rows.map((r) => [r.tbl, Number(r.bytes)]));
  } finally {
    db.close();
  }
}

/** Size of the database file and its write-ahead log. */
function fileBytes(dataDir: string): number {
  let size = 0;
  for (const f of ["patterns.db", "patterns.db-wal"]) {
    try {
      size += Deno.statSync(`${dataDir}/${f}`).size;
    } catch { /* absent */ }
  }
  return size;
}

/** Pages SQLite uses (the file less its free pages), read-only. */
function pagesInUse(dataDir: string): number {
  const db = new DatabaseSync(`${dataDir}/patterns.db`, { readOnly: true });
  try {
    const pragma = (name: string) =>
      Number(Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0] ?? 0);
    return (pragma("page_count") - pragma("freelist_count")) * pragma("page_size");
  } finally {
    db.close();
  }
}

/** The project's own TypeScript, in path order (src/ then tests/). */
function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (path.endsWith(".ts")) out.push(path);
    }
  };
  walk(`${ROOT}/src`);
  walk(`${ROOT}/tests`);
  return out;
}

/**
 * The large file: the first 2,500 lines of 35–120 characters of the project's own TypeScript
 * (real code, so that compression sees real text): ≈ 163 KB.
 *
 * @example
 * ```ts
 * import { largeModule } from "./storage.ts";
 * largeModule().split("\n").length; // 2501
 * ```
 */
export function largeModule(): string {
  const lines: string[] = [];
  for (const file of sourceFiles()) {
    for (const line of Deno.readTextFileSync(file).split("\n")) {
      if (line.length >= 35 && line.length <= 120 && lines.length < 2500) lines.push(line);
    }
  }
  return lines.join("\n") + "\n";
}

const fixture = (name: string) =>
  JSON.parse(Deno.readTextFileSync(`${ROOT}/src/cli/demo_session/${name}.json`)) as Record<
    string,
    Record<string, unknown>
  >;

/** A Write payload (PostToolUse) creating `file` with `content`. *
 * @example
 * ```ts
 * import { writePayload } from "./storage.ts";
 * JSON.parse(writePayload("/p/a.ts", "x\n", "toolu_1")).tool_name; // "Write"
 * ```
 */
export function writePayload(file: string, content: string, toolUseId: string): string {
  const t = fixture("02-post-write");
  return JSON.stringify({
    ...t,
    tool_use_id: toolUseId,
    tool_input: { file_path: file, content },
    tool_response: { ...t.tool_response, filePath: file, content },
  });
}

/**
 * An Edit payload (PostToolUse) changing one line of `before` — the `seed`-th pick — as Claude
 * Code sends it (with `originalFile` and `structuredPatch`); returns it and the content after.
 *
 * @example
 * ```ts
 * import { oneLineEdit } from "./storage.ts";
 * oneLineEdit("/p/a.ts", "a\nb\n", 1, "toolu_2").after; // "a\nb // toolu_2\n"
 * ```
 */
export function oneLineEdit(
  file: string,
  before: string,
  pick: number,
  toolUseId: string,
): { payload: string; after: string } {
  const lines = before.split("\n");
  // The picked line, or the next one that is not blank (an Edit needs an old_string).
  let at = pick % Math.max(1, lines.length - 1);
  while ((lines[at] as string).trim() === "") at = (at + 1) % Math.max(1, lines.length - 1);
  const oldString = lines[at] as string;
  const newString = `${oldString} // ${toolUseId}`;
  lines[at] = newString;
  const t = fixture("04-post-edit");
  const payload = JSON.stringify({
    ...t,
    tool_use_id: toolUseId,
    tool_input: {
      file_path: file,
      old_string: oldString,
      new_string: newString,
      replace_all: false,
    },
    tool_response: {
      ...t.tool_response,
      filePath: file,
      oldString,
      newString,
      originalFile: before,
      structuredPatch: [{
        oldStart: at + 1,
        oldLines: 1,
        newStart: at + 1,
        newLines: 1,
        lines: [`-${oldString}`, `+${newString}`],
      }],
    },
  });
  // Claude Code replaces the first occurrence: the content after is computed the same way.
  const first = before.indexOf(oldString);
  return {
    payload,
    after: before.slice(0, first) + newString + before.slice(first + oldString.length),
  };
}

/** What a recorded history costs on disk. */
export interface HistorySize {
  versions: number;
  /** Bytes of the versions as whole files (what the store kept before patches). */
  textBytes: number;
  /** Before delivery: the database file (and log), and its tables. */
  queued: { fileBytes: number; codeBytes: number; outboxBytes: number; otherBytes: number };
  /** Before delivery: pages in use (the outbox holds references to the versions). */
  withReferences: number;
  /** After delivery (outbox emptied) and the flusher's compaction: pages in use, code tables. */
  delivered: { pagesInUse: number; codeBytes: number; fileBytes: number };
}

const CODE_TABLES = ["pattern_code", "patterns"];

function split(tables: Record<string, number>) {
  const code = CODE_TABLES.reduce((sum, t) => sum + (tables[t] ?? 0), 0);
  const outbox = tables.outbox ?? 0;
  const all = Object.values(tables).reduce((a, b) => a + b, 0);
  return { codeBytes: code, outboxBytes: outbox, otherBytes: all - code - outbox };
}

/**
 * Records `payloads` (post-hook payloads, in order) with the real `track` into a new store in
 * `dataDir`, then measures it queued, estimates it with an outbox of references, delivers it to
 * `server`, compacts it as the background flusher does, and measures it again.
 *
 * @example
 * ```ts
 * import { measureHistory, smallFileSession } from "./storage.ts";
 * // const size = await measureHistory(dir, smallFileSession(), server);
 * ```
 */
export async function measureHistory(
  dataDir: string,
  payloads: string[],
  server: Phase4Server,
): Promise<HistorySize> {
  const { config } = resolveConfig({
    env: { PATTERN_TRACKER_DATA_DIR: dataDir },
    file: null,
    filePath: "",
    home: dataDir,
  });
  const store = openStore(dataDir);
  for (const text of payloads) {
    const parsed = parseHookPayload(text);
    if (parsed.kind !== "change") throw new Error(`a bench payload parsed as ${parsed.kind}`);
    await track(config, parsed as ToolChange, { store });
  }
  const versions = store.counts().versions;
  const textBytes = store.codeStorage().textBytes;
  store.close(); // checkpoints the log into the database file
  const path = `${dataDir}/patterns.db`;
  const queued = { fileBytes: fileBytes(dataDir), ...split(tableBytes(path)) };

  // Pages in use before delivery (the outbox holds references to the versions since schema v4;
  // this once estimated what that would save).
  const db = new DatabaseSync(path, { readOnly: true });
  const pragma = (name: string) =>
    Number(Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0] ?? 0);
  const withReferences = (pragma("page_count") - pragma("freelist_count")) * pragma("page_size");
  db.close();

  const again = openStore(dataDir);
  // Small batches with a long timeout: each event of the large file carries 160 KB of code.
  const report = await flushOutbox(again, {
    ...config,
    intelligenceUrl: server.url,
    batchSize: 20,
    timeoutSeconds: 60,
  });
  if (report.left !== 0) {
    throw new Error(`the bench flush left ${report.left} events: ${JSON.stringify(report)}`);
  }
  compactCode(again);
  again.releaseFreePages(0);
  again.close();
  return {
    versions,
    textBytes,
    queued,
    withReferences,
    delivered: {
      pagesInUse: pagesInUse(dataDir),
      codeBytes: split(tableBytes(path)).codeBytes,
      fileBytes: fileBytes(dataDir),
    },
  };
}

/** The large file's history: a Write, then `edits` one-line Edits. *
 * @example
 * ```ts
 * import { largeFileHistory } from "./storage.ts";
 * largeFileHistory("/p/big.ts", 3).texts.length; // 4
 * ```
 */
export function largeFileHistory(file: string, edits: number, seed = 7): {
  payloads: string[];
  texts: string[];
} {
  const { next } = seeded(seed);
  let text = largeModule();
  const payloads = [writePayload(file, text, "toolu_big_0")];
  const texts = [text];
  for (let k = 1; k <= edits; k++) {
    const edit = oneLineEdit(file, text, next(1 << 30), `toolu_big_${k}`);
    payloads.push(edit.payload);
    text = edit.after;
    texts.push(text);
  }
  return { payloads, texts };
}

/**
 * A typical small-file session: 12 files of 1–6 KB (slices of real sources), each written, then
 * edited 9 times, one line each time, the files interleaved as a session goes.
 *
 * @example
 * ```ts
 * import { smallFileSession } from "./storage.ts";
 * smallFileSession().length; // 120
 * ```
 */
export function smallFileSession(seed = 11): string[] {
  const { next } = seeded(seed);
  const sources = sourceFiles();
  const files = Array.from({ length: 12 }, (_, i) => {
    const lines = Deno.readTextFileSync(sources[(i * 7) % sources.length] as string).split("\n");
    const wanted = 30 + next(120);
    return { path: `/bench/session/f${i}.ts`, text: lines.slice(0, wanted).join("\n") + "\n" };
  });
  const payloads = files.map((f, i) => writePayload(f.path, f.text, `toolu_s_w${i}`));
  for (let round = 0; round < 9; round++) {
    for (const [i, f] of files.entries()) {
      const edit = oneLineEdit(f.path, f.text, next(1 << 30), `toolu_s_${round}_${i}`);
      payloads.push(edit.payload);
      f.text = edit.after;
    }
  }
  return payloads;
}

/** Hook latency on the large file, whole process, interleaved with the floor. */
export interface LargeHookResult {
  floor: Summary;
  largeEdit: Summary;
  smallEdit: Summary;
}

/**
 * The post hook on the large file (a one-line Edit of a store that already holds its history) and
 * on a small file, against the floor, `rounds` interleaved rounds.
 *
 * @example
 * ```ts
 * import { largeFileHook } from "./storage.ts";
 * // const r = await largeFileHook(inst, "/p/big.ts", text, 20); r.largeEdit.median / r.floor.median
 * ```
 */
export async function largeFileHook(
  inst: { commands: { post: string }; floor: string; env: Record<string, string> },
  file: string,
  current: string,
  rounds: number,
): Promise<LargeHookResult> {
  let text = current;
  const small = fixture("04-post-edit");
  const arms: Arm[] = [
    { name: "floor", spec: () => shell(inst.floor, inst.env) },
    {
      name: "large",
      spec: (round) => {
        const edit = oneLineEdit(file, text, 7919 * (round + 10), `toolu_hook_${round + 10}`);
        text = edit.after;
        return shell(inst.commands.post, inst.env, new TextEncoder().encode(edit.payload));
      },
    },
    {
      name: "small",
      spec: (round) => {
        const path = `/bench/small/s${round + 10}.py`;
        const payload = JSON.stringify({
          ...small,
          tool_use_id: `toolu_small_${round + 10}`,
          tool_input: { ...small.tool_input, file_path: path },
          tool_response: { ...small.tool_response, filePath: path },
        });
        return shell(inst.commands.post, inst.env, new TextEncoder().encode(payload));
      },
    },
  ];
  const s = await interleave(arms, rounds);
  return {
    floor: summarize(s.floor!),
    largeEdit: summarize(s.large!),
    smallEdit: summarize(s.small!),
  };
}

/** Reading versions back and `lineage`, on 1,000 versions of the large file. */
export interface ReadResult {
  versions: number;
  /** A new process's first read (opening the store included), over several processes. */
  processNewest: Summary;
  processOldest: Summary;
  /** In-process reads on a freshly opened store (no cached text; the code already compiled). */
  newest: Summary;
  oldest: Summary;
  /** `Store.fileHistory` plus rendering, in-process. */
  lineage: Summary;
  /** Stored code of the 1,000 versions, and as whole files. */
  codeBytes: number;
  textBytes: number;
}

/**
 * Stores 1,000 versions of the large file as the hook does (a patch against the parent, the
 * payload's content before), compacts them as the flusher does, and times reading the newest and
 * the oldest: in fresh processes (`bench/read_version.ts`) and in-process.
 *
 * @example
 * ```ts
 * import { readVersions } from "./storage.ts";
 * // const r = await readVersions(dir, "/p/big.ts", 15); r.oldest.median < 50
 * ```
 */
export async function readVersions(
  dataDir: string,
  file: string,
  rounds: number,
): Promise<ReadResult> {
  const { texts } = largeFileHistory(file, 999, 13);
  const ids = await Promise.all(texts.map(patternId));
  const store = openStore(dataDir);
  const now = new Date().toISOString();
  for (let start = 0; start < texts.length; start += 100) {
    store.immediate(() => {
      for (let i = start; i < Math.min(texts.length, start + 100); i++) {
        const text = texts[i] as string;
        store.insertPattern({
          patternId: ids[i] as string,
          language: "typescript",
          lineCount: 2500,
          byteSize: new TextEncoder().encode(text).length,
          code: text,
          firstSeenAt: now,
          parent: i === 0 ? null : { patternId: ids[i - 1] as string, content: texts[i - 1] },
        });
        store.insertVersion({
          filePath: file,
          version: i + 1,
          patternId: ids[i] as string,
          parentPatternId: i === 0 ? null : ids[i - 1] as string,
          eventType: i === 0 ? "pattern_created" : "pattern_modified",
          transformationType: i === 0 ? null : "refactor",
          toolName: "Edit",
          toolUseId: `toolu_r${i}`,
          sessionId: "bench",
          correlationId: "c",
          reason: "bench",
          createdAt: now,
        });
      }
    });
  }
  compactCode(store);
  const { bytes: codeBytes, textBytes } = store.codeStorage();
  store.close();

  const newest = ids.at(-1) as string;
  const oldest = ids[0] as string;
  const inProcess = { newest: [] as number[], oldest: [] as number[], lineage: [] as number[] };
  for (let i = 0; i < rounds; i++) {
    const s = openStore(dataDir);
    for (
      const [key, id, text] of [["newest", newest, texts.at(-1)], [
        "oldest",
        oldest,
        texts[0],
      ]] as const
    ) {
      const t0 = performance.now();
      const code = s.pattern(id)?.code;
      inProcess[key].push(performance.now() - t0);
      if (code !== text) throw new Error(`the ${key} version did not read back exactly`);
    }
    const t0 = performance.now();
    renderFileLineage(file, s.fileHistory(file));
    inProcess.lineage.push(performance.now() - t0);
    s.close();
  }
  const processes = { newest: [] as number[], oldest: [] as number[] };
  for (let i = 0; i < Math.max(5, Math.round(rounds / 2)); i++) {
    for (const key of ["newest", "oldest"] as const) {
      const out = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          `--allow-read=${dataDir}`,
          `--allow-write=${dataDir}`,
          `${ROOT}/bench/read_version.ts`,
          dataDir,
          key === "newest" ? newest : oldest,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
      processes[key].push((JSON.parse(new TextDecoder().decode(out.stdout)) as { ms: number }).ms);
    }
  }
  return {
    versions: texts.length,
    processNewest: summarize(processes.newest),
    processOldest: summarize(processes.oldest),
    newest: summarize(inProcess.newest),
    oldest: summarize(inProcess.oldest),
    lineage: summarize(inProcess.lineage),
    codeBytes,
    textBytes,
  };
}
