/**
 * Which files are tracked: `include_paths` and `exclude_paths` globs read like `.gitignore`, relative
 * to the project root for files inside it and absolute for files outside it. Pure, except
 * {@linkcode projectDirFromEnv}, the one place that reads where Claude Code says the project is.
 *
 * @module
 */

/**
 * Files never tracked unless the user overrides `exclude_paths`: environment files, key material,
 * credential stores and tool configurations that hold tokens (after the lists of secret-scanning
 * tools such as gitrob and shhgit). Matched without regard to case, as macOS and Windows file
 * systems do.
 */
export const DEFAULT_EXCLUDES: readonly string[] = [
  // Environment files.
  ".env",
  ".env.*",
  "*.env",
  ".envrc",
  // Keys, certificates with keys, key stores, password databases.
  "*.pem",
  "*.key",
  "*.p8",
  "*.p12",
  "*.pfx",
  "*.pkcs12",
  "*.ppk",
  "*.jks",
  "*.keystore",
  "*.keytab",
  "*.kdb",
  "*.kdbx",
  "*.ovpn",
  "id_rsa*",
  "id_dsa*",
  "id_ecdsa*",
  "id_ed25519*",
  "master.key",
  // Credential files of tools.
  ".netrc",
  "_netrc",
  ".npmrc",
  ".yarnrc.yml",
  ".pypirc",
  ".pgpass",
  ".my.cnf",
  ".git-credentials",
  ".htpasswd",
  ".dockercfg",
  ".s3cfg",
  ".boto",
  ".vault-token",
  ".terraformrc",
  "terraform.rc",
  "kubeconfig",
  "credentials",
  ".credentials",
  "credentials.json",
  "credentials.csv",
  "credentials.xml",
  "credentials.yml",
  "credentials.yaml",
  "*_credentials.csv",
  "accesskeys.csv",
  "client_secret*.json",
  "secrets.json",
  "secrets.yml",
  "secrets.yaml",
  "secrets.toml",
  // Terraform variables and state (state holds every secret in plain text).
  "*.tfvars",
  "*.tfvars.json",
  "*.tfstate",
  "*.tfstate.*",
  // Shell and database histories.
  ".bash_history",
  ".zsh_history",
  ".mysql_history",
  ".psql_history",
  // Folders.
  "secrets/",
  ".secrets/",
  ".ssh/",
  ".aws/",
  ".azure/",
  ".gnupg/",
  ".kube/",
  ".docker/",
  ".password-store/",
];

/** The environment variable in which Claude Code gives hooks the project's root directory. */
export const PROJECT_DIR_ENV = "CLAUDE_PROJECT_DIR";

/** The include and exclude globs (`include_paths`, `exclude_paths`). */
export interface PathRules {
  /** Globs of files to track; empty tracks every file not excluded. */
  include: readonly string[];
  /** Globs of files never tracked. */
  exclude: readonly string[];
}

/** Where the project is: the candidates for the root that rules are relative to. */
export interface PathContext {
  /** The hook payload's `cwd` (where Claude Code's shell is now). */
  cwd?: string | null;
  /** `CLAUDE_PROJECT_DIR` (where the session was started); wins over `cwd` when it holds the file. */
  projectDir?: string | null;
}

/** What the path rules say about one file path. */
export type PathDecision =
  | { kind: "tracked"; seenAs: string }
  | { kind: "excluded"; rule: string; seenAs: string }
  | { kind: "not_included"; seenAs: string }
  | { kind: "refused"; reason: string };

/**
 * Decides whether a file is tracked. Rules see the path relative to the project root (as
 * `/src/app.py`) when the file is inside it, and the absolute path when it is not: the first of
 * `projectDir` and `cwd` that contains the file is the root. Paths that are not paths of files
 * (empty, relative, the root, a directory, a NUL) are refused with the reason. A notebook cell
 * (`nb.ipynb#cell`) is matched as its notebook.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkPath, DEFAULT_EXCLUDES } from "./path_rules.ts";
 * const rules = { include: [], exclude: DEFAULT_EXCLUDES };
 * assert.equal(checkPath("/code/secrets/app.py", rules, { cwd: "/code/secrets" }).kind, "tracked");
 * assert.equal(checkPath("/code/secrets/.ENV", rules, { cwd: "/code/secrets" }).kind, "excluded");
 * assert.equal(checkPath("/code/app/secrets/db.py", rules, { cwd: "/code/app" }).kind, "excluded");
 * assert.equal(checkPath("notes.md", rules).kind, "refused");
 * ```
 */
export function checkPath(
  filePath: string,
  rules: PathRules,
  context: PathContext = {},
): PathDecision {
  const absolute = normalizeAbsolute(filePath, { notebookCell: true });
  if (typeof absolute !== "string") return { kind: "refused", reason: absolute.refused };
  let seenAs = absolute;
  for (const candidate of [context.projectDir, context.cwd]) {
    if (!candidate) continue;
    const root = normalizeAbsolute(candidate, { notebookCell: false });
    if (typeof root !== "string") continue;
    if (root === "/") break; // the file system root: every path is already relative to it
    if (absolute.startsWith(`${root}/`)) {
      seenAs = absolute.slice(root.length);
      break;
    }
  }
  // A rule anchored with a leading "/" also matches the absolute path, so that rules written as
  // absolute paths (`/home/me/client-x/`) keep working inside a project.
  const alsoAbsolute = seenAs === absolute ? null : absolute;
  for (const glob of rules.exclude) {
    if (matches(glob, seenAs, alsoAbsolute)) return { kind: "excluded", rule: glob, seenAs };
  }
  if (rules.include.length > 0 && !rules.include.some((g) => matches(g, seenAs, alsoAbsolute))) {
    return { kind: "not_included", seenAs };
  }
  return { kind: "tracked", seenAs };
}

/**
 * True when {@linkcode checkPath} tracks the file (kept for callers that need only a yes or no).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_EXCLUDES, isPathTracked } from "./path_rules.ts";
 * assert.equal(isPathTracked("/repo/.env.local", [], DEFAULT_EXCLUDES), false);
 * assert.equal(isPathTracked("/repo/app.py", ["*.py"], DEFAULT_EXCLUDES), true);
 * assert.equal(isPathTracked("/repo/app.js", ["*.py"], DEFAULT_EXCLUDES), false);
 * ```
 */
export function isPathTracked(
  filePath: string,
  include: readonly string[],
  exclude: readonly string[],
  context: PathContext = {},
): boolean {
  return checkPath(filePath, { include, exclude }, context).kind === "tracked";
}

/**
 * `CLAUDE_PROJECT_DIR` when the process may read it and it is set, else null (hooks run with
 * `--allow-env` limited to the variables they are granted; without it, rules use the payload's
 * `cwd`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectDirFromEnv } from "./path_rules.ts";
 * const saved = Deno.env.get("CLAUDE_PROJECT_DIR");
 * Deno.env.set("CLAUDE_PROJECT_DIR", "/home/dev/project");
 * assert.equal(projectDirFromEnv(), "/home/dev/project");
 * if (saved === undefined) Deno.env.delete("CLAUDE_PROJECT_DIR");
 * else Deno.env.set("CLAUDE_PROJECT_DIR", saved);
 * ```
 */
export function projectDirFromEnv(): string | null {
  try {
    return Deno.env.get(PROJECT_DIR_ENV) || null;
  } catch {
    return null; // not granted: the payload's cwd decides
  }
}

function matches(glob: string, seenAs: string, absolute: string | null): boolean {
  const test = globMatcher(glob);
  return test(seenAs) || (absolute !== null && glob.startsWith("/") && test(absolute));
}

/** A path that cannot be a file's, and why. */
interface Refusal {
  refused: string;
}

/**
 * The absolute path with `/` separators, `.` and `..` resolved, repeated separators collapsed, a
 * Windows drive written `/c:/…`, and lower-cased (rules ignore case); or why it is not a file path.
 */
function normalizeAbsolute(raw: string, options: { notebookCell: boolean }): string | Refusal {
  if (raw === "") return { refused: "the file path is empty" };
  if (raw.includes("\0")) return { refused: "the file path contains a NUL character" };
  let path = raw.replaceAll("\\", "/");
  // Only a notebook's cell suffix is cut: elsewhere "#" is an ordinary character of a name.
  if (options.notebookCell) path = path.replace(/(\.ipynb)#[^/]*$/i, "$1");
  if (/^[A-Za-z]:\//.test(path)) path = `/${path}`;
  else if (!path.startsWith("/")) {
    return { refused: `the file path ${JSON.stringify(raw)} is relative, not absolute` };
  }
  const segments: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  if (segments.length === 0 || (segments.length === 1 && /^[a-z]:$/i.test(segments[0]!))) {
    return { refused: `the file path ${JSON.stringify(raw)} is a file system root, not a file` };
  }
  if (/\/\.{0,2}$/.test(path)) {
    return { refused: `the file path ${JSON.stringify(raw)} names a directory, not a file` };
  }
  return `/${segments.join("/")}`.toLowerCase();
}

/**
 * Compiles a glob to a regular expression over a path as rules see it: lower case, starting with
 * `/` (the project root, or the file system root for files outside the project). The reference
 * meaning of every glob, as in `.gitignore`:
 * - without a `/` (or only a trailing one) it matches a file or folder name at any depth;
 * - with a `/` at the start or in the middle it is anchored at the root;
 * - a trailing `/` matches folders only; a match on a folder covers everything inside it;
 * - `*` and `?` stay within a name, `**` crosses folders; matching ignores case.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globToRegExp } from "./path_rules.ts";
 * assert.equal(globToRegExp("*.pem").test("/certs/server.pem"), true);
 * assert.equal(globToRegExp("secrets/").test("/config/secrets/db.yaml"), true);
 * assert.equal(globToRegExp("src/**\/*.ts").test("/src/a/b.ts"), true);
 * assert.equal(globToRegExp("src/**\/*.ts").test("/lib/src/b.ts"), false); // anchored at the root
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  const { body, dirOnly, anchored } = parseGlob(glob);
  if (body === "") return /(?!)/;
  let re = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === "*" && body[i + 1] === "*") {
      const before = i === 0 || body[i - 1] === "/";
      i++;
      if (before && body[i + 1] === "/") {
        re += "(?:[\\s\\S]*/)?";
        i++;
      } else re += "[\\s\\S]*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`${anchored ? "^/" : "/"}${re}${dirOnly ? "/" : "(?:/|$)"}`);
}

function parseGlob(glob: string): { body: string; dirOnly: boolean; anchored: boolean } {
  // String operations, not regular expressions: every hook parses every default glob once.
  const lower = glob.toLowerCase();
  let end = lower.length;
  while (end > 0 && lower.charCodeAt(end - 1) === SLASH) end--;
  const body = lower.slice(0, end);
  let start = 0;
  while (start < body.length && body.charCodeAt(start) === SLASH) start++;
  return { body: body.slice(start), dirOnly: end < lower.length, anchored: body.includes("/") };
}

const SLASH = 47; // "/"

const matcherCache = new Map<string, (path: string) => boolean>();

/**
 * A test for one glob over a path as rules see it, with exactly the meaning of
 * {@linkcode globToRegExp}. The shapes of the default excludes (a name, `*suffix`, `prefix*`,
 * `prefix*suffix`, `*middle*`, each optionally a folder `…/`) are matched with string operations:
 * every hook checks its path against every default, and compiling them all would cost it half a
 * millisecond. Other globs are compiled, once per process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globMatcher } from "./path_rules.ts";
 * assert.equal(globMatcher("*.PEM")("/certs/server.pem"), true);
 * assert.equal(globMatcher(".ssh/")("/home/dev/.ssh/config"), true);
 * ```
 */
export function globMatcher(glob: string): (path: string) => boolean {
  let test = matcherCache.get(glob);
  if (!test) {
    test = compileMatcher(glob);
    matcherCache.set(glob, test);
  }
  return test;
}

function compileMatcher(glob: string): (path: string) => boolean {
  const { body, dirOnly, anchored } = parseGlob(glob);
  if (body === "") return () => false;
  let stars = 0;
  for (let at = body.indexOf("*"); at >= 0; at = body.indexOf("*", at + 1)) stars++;
  if (!anchored && !body.includes("?") && !body.includes("**") && stars <= 2) {
    const first = body.indexOf("*");
    const last = body.lastIndexOf("*");
    if (stars === 0) {
      return dirOnly
        ? (path) => path.includes(`/${body}/`)
        : (path) => path.endsWith(`/${body}`) || path.includes(`/${body}/`);
    }
    if (stars === 1) {
      const prefix = body.slice(0, first);
      const suffix = body.slice(first + 1);
      if (prefix === "") {
        return dirOnly
          ? (path) => path.includes(`${suffix}/`) && someName(path, "", suffix, true)
          : (path) => path.endsWith(suffix) || path.includes(`${suffix}/`);
      }
      return (path) => path.includes(`/${prefix}`) && someName(path, prefix, suffix, dirOnly);
    }
    if (first === 0 && last === body.length - 1) {
      const middle = body.slice(1, -1);
      return (path) => {
        const at = path.indexOf(middle);
        return at >= 0 && (!dirOnly || path.indexOf("/", at + middle.length) >= 0);
      };
    }
  }
  const re = globToRegExp(glob);
  return (path) => re.test(path);
}

/** Whether some name in the path (a folder's only, when `folderOnly`) has the prefix and suffix. */
function someName(path: string, prefix: string, suffix: string, folderOnly: boolean): boolean {
  let start = path.indexOf("/");
  while (start >= 0) {
    const next = path.indexOf("/", start + 1);
    const end = next < 0 ? path.length : next;
    const nameLength = end - start - 1;
    if (
      (next >= 0 || !folderOnly) && nameLength >= prefix.length + suffix.length &&
      path.startsWith(prefix, start + 1) && path.endsWith(suffix, end)
    ) return true;
    start = next;
  }
  return false;
}
