/** The spill journal's file handling: lines, places, the fallback's ownership check, the reserve. */
import assert from "node:assert/strict";
import {
  JOURNAL_FILE,
  type JournalEntry,
  journalFallbackDir,
  pendingJournalPlaces,
  RESERVE_BYTES,
  RESERVE_FILE,
} from "../src/record/journal.ts";
import {
  collectJournal,
  ensureReserve,
  formatJournalLine,
  parseJournalText,
  releaseReserve,
  spillEntry,
} from "../src/record/journal_files.ts";

const IS_ROOT = new TextDecoder().decode(
  new Deno.Command("id", { args: ["-u"], stdout: "piped" }).outputSync().stdout,
).trim() === "0";

const entry = (id: string, at = new Date().toISOString()): JournalEntry => ({
  journal: 1,
  id,
  spilled_at: at,
  reason: "store locked",
  record: { kind: "intent", id },
});

function cleanFallback(dataDir: string) {
  try {
    Deno.removeSync(journalFallbackDir(dataDir), { recursive: true });
  } catch { /* none */ }
}

Deno.test("journal lines: one JSON object each; torn and foreign lines are counted, not replayed", () => {
  const text = formatJournalLine(entry("a")) + '{"journal":1,"id":"b","spil' + "\n" +
    JSON.stringify({ hello: "world" }) + "\n" + formatJournalLine(entry("c"));
  const parsed = parseJournalText(text);
  assert.deepEqual(parsed.entries.map((e) => e.id), ["a", "c"]);
  assert.equal(parsed.torn, 2);
});

Deno.test("the fallback place is one directory per data directory, under /tmp, named as the shell's cksum names it", async () => {
  const a = journalFallbackDir("/home/a/.claude/pattern-tracker");
  assert.match(a, /^\/tmp\/pattern-tracker-\d+$/);
  assert.equal(
    journalFallbackDir("/home/a/.claude/pattern-tracker/"),
    a,
    "a trailing slash is the same",
  );
  assert.notEqual(journalFallbackDir("/home/b/.claude/pattern-tracker"), a);
  for (const dir of ["/home/a/.claude/pattern-tracker", `/tmp/${"d".repeat(300)}/données`]) {
    const out = await new Deno.Command("sh", {
      args: ["-c", 'printf %s "$1" | cksum | cut -d" " -f1', "sh", dir],
      stdout: "piped",
    }).output();
    assert.equal(
      journalFallbackDir(dir),
      `/tmp/pattern-tracker-${new TextDecoder().decode(out.stdout).trim()}`,
    );
  }
});

Deno.test("spilling appends fsync'd lines to the data directory's journal; a symlink there sends them to the fallback", () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-journal-" });
  cleanFallback(dataDir);
  try {
    assert.equal(spillEntry(dataDir, entry("1")).file, `${dataDir}/${JOURNAL_FILE}`);
    // A writer killed mid-line: the next line starts on a line of its own.
    Deno.writeTextFileSync(`${dataDir}/${JOURNAL_FILE}`, '{"torn', { append: true });
    spillEntry(dataDir, entry("2"));
    assert.deepEqual(
      parseJournalText(Deno.readTextFileSync(`${dataDir}/${JOURNAL_FILE}`)).entries.map((e) =>
        e.id
      ),
      ["1", "2"],
    );
    const outside = Deno.makeTempFileSync();
    Deno.renameSync(`${dataDir}/${JOURNAL_FILE}`, `${dataDir}/kept.jsonl`);
    Deno.symlinkSync(outside, `${dataDir}/${JOURNAL_FILE}`);
    const place = spillEntry(dataDir, entry("3"));
    assert.equal(place.file, `${journalFallbackDir(dataDir)}/${JOURNAL_FILE}`);
    assert.equal(Deno.readTextFileSync(outside), "", "nothing written through the link");
    assert.equal(Deno.statSync(journalFallbackDir(dataDir)).mode! & 0o777, 0o700);
    const places = pendingJournalPlaces(dataDir, new Map([[JOURNAL_FILE, true]]));
    assert.deepEqual(places.map((p) => p.dir), [dataDir, journalFallbackDir(dataDir)]);
    const collected = collectJournal(places.slice(1));
    assert.deepEqual(collected.entries.map((e) => e.entry.id), ["3"]);
    assert.equal(collected.problems.length, 0);
  } finally {
    cleanFallback(dataDir);
  }
});

Deno.test({
  name: "a fallback directory that another user made first is not trusted",
  ignore: !IS_ROOT, // chown to another user needs root

  fn() {
    const dataDir = Deno.makeTempDirSync({ prefix: "pt-journal-" });
    const fallback = journalFallbackDir(dataDir);
    cleanFallback(dataDir);
    Deno.mkdirSync(fallback, { mode: 0o700 });
    Deno.chownSync(fallback, 65534, 65534); // nobody
    try {
      // The data directory's journal cannot be written (a directory in its place).
      Deno.mkdirSync(`${dataDir}/${JOURNAL_FILE}`);
      assert.throws(() => spillEntry(dataDir, entry("x")), /belongs to user 65534/);
      Deno.writeTextFileSync(`${fallback}/${JOURNAL_FILE}`, formatJournalLine(entry("planted")));
      assert.deepEqual(
        pendingJournalPlaces(dataDir, new Map()),
        [],
        "entries planted there are never replayed",
      );
    } finally {
      cleanFallback(dataDir);
    }
  },
});

Deno.test("the disk-full reserve: made once, released on demand, made again", () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-journal-" });
  assert.equal(releaseReserve(dataDir), false);
  assert.equal(ensureReserve(dataDir), true);
  assert.equal(Deno.statSync(`${dataDir}/${RESERVE_FILE}`).size, RESERVE_BYTES);
  const bytes = Deno.readFileSync(`${dataDir}/${RESERVE_FILE}`);
  assert.ok(
    bytes.some((b) => b !== 0),
    "random bytes: a compressing file system must not shrink it",
  );
  assert.equal(releaseReserve(dataDir), true);
  assert.equal(ensureReserve(dataDir), true);
  assert.equal(Deno.statSync(`${dataDir}/${RESERVE_FILE}`).mode! & 0o777, 0o600);
});
