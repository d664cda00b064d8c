/**
 * Claude Code's `settings.json` on disk: read (a clear error for a file that is not a JSON object),
 * and written through a symlink (the link stays, its target changes), atomically, with a backup,
 * leaving no temporary file behind on failure.
 *
 * @module
 */

import { CliError } from "./errors.ts";

/** A JSON object, as settings.json and its hook entries are. */
export type Json = Record<string, unknown>;

/**
 * Whether a parsed JSON value is an object (not an array, not null).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isObject } from "./settings_file.ts";
 * assert.deepEqual([isObject({}), isObject([]), isObject(null)], [true, false, false]);
 * ```
 */
export function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Reads a settings file (through a symlink): `{}` when missing; a clear error when it is not a JSON
 * object, so that we never overwrite a file we could not read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings } from "./settings_file.ts";
 * assert.deepEqual(readSettings("/nonexistent/settings.json"), {});
 * ```
 */
export function readSettings(path: string): Json {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw new CliError(
      `cannot read ${path}: ${
        (error as Error).message
      }. Check the file, or pass --settings with another one`,
    );
  }
  if (text.trim() === "") return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new CliError(
      `${path} is not valid JSON (${
        (error as Error).message
      }); fix it or pass --settings with another file. Nothing was changed.`,
    );
  }
  if (!isObject(data)) throw new CliError(`${path} must hold a JSON object. Nothing was changed.`);
  return data;
}

/**
 * The file a settings path stands for: itself, or, through any chain of symlinks (a dotfiles
 * repository's copy), the file at the end, which need not exist yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingsTarget } from "./settings_file.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.symlinkSync(`${dir}/dotfiles.json`, `${dir}/settings.json`);
 * assert.equal(settingsTarget(`${dir}/settings.json`), `${dir}/dotfiles.json`);
 * ```
 */
export function settingsTarget(path: string): string {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    let link: string;
    try {
      if (!Deno.lstatSync(current).isSymlink) return current;
      link = Deno.readLinkSync(current);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return current;
      throw error;
    }
    current = link.startsWith("/") ? link : `${parentDir(current)}/${link}`;
  }
  throw new CliError(`${path} is a chain of more than 40 symlinks; point it at a file`);
}

function parentDir(path: string): string {
  return path.replace(/[\\/][^\\/]*$/, "") || "/";
}

/**
 * Writes settings: a backup of the old content beside `path` (`settings.json.bak-<timestamp>`),
 * then the new content into a temporary file beside the real file and a rename over it. A symlinked
 * `path` stays a symlink and its target gets the new content; the file keeps its mode. A crash
 * never leaves half a file, and a failure leaves nothing behind (no temporary file, no backup)
 * and throws an error that says what to do. Returns the backup's path, or null when there was no
 * file yet.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeSettings } from "./settings_file.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(writeSettings(`${dir}/settings.json`, { model: "opus" }), null); // nothing to back up
 * ```
 */
export function writeSettings(path: string, settings: Json): string | null {
  const target = settingsTarget(path);
  const fail = (what: string, error: unknown): never => {
    throw new CliError(
      `cannot write ${what}: ${(error as Error).message}. Nothing was changed; ` +
        `check the space and permissions of ${
          parentDir(what)
        }, or pass --settings with another file`,
    );
  };
  try {
    Deno.mkdirSync(parentDir(target), { recursive: true });
  } catch (error) {
    fail(target, error);
  }
  let old: Uint8Array | null = null;
  let mode = 0o600;
  try {
    old = Deno.readFileSync(target);
    mode = (Deno.statSync(target).mode ?? mode) & 0o777;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) fail(target, error);
  }
  let backup: string | null = null;
  if (old !== null) {
    backup = `${path}.bak-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    try {
      Deno.writeFileSync(backup, old, { mode: 0o600, createNew: true });
    } catch (error) {
      // A backup of the same millisecond is someone else's: leave it.
      if (!(error instanceof Deno.errors.AlreadyExists)) removeQuietly(backup);
      fail(backup, error);
    }
  }
  const tmp = `${target}.tmp-${Deno.pid}`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(settings, null, 2) + "\n", { mode });
    Deno.chmodSync(tmp, mode); // the mode given at creation is narrowed by the umask
    Deno.renameSync(tmp, target);
  } catch (error) {
    removeQuietly(tmp);
    if (backup) removeQuietly(backup);
    fail(target, error);
  }
  return backup;
}

function removeQuietly(path: string): void {
  try {
    Deno.removeSync(path);
  } catch { /* never made, or already gone */ }
}
