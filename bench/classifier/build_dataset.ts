/**
 * Builds the classifier's dataset from git clones of the repositories in `repos.json`: each
 * conventional commit of type fix, feat, refactor or perf, up to the commit recorded there, gives
 * one example per changed source file (its content before and after, the label, the intent).
 *
 *   git clone --bare https://github.com/OWNER/NAME CLONES/OWNER+NAME     # for each repository
 *   deno run --allow-run=git --allow-read --allow-write bench/classifier/build_dataset.ts \
 *     --clones CLONES [--out .cache/classifier/dataset]
 *
 * Writes `<out>/OWNER+NAME.jsonl`, one {@linkcode Example} a line. Deterministic: the same clones
 * give the same files. Nothing here is committed; the repositories and commits are.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { isSourcePath, isTestPath, labelOf, parseSubject } from "./conventional.ts";
import { type Example, fnv1a, type RepoEntry, REPOS_FILE } from "./dataset.ts";

/** A commit reaching more source files than this is a sweep (formatting, renames): left out. */
const MAX_SOURCE_FILES_PER_COMMIT = 20;
/** At most this many files of one commit become examples, so big commits do not dominate. */
const MAX_FILES_PER_COMMIT = 3;
/** At most this many examples per repository, so the largest histories do not dominate. */
const MAX_EXAMPLES_PER_REPO = 2500;
/** Larger files are left out of the dataset (the classifier itself takes any size). */
const MAX_BLOB_BYTES = 256 * 1024;

interface Candidate {
  commit: string;
  subject: string;
  author: string;
  files: { path: string; before: string | null; after: string; status: string }[];
}

async function git(gitDir: string, args: string[], input?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command("git", {
    args: [`--git-dir=${gitDir}`, ...args],
    stdin: input ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (input) {
    const writer = child.stdin.getWriter();
    writer.write(input).then(() => writer.close()).catch(() => {});
  }
  const out = await child.output();
  if (!out.success) {
    throw new Error(
      `git ${args[0]} failed in ${gitDir}: ${new TextDecoder().decode(out.stderr).trim()}`,
    );
  }
  return out.stdout;
}

/** Parses `--raw -z` entries (after the header field) into file changes; deletions left out. */
function parseRawEntries(fields: string[]): Candidate["files"] {
  const files: Candidate["files"] = [];
  for (let i = 0; i < fields.length; i++) {
    const meta = fields[i]!.trim();
    if (!meta.startsWith(":")) continue;
    const [, , oldSha, newSha, status = ""] = meta.slice(1).split(/\s+/);
    const renamed = /^[RC]/.test(status);
    const path = renamed ? fields[i + 2] : fields[i + 1];
    i += renamed ? 2 : 1;
    if (!path || !oldSha || !newSha || status === "D") continue;
    files.push({ path, before: /^0+$/.test(oldSha) ? null : oldSha, after: newSha, status });
  }
  return files;
}

/**
 * Every non-merge commit up to `head` with its raw file changes. Renames are followed per commit,
 * only where a commit both adds and deletes files: a snapshot may lack some large blob, and rename
 * detection over the whole log stops at the first one. A commit whose renames cannot be read keeps
 * its modifications only (its additions might be renames).
 */
async function readHistory(gitDir: string, head: string): Promise<Candidate[]> {
  const raw = new TextDecoder().decode(
    await git(gitDir, [
      "log",
      "--no-merges",
      "--raw",
      "--no-abbrev",
      "--no-renames",
      "-z",
      "--format=%x1e%H%x1f%an%x1f%s",
      head,
    ]),
  );
  const commits: Candidate[] = [];
  let unreadableRenames = 0;
  for (const record of raw.split("\x1e")) {
    if (record === "") continue;
    const fields = record.split("\0");
    const [commit, author, subject] = (fields[0] ?? "").trim().split("\x1f");
    if (!commit || author === undefined || subject === undefined) continue;
    let files = parseRawEntries(fields.slice(1));
    const deletes = fields.some((f) => /^:\S+ \S+ \S+ \S+ D$/.test(f.trim()));
    if (deletes && files.some((f) => f.status === "A") && parseSubject(subject)) {
      try {
        const diff = new TextDecoder().decode(
          await git(gitDir, ["diff-tree", "-r", "-M", "--no-abbrev", "-z", "--raw", commit]),
        );
        files = parseRawEntries(diff.split("\0").slice(1));
      } catch {
        unreadableRenames++;
        files = files.filter((f) => f.status !== "A");
      }
    }
    commits.push({ commit, author, subject, files });
  }
  if (unreadableRenames > 0) {
    console.error(
      `${gitDir}: ${unreadableRenames} commits with unreadable renames kept modifications only`,
    );
  }
  return commits;
}

/** The contents of blobs by SHA, through one `git cat-file --batch`; binary or huge ones absent. */
async function readBlobs(gitDir: string, shas: string[]): Promise<Map<string, string | null>> {
  const out = await git(
    gitDir,
    ["cat-file", "--batch"],
    new TextEncoder().encode(shas.join("\n") + "\n"),
  );
  const blobs = new Map<string, string | null>();
  const decoder = new TextDecoder();
  let at = 0;
  for (const sha of shas) {
    const eol = out.indexOf(10, at);
    const header = decoder.decode(out.subarray(at, eol)).split(" ");
    at = eol + 1;
    if (header[1] === "missing") {
      blobs.set(sha, null);
      continue;
    }
    const size = Number(header[2]);
    const bytes = out.subarray(at, at + size);
    at += size + 1;
    blobs.set(sha, size > MAX_BLOB_BYTES || bytes.includes(0) ? null : decoder.decode(bytes));
  }
  return blobs;
}

async function buildRepo(entry: RepoEntry, gitDir: string): Promise<Example[]> {
  const history = await readHistory(gitDir, entry.commit);
  const chosen: { commit: Candidate; label: Example["label"]; type: string; intent: string }[] = [];
  const skipped = new Map<string, number>();
  for (const commit of history) {
    const subject = parseSubject(commit.subject);
    if (!subject) continue;
    const labelled = labelOf(subject, commit.author);
    if ("skip" in labelled) {
      skipped.set(labelled.skip, (skipped.get(labelled.skip) ?? 0) + 1);
      continue;
    }
    const sources = commit.files.filter((f) => isSourcePath(f.path));
    if (sources.length === 0 || sources.length > MAX_SOURCE_FILES_PER_COMMIT) continue;
    chosen.push({
      commit: { ...commit, files: sources },
      label: labelled.label,
      type: subject.type,
      intent: subject.intent,
    });
  }
  // Spread the sample over the whole history: order by a hash of the commit, not by date.
  chosen.sort((a, b) => fnv1a(a.commit.commit) - fnv1a(b.commit.commit));
  const picks: { c: (typeof chosen)[number]; file: Candidate["files"][number] }[] = [];
  for (const c of chosen) {
    const files = [...c.commit.files]
      .sort((a, b) => fnv1a(c.commit.commit + a.path) - fnv1a(c.commit.commit + b.path))
      .slice(0, MAX_FILES_PER_COMMIT);
    for (const file of files) picks.push({ c, file });
    if (picks.length >= MAX_EXAMPLES_PER_REPO * 1.2) break; // room for binary/huge files left out
  }
  const shas = [...new Set(picks.flatMap((p) => [p.file.before, p.file.after]))].filter((
    s,
  ): s is string => s !== null);
  const blobs = await readBlobs(gitDir, shas);
  const examples: Example[] = [];
  for (const { c, file } of picks) {
    const before = file.before === null ? "" : blobs.get(file.before);
    const after = blobs.get(file.after);
    if (before === null || before === undefined || after === null || after === undefined) continue;
    if (before === after) continue; // a pure rename or mode change
    examples.push({
      repo: entry.repo,
      commit: c.commit.commit,
      path: file.path,
      test: isTestPath(file.path),
      type: c.type,
      label: c.label,
      intent: c.intent,
      before,
      after,
    });
    if (examples.length >= MAX_EXAMPLES_PER_REPO) break;
  }
  console.error(
    `${entry.repo}: ${history.length} commits, ${chosen.length} labelled with source changes, ${examples.length} examples; left out: ${
      [...skipped].map(([k, v]) => `${k} ${v}`).join(", ")
    }`,
  );
  return examples;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      clones: { type: "string" },
      out: { type: "string", default: ".cache/classifier/dataset" },
      only: { type: "string" },
    },
  });
  if (!values.clones) {
    console.error(
      "error: --clones DIR is required: a folder holding OWNER+NAME git clones of the repositories in bench/classifier/repos.json",
    );
    Deno.exit(2);
  }
  const repos: RepoEntry[] = JSON.parse(await Deno.readTextFile(REPOS_FILE)).repos;
  await Deno.mkdir(values.out, { recursive: true });
  for (const entry of repos) {
    if (values.only && entry.repo !== values.only) continue;
    const gitDir = `${values.clones}/${entry.repo.replace("/", "+")}`;
    try {
      await Deno.stat(gitDir);
    } catch {
      console.error(
        `error: no clone of ${entry.repo} at ${gitDir}: git clone --bare https://github.com/${entry.repo} ${gitDir}`,
      );
      Deno.exit(1);
    }
    const examples = await buildRepo(entry, gitDir);
    await Deno.writeTextFile(
      `${values.out}/${entry.repo.replace("/", "+")}.jsonl`,
      examples.map((e) => JSON.stringify(e)).join("\n") + "\n",
    );
  }
}
