/**
 * Which Deno the installed hooks run with. Its path is written into settings.json, so it must
 * outlast the install: never a binary inside a package manager's cache (`npx -y deno@…` runs one
 * from `~/.npm/_npx/<hash>/`, which npm deletes when it cleans its cache, and every hook would then
 * fail with "not found"). In order: `--deno PATH` (or `PATTERN_TRACKER_DENO`); the Deno running
 * install, when it is not in such a cache; `deno` on PATH; `~/.deno/bin/deno`; one installed
 * earlier into `<data dir>/deno`; else one installed there now from npm (`deno@<this version>`,
 * whose postinstall links the platform package's binary to `node_modules/deno/deno`).
 *
 * @module
 */

import { CliError } from "./errors.ts";

/** Path fragments of package managers' caches and installs (npm, npx, pnpm, bun, yarn). */
export const PACKAGE_CACHE_MARKERS: readonly string[] = [
  "/_npx/",
  "/.npm/",
  "/node_modules/",
  "/.pnpm-store/",
  "/pnpm/dlx/",
  "/.bun/install/cache/",
  "/.yarn/berry/cache/",
];

/** Where the chosen Deno came from. */
export type DenoSource = "option" | "running" | "path" | "deno-install" | "data-dir" | "npm";

/** The Deno the hooks will run with. */
export interface ChosenDeno {
  /** Its real path (symlinks resolved: `--allow-run` must name the real file). */
  path: string;
  version: string;
  source: DenoSource;
  /** Candidates passed over, and why (for install's report). */
  skipped: string[];
  /** Why the explicit choice may not last, if it may not. */
  warning?: string;
}

/** The file system and process access {@linkcode chooseDeno} needs (tests pass fakes). */
export interface DenoProbe {
  /** The real path of an executable regular file, or null. */
  executable(path: string): string | null;
  /** `deno --version`'s version, or null when it does not run. */
  version(path: string): Promise<string | null>;
  /** Installs `deno@version` from npm under `prefix`; throws with npm's message. */
  npmInstall(prefix: string, version: string): Promise<void>;
}

/** Inputs of {@linkcode chooseDeno}. */
export interface DenoChoice {
  /** `--deno PATH` or `PATTERN_TRACKER_DENO`: used as given (with a warning if it is in a cache). */
  explicit?: string;
  /** The Deno running install (`Deno.execPath()`) and its version (the minimum for the others). */
  running: { path: string; version: string };
  /** `PATH`, split on `:`. */
  path: string[];
  home: string;
  /** `<data dir>/deno`: ours, so not a cache even though it holds a node_modules. */
  managedDir: string;
}

/**
 * True for a path inside a package manager's cache or someone else's node_modules (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inPackageCache } from "./stable_deno.ts";
 * assert.equal(inPackageCache("/root/.npm/_npx/7a40/node_modules/deno/deno", "/d/deno"), true);
 * assert.equal(inPackageCache("/d/deno/node_modules/deno/deno", "/d/deno"), false);
 * assert.equal(inPackageCache("/usr/local/bin/deno", "/d/deno"), false);
 * ```
 */
export function inPackageCache(path: string, managedDir: string): boolean {
  if (path.startsWith(`${managedDir}/`)) return false;
  return PACKAGE_CACHE_MARKERS.some((marker) => path.includes(marker));
}

/**
 * Compares two `major.minor.patch` versions (pure): negative, zero or positive.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareVersions } from "./stable_deno.ts";
 * assert.ok(compareVersions("2.10.0", "2.9.6") > 0);
 * assert.equal(compareVersions("2.9.6", "2.9.6"), 0);
 * ```
 */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).slice(0, 3).map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Where npm's `deno` package puts the binary under a prefix: the linked one, else the platform's. */
function managedCandidates(managedDir: string): string[] {
  const modules = `${managedDir}/node_modules`;
  const found = [`${modules}/deno/deno`];
  try {
    for (const entry of Deno.readDirSync(`${modules}/@deno`)) {
      found.push(`${modules}/@deno/${entry.name}/deno`);
    }
  } catch { /* not installed */ }
  return found;
}

/**
 * Chooses the Deno the hooks run with (see the module's description for the order). Throws an
 * error that says what to do when none can be found or installed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseDeno, realDenoProbe } from "./stable_deno.ts";
 * const chosen = await chooseDeno({
 *   running: { path: Deno.execPath(), version: Deno.version.deno },
 *   path: (Deno.env.get("PATH") ?? "").split(":"),
 *   home: Deno.env.get("HOME") ?? "/root",
 *   managedDir: "/home/me/.claude/pattern-tracker/deno",
 * }, realDenoProbe);
 * assert.ok(chosen.path.startsWith("/"), chosen.path);
 * ```
 */
export async function chooseDeno(c: DenoChoice, probe: DenoProbe): Promise<ChosenDeno> {
  const skipped: string[] = [];
  if (c.explicit) {
    const path = probe.executable(c.explicit);
    const version = path ? await probe.version(path) : null;
    if (!path || !version) {
      throw new CliError(
        `the Deno given (${c.explicit}) does not run; pass --deno with the path of a working deno`,
      );
    }
    const warning = inPackageCache(path, c.managedDir)
      ? `${path} is inside a package manager's cache: the hooks stop recording when it is cleaned`
      : undefined;
    return { path, version, source: "option", skipped, ...(warning ? { warning } : {}) };
  }
  const candidates: [DenoSource, string][] = [
    ["running", c.running.path],
    ...c.path.filter((dir) => dir !== "").map((dir): [DenoSource, string] => [
      "path",
      `${dir}/deno`,
    ]),
    ["deno-install", `${c.home}/.deno/bin/deno`],
    ...managedCandidates(c.managedDir).map((p): [DenoSource, string] => ["data-dir", p]),
  ];
  const seen = new Set<string>();
  for (const [source, candidate] of candidates) {
    const path = probe.executable(candidate);
    if (!path || seen.has(path)) continue;
    seen.add(path);
    if (inPackageCache(path, c.managedDir)) {
      skipped.push(`${path} (in a package manager's cache)`);
      continue;
    }
    const version = source === "running" ? c.running.version : await probe.version(path);
    if (!version) {
      skipped.push(`${path} (does not run)`);
      continue;
    }
    if (compareVersions(version, c.running.version) < 0) {
      skipped.push(`${path} (Deno ${version}, older than ${c.running.version})`);
      continue;
    }
    return { path, version, source, skipped };
  }
  try {
    await probe.npmInstall(c.managedDir, c.running.version);
  } catch (error) {
    throw new CliError(
      `no lasting Deno found (passed over: ${
        skipped.join("; ") || "none on PATH or in ~/.deno/bin"
      }) ` +
        `and npm could not install deno@${c.running.version} into ${c.managedDir}: ${
          (error as Error).message
        }. Install Deno (https://docs.deno.com/runtime/getting_started/installation/) or pass --deno PATH`,
    );
  }
  for (const candidate of managedCandidates(c.managedDir)) {
    const path = probe.executable(candidate);
    const version = path ? await probe.version(path) : null;
    if (path && version) return { path, version, source: "npm", skipped };
  }
  throw new CliError(
    `npm installed deno@${c.running.version} into ${c.managedDir}, but no runnable deno binary is there ` +
      `(was it installed with --ignore-scripts?). Install Deno yourself or pass --deno PATH`,
  );
}

/**
 * The real {@linkcode DenoProbe}: stat and realpath, `deno --version`, `npm install --prefix`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { realDenoProbe } from "./stable_deno.ts";
 * assert.deepEqual(await realDenoProbe.version(Deno.execPath()), "2.9.6");
 * ```
 */
export const realDenoProbe: DenoProbe = {
  executable(path) {
    try {
      const real = Deno.realPathSync(path);
      const info = Deno.statSync(real);
      return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0 ? real : null;
    } catch {
      return null;
    }
  },
  async version(path) {
    try {
      const out = await new Deno.Command(path, {
        args: ["--version"],
        stdin: "null",
        stdout: "piped",
        stderr: "null",
        clearEnv: true,
      }).output();
      const match = /^deno (\d+\.\d+\.\d+)/.exec(new TextDecoder().decode(out.stdout));
      return out.success && match ? match[1]! : null;
    } catch {
      return null;
    }
  },
  async npmInstall(prefix, version) {
    Deno.mkdirSync(prefix, { recursive: true, mode: 0o700 });
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("npm", {
        args: [
          "install",
          "--prefix",
          prefix,
          "--no-audit",
          "--no-fund",
          "--loglevel=error",
          `deno@${version}`,
        ],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
    } catch (error) {
      throw new Error(`npm did not start (${(error as Error).message})`);
    }
    if (!out.success) {
      const stderr = new TextDecoder().decode(out.stderr).trim().split("\n");
      throw new Error(`npm exited ${out.code}: ${stderr.slice(0, 2).join(" ") || "no message"}`);
    }
  },
};
