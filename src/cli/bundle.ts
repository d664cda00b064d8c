/**
 * Hook bundles: `install` runs `deno bundle` on each hook script so Claude Code starts two
 * JavaScript files per hook — the hook's own and one chunk of code it shares with its rare paths —
 * instead of thirty TypeScript modules. Deno reads, hashes and loads each module on every start
 * (about a quarter of a millisecond a module, comments included); the bundle holds only code.
 *
 * Each hook is bundled on its own: the bundler puts every file into the chunk of the set of entry
 * points that use it, so bundling both hooks together would give the pre hook the post hook's
 * code (redaction, the diff) wherever they share a file, and split the shared code into more
 * chunks. Code a hook rarely runs (`src/record/rare.ts`, js-yaml) stays in chunks loaded on
 * demand. The hooks are run with `--v8-flags=--no-lazy` (`permissions.ts` `compileFlag`), so
 * whatever a hook loads is compiled once into Deno's code cache: what it loads should be what it
 * runs.
 *
 * The bundle lives in `build/` directly under the checkout, so the paths the code derives from
 * `import.meta.url` (the checkout for the flusher, `config.yaml` beside it) stay what they are in
 * the sources. `build/SOURCES` holds a digest of the sources it was made from, so `status` and
 * `selftest` can tell when it is older than the checkout.
 *
 * @module
 */

/** Directory of the bundled hooks, directly under the checkout. */
export const BUNDLE_DIR = "build";

/** File in {@linkcode BUNDLE_DIR} with the digest of the sources the bundle was made from. */
export const BUNDLE_STAMP = "SOURCES";

/**
 * The hook scripts by hook, each bundled on its own: the one list the bundle, its staleness check
 * and its paths come from (a new hook script is one line here).
 */
export const HOOK_SCRIPTS = {
  pre: "pre_hook.ts",
  post: "post_hook.ts",
  prompt: "prompt_hook.ts",
} as const;

/** Paths of the bundled hook scripts, by hook. */
export type BundledHooks = { [hook in keyof typeof HOOK_SCRIPTS]: string };

/** A hook script's bundled file name (`pre_hook.ts` → `pre_hook.js`). */
function bundledName(script: string): string {
  return script.replace(/\.ts$/, ".js");
}

/**
 * The `deno bundle` arguments for one hook script (pure).
 *
 * @example
 * ```ts
 * import { bundleArgs } from "./bundle.ts";
 * bundleArgs("/pt", "/pt/build.tmp", "pre_hook.ts").includes("--code-splitting"); // true
 * ```
 */
export function bundleArgs(root: string, outDir: string, script: string): string[] {
  return [
    "bundle",
    "--quiet",
    "--platform=deno",
    // The rare paths (src/record/rare.ts) and js-yaml are loaded on demand: chunks of their own.
    "--code-splitting",
    `--config=${root}/deno.json`,
    `--outdir=${outDir}`,
    `${root}/${script}`,
  ];
}

/**
 * Digest of everything a bundle is made from: the hook scripts, `src/`, `deno.json` and
 * `deno.lock`, in a fixed order.
 *
 * @example
 * ```ts
 * import { sourcesDigest } from "./bundle.ts";
 * const digest = await sourcesDigest("/path/to/checkout"); // "9f2c…" (64 hex characters)
 * ```
 */
export async function sourcesDigest(root: string): Promise<string> {
  const files = [...Object.values(HOOK_SCRIPTS), "deno.json", "deno.lock"];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(`${root}/${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".ts")) files.push(path);
    }
  };
  walk("src");
  files.sort();
  const parts: Uint8Array[] = [];
  const encoder = new TextEncoder();
  for (const file of files) {
    let content: Uint8Array;
    try {
      content = Deno.readFileSync(`${root}/${file}`);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) continue;
      throw error;
    }
    parts.push(encoder.encode(`${file}\0${content.length}\0`), content);
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** State of the hook bundle in a checkout. */
export type BundleState = "fresh" | "stale" | "absent";

/**
 * Whether `build/` holds a bundle of the current sources.
 *
 * @example
 * ```ts
 * import { bundleState } from "./bundle.ts";
 * await bundleState("/path/to/checkout"); // "fresh", "stale" or "absent"
 * ```
 */
export async function bundleState(root: string): Promise<BundleState> {
  let stamp: string;
  try {
    stamp = Deno.readTextFileSync(`${root}/${BUNDLE_DIR}/${BUNDLE_STAMP}`).trim();
    for (const script of Object.values(HOOK_SCRIPTS)) {
      Deno.statSync(`${root}/${BUNDLE_DIR}/${bundledName(script)}`);
    }
  } catch {
    return "absent";
  }
  return stamp === await sourcesDigest(root) ? "fresh" : "stale";
}

/** Runs `deno bundle` on one hook script; throws what it said when it fails. */
async function runBundler(p: { deno: string; root: string }, outDir: string, script: string) {
  const output = await new Deno.Command(p.deno, {
    args: bundleArgs(p.root, outDir, script),
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim();
    throw new Error(
      `deno bundle failed (exit ${output.code}): ${
        stderr.split("\n").slice(0, 3).join(" ") || "no message"
      }`,
    );
  }
}

/**
 * Bundles the hooks into `<root>/build`, replacing an earlier bundle only once the new one is
 * complete. Throws an error that says what failed (e.g. the bundler could not be downloaded).
 *
 * @example
 * ```ts
 * import { bundleHooks } from "./bundle.ts";
 * const { post } = await bundleHooks({ deno: Deno.execPath(), root: "/path/to/checkout" });
 * ```
 */
export async function bundleHooks(p: { deno: string; root: string }): Promise<BundledHooks> {
  const digest = await sourcesDigest(p.root);
  const target = `${p.root}/${BUNDLE_DIR}`;
  // Built beside the target (same depth under the checkout, same file system for the rename).
  const staging = `${p.root}/${BUNDLE_DIR}.tmp-${Deno.pid}`;
  try {
    Deno.removeSync(staging, { recursive: true }); // left by a crashed run with our PID
  } catch { /* the usual case: nothing there */ }
  try {
    // Each hook apart (see the module), one after the other: the chunks' names are hashes of their
    // content, so the two share a directory (js-yaml's chunk is the same file for both).
    for (const script of Object.values(HOOK_SCRIPTS)) await runBundler(p, staging, script);
    for (const script of Object.values(HOOK_SCRIPTS)) {
      Deno.statSync(`${staging}/${bundledName(script)}`);
    }
    Deno.writeTextFileSync(`${staging}/${BUNDLE_STAMP}`, `${digest}\n`);
    const previous = `${p.root}/${BUNDLE_DIR}.old-${Deno.pid}`;
    let hadPrevious = true;
    try {
      Deno.renameSync(target, previous);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      hadPrevious = false;
    }
    Deno.renameSync(staging, target);
    if (hadPrevious) Deno.removeSync(previous, { recursive: true });
  } finally {
    try {
      Deno.removeSync(staging, { recursive: true });
    } catch { /* moved into place, or never made */ }
  }
  return Object.fromEntries(
    Object.entries(HOOK_SCRIPTS).map((
      [hook, script],
    ) => [hook, `${target}/${bundledName(script)}`]),
  ) as BundledHooks;
}
