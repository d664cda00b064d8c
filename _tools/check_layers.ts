/**
 * Checks the layering of `src/` (run by `deno task check`): the module graph comes from
 * `deno info --json` (so comments and examples do not count, and `import type` is told apart), and
 * every import that breaks a rule is printed on its own line with the rule it breaks.
 *
 * The rules:
 * 1. Nothing under `src/` imports `tests/` (or `bench/`, `_tools/`).
 * 2. Only `src/cli/` imports `src/cli/`.
 * 3. A pure module (listed in {@linkcode PURE}) imports only pure modules and no I/O built-in: its
 *    value imports are all pure; a type-only import of anything is allowed.
 *
 * The rules name the folders of the data path (`src/record/`, `src/store/`, `src/delivery/`,
 * `src/views/`, `src/config/`, `src/cli/`); a listed module or folder that does not exist is
 * skipped, so the list can name where a module is going before it gets there.
 *
 * Usage: `deno run --allow-read --allow-run --allow-write=<tmp> _tools/check_layers.ts [ROOT]`
 *
 * @module
 */

/**
 * The pure modules (data in, data out; no file system, network, SQLite, process or clock of their
 * own), relative to the root: a path ending in `/` is every module of that folder.
 */
export const PURE: readonly string[] = [
  // Recording: payloads, pattern IDs, lineage rules, path rules, redaction, line patches.
  "src/payload.ts",
  "src/pattern.ts",
  "src/language.ts",
  "src/lineage.ts",
  "src/record/transformation.ts",
  "src/record/transformation_weights.ts",
  "src/record/transformation_intent.ts",
  "src/record/intent_weights.ts",
  "src/record/prompt_intent.ts",
  "src/path_rules.ts",
  "src/record/secrets.ts",
  "src/record/secret_assignments.ts",
  "src/record/secret_formats.ts",
  "src/record/secret_kinds.ts",
  "src/line_patch.ts",
  "src/inflate.ts",
  "src/record/privacy.ts",
  "src/record/payload.ts",
  "src/record/pattern.ts",
  "src/record/language.ts",
  "src/record/lineage.ts",
  "src/record/path_rules.ts",
  "src/record/line_patch.ts",
  "src/store/line_patch.ts",
  "src/store/myers.ts",
  "src/store/inflate.ts",
  // Configuration: the schema and the resolver.
  "src/config/schema.ts",
  "src/config/resolve.ts",
  "src/config/flat_yaml.ts",
  // Delivery rules: the requests, the plan, the breaker, the answers.
  "src/delivery/events.ts",
  "src/delivery/plan.ts",
  "src/delivery/breaker.ts",
  "src/delivery/phase4_answers.ts",
  "src/delivery/answer_reading.ts",
  // Views: the computations (reading the store is blame_history, stats_history, queries).
  "src/views/blame.ts",
  "src/views/blame_runs.ts",
  "src/views/line_match.ts",
  "src/views/stats.ts",
  "src/views/graph.ts",
  "src/views/report.ts",
  "src/views/formats.ts",
  "src/views/lineage_json.ts",
  // The command line's declaration and parsing of commands, and its errors. (A command's file
  // under commands/ is not pure: its `run` loads the command's work.)
  "src/cli/command.ts",
  "src/cli/errors.ts",
  // Not listed yet: src/permissions.ts builds flags without I/O, but takes the journal's second
  // place from src/journal.ts (which does I/O); list it once that name lives in a pure module.
];

/** Built-in modules that do I/O: a pure module imports none of them. */
export const IO_BUILTINS: readonly string[] = [
  "node:sqlite",
  "node:fs",
  "node:fs/promises",
  "node:child_process",
  "node:net",
  "node:http",
  "node:https",
  "node:zlib",
  "node:os",
  "node:process",
];

/** Folders of the root that `src/` must never import. */
const NOT_FROM_SRC = ["tests/", "bench/", "_tools/"];

/** One broken rule: which module imports what, and why that is not allowed. */
export interface Violation {
  from: string;
  to: string;
  rule: string;
}

interface Dependency {
  specifier: string;
  code?: { specifier?: string };
  type?: { specifier?: string };
}

interface InfoModule {
  specifier: string;
  dependencies?: Dependency[];
}

/** Every `.ts` file under `dir` (relative to `root`), or none when `dir` does not exist. */
function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(`${root}/${rel}`)];
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const e of entries) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory) walk(path);
      else if (e.isFile && e.name.endsWith(".ts")) out.push(path);
    }
  };
  walk(dir);
  return out.sort();
}

/** Whether a module (relative path) is declared pure. */
export function isPure(path: string, pure: readonly string[] = PURE): boolean {
  return pure.some((p) => p.endsWith("/") ? path.startsWith(p) : path === p);
}

/**
 * The rules applied to one import (pure): `from` imports `to` (paths relative to the root, or a
 * built-in's specifier), as a value import or for types only.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importViolations } from "./check_layers.ts";
 * assert.deepEqual(importViolations("src/views/graph.ts", "src/cli/lineage.ts", true), [
 *   { from: "src/views/graph.ts", to: "src/cli/lineage.ts", rule: "only src/cli/ imports src/cli/" },
 * ]);
 * assert.deepEqual(importViolations("src/cli/main.ts", "src/cli/errors.ts", false), []);
 * ```
 */
export function importViolations(
  from: string,
  to: string,
  typeOnly: boolean,
  pure: readonly string[] = PURE,
): Violation[] {
  const found: Violation[] = [];
  if (!from.startsWith("src/")) return found;
  for (const folder of NOT_FROM_SRC) {
    if (to.startsWith(folder)) {
      found.push({ from, to, rule: `nothing under src/ imports ${folder}` });
    }
  }
  if (to.startsWith("src/cli/") && !from.startsWith("src/cli/")) {
    found.push({ from, to, rule: "only src/cli/ imports src/cli/" });
  }
  if (!typeOnly && isPure(from, pure)) {
    if (IO_BUILTINS.includes(to)) {
      found.push({ from, to, rule: "a pure module imports no I/O built-in" });
    } else if (to.startsWith("src/") && !isPure(to, pure)) {
      found.push({ from, to, rule: "a pure module imports only pure modules (or types)" });
    }
  }
  return found;
}

/**
 * Checks every module under `root/src/`; returns the broken rules (none: the layering holds).
 * Runs `deno info --json` once, on a temporary module that imports them all.
 */
export async function checkLayers(
  root: string,
  pure: readonly string[] = PURE,
): Promise<Violation[]> {
  const files = sourceFiles(root, "src");
  if (files.length === 0) return [];
  const tmp = Deno.makeTempDirSync({ prefix: "check-layers-" });
  try {
    const entry = `${tmp}/all.ts`;
    Deno.writeTextFileSync(
      entry,
      files.map((f) => `import ${JSON.stringify(`file://${root}/${f}`)};`).join("\n") + "\n",
    );
    const args = ["info", "--json", "--no-lock"];
    try {
      Deno.statSync(`${root}/deno.json`);
      args.push(`--config=${root}/deno.json`);
    } catch { /* a tree without deno.json */ }
    const out = await new Deno.Command(Deno.execPath(), {
      args: [...args, entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(out.stderr).trim()}`);
    }
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
    const prefix = `file://${root}/`;
    const relative = (specifier: string) =>
      specifier.startsWith(prefix) ? decodeURIComponent(specifier.slice(prefix.length)) : specifier;
    const violations: Violation[] = [];
    for (const module of info.modules) {
      const from = relative(module.specifier);
      for (const dep of module.dependencies ?? []) {
        const target = dep.code?.specifier ?? dep.type?.specifier ?? dep.specifier;
        violations.push(...importViolations(from, relative(target), dep.code === undefined, pure));
      }
    }
    return violations;
  } finally {
    Deno.removeSync(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  const root = (Deno.args[0] ?? Deno.cwd()).replace(/\/+$/, "");
  const violations = await checkLayers(Deno.realPathSync(root));
  for (const v of violations) console.error(`layering: ${v.from} imports ${v.to}: ${v.rule}`);
  if (violations.length > 0) {
    console.error(
      `${violations.length} layering violation(s); the rules are in _tools/check_layers.ts.`,
    );
    Deno.exit(1);
  }
  console.log("layering: ok");
}
