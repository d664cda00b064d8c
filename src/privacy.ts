/**
 * Privacy rules, all pure: which paths are tracked (include/exclude globs), and secret redaction
 * applied to code before anything is stored or sent.
 *
 * @module
 */

/** Paths never tracked unless the user overrides `exclude_paths`. */
export const DEFAULT_EXCLUDES: readonly string[] = [
  ".env",
  ".env.*",
  "*.env",
  "*.pem",
  "*.key",
  "*.p12",
  "*.pfx",
  "*.jks",
  "*.keystore",
  "*.kdbx",
  "id_rsa*",
  "id_dsa*",
  "id_ecdsa*",
  "id_ed25519*",
  ".netrc",
  ".npmrc",
  ".pypirc",
  ".pgpass",
  "credentials*",
  "secrets/",
  ".ssh/",
  ".aws/",
  ".gnupg/",
];

/**
 * Compiles a glob to a regular expression over a `/`-separated path. A pattern without `/` matches
 * the base name anywhere (as in `.gitignore`); a pattern ending in `/` matches a directory of that
 * name anywhere in the path; `**` crosses directories, `*` and `?` do not.
 *
 * @example
 * ```ts
 * import { globToRegExp } from "./privacy.ts";
 * globToRegExp("*.pem").test("/home/dev/certs/server.pem"); // true
 * globToRegExp("secrets/").test("/repo/config/secrets/db.yaml"); // true
 * globToRegExp("src/**\/*.ts").test("/repo/src/a/b.ts"); // true
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  const dirOnly = glob.endsWith("/");
  const body = dirOnly ? glob.slice(0, -1) : glob;
  let re = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === "*") {
      if (body[i + 1] === "*") {
        re += ".*";
        i++;
        if (body[i + 1] === "/") i++;
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const anchored = body.includes("/") && !body.startsWith("**")
    ? (body.startsWith("/") ? "^" : "(^|/)")
    : "(^|/)";
  return new RegExp(`${anchored}${re}${dirOnly ? "/" : "$"}`);
}

/**
 * Decides whether a file is tracked: not excluded, and included when an include list is given.
 *
 * @example
 * ```ts
 * import { DEFAULT_EXCLUDES, isPathTracked } from "./privacy.ts";
 * isPathTracked("/repo/.env.local", [], DEFAULT_EXCLUDES); // false
 * isPathTracked("/repo/app.py", ["*.py"], DEFAULT_EXCLUDES); // true
 * isPathTracked("/repo/app.js", ["*.py"], DEFAULT_EXCLUDES); // false
 * ```
 */
export function isPathTracked(
  filePath: string,
  include: readonly string[],
  exclude: readonly string[],
): boolean {
  const path = filePath.replaceAll("\\", "/").replace(/#.*$/, "");
  if (exclude.some((g) => globMatcher(g)(path))) return false;
  return include.length === 0 || include.some((g) => globMatcher(g)(path));
}

/**
 * A test for one glob, with exactly the meaning of {@linkcode globToRegExp}. The shapes of the
 * default excludes (a name, `*suffix`, `prefix*`, `name/`) are matched with string operations:
 * every hook checks its path against two dozen globs, and compiling them costs it half a
 * millisecond. Other globs are compiled.
 *
 * @example
 * ```ts
 * import { globMatcher } from "./privacy.ts";
 * globMatcher("*.pem")("/home/dev/certs/server.pem"); // true
 * globMatcher(".ssh/")("/home/dev/.ssh/config"); // true
 * ```
 */
export function globMatcher(glob: string): (path: string) => boolean {
  const dirOnly = glob.endsWith("/");
  const body = dirOnly ? glob.slice(0, -1) : glob;
  if (isLiteral(body)) {
    return dirOnly
      ? (path) => path.startsWith(`${body}/`) || path.includes(`/${body}/`)
      : (path) => path === body || path.endsWith(`/${body}`);
  }
  if (!dirOnly && body.startsWith("*") && isLiteral(body.slice(1))) {
    const suffix = body.slice(1);
    return (path) => baseName(path).endsWith(suffix);
  }
  if (!dirOnly && body.endsWith("*") && isLiteral(body.slice(0, -1))) {
    const prefix = body.slice(0, -1);
    return (path) => baseName(path).startsWith(prefix);
  }
  const re = globToRegExp(glob);
  return (path) => re.test(path);
}

function isLiteral(part: string): boolean {
  return !part.includes("*") && !part.includes("?") && !part.includes("/");
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** What redaction replaced, by kind. */
export interface Redaction {
  text: string;
  counts: Record<string, number>;
}

const KEY_WORDS =
  "(?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|auth)";

/** Every prefix of the token rules (`token: true`), in one expression. */
const TOKEN_PREFIXES = /eyJ|sk-|AKIA|ASIA|gh[pousr]_|github_pat_|xox[abposr]-|AIza|_live_|_test_/;

/** A cheap pre-check: the assignment rules' large expressions run only on code that may match. */
const KEY_WORDS_HINT = new RegExp(KEY_WORDS, "i");

/** Secret shapes, most specific first. Each replaces the secret only, keeping the code readable. */
const RULES: ReadonlyArray<
  {
    kind: string;
    re: RegExp;
    hint?: RegExp;
    token?: boolean;
    replace: (m: string, ...g: string[]) => string;
  }
> = [
  {
    kind: "private_key",
    hint: /PRIVATE KEY-----/,
    re: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g,
    replace: () => "[REDACTED:private_key]",
  },
  {
    kind: "connection_string",
    hint: /:\/\/[^\s/]*@/,
    re: /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^\s:/@'"]+):([^\s@'"/]+)@/g,
    replace: (_m, scheme, user) => `${scheme}${user}:[REDACTED:connection_string]@`,
  },
  {
    kind: "jwt",
    token: true,
    re: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
    replace: () => "[REDACTED:jwt]",
  },
  {
    kind: "anthropic_key",
    token: true,
    re: /\bsk-ant-[A-Za-z0-9_-]{16,}/g,
    replace: () => "[REDACTED:anthropic_key]",
  },
  {
    kind: "openai_key",
    token: true,
    re: /\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}/g,
    replace: () => "[REDACTED:openai_key]",
  },
  {
    kind: "aws_access_key",
    token: true,
    re: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
    replace: () => "[REDACTED:aws_access_key]",
  },
  {
    kind: "github_token",
    token: true,
    re: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g,
    replace: () => "[REDACTED:github_token]",
  },
  {
    kind: "slack_token",
    token: true,
    re: /\bxox[abposr]-[A-Za-z0-9-]{10,}/g,
    replace: () => "[REDACTED:slack_token]",
  },
  {
    kind: "google_api_key",
    token: true,
    re: /\bAIza[0-9A-Za-z_-]{35}\b/g,
    replace: () => "[REDACTED:google_api_key]",
  },
  {
    kind: "stripe_key",
    token: true,
    re: /\b(?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{16,}/g,
    replace: () => "[REDACTED:stripe_key]",
  },
  {
    kind: "bearer_token",
    hint: /Bearer|Basic/,
    re: /\b(Bearer|Basic)\s+([A-Za-z0-9._~+/-]{16,}=*)/g,
    replace: (_m, scheme) => `${scheme} [REDACTED:bearer_token]`,
  },
  {
    // password = "hunter2", "apiKey": "…", api_key: '…' — quoted literals only, so code such as
    // `password = read_password()` stays as it is.
    kind: "assigned_secret",
    hint: KEY_WORDS_HINT,
    re: new RegExp(
      `((["']?)[A-Za-z0-9_.-]*${KEY_WORDS}[A-Za-z0-9_.-]*\\2\\s*(?::=|=>|[:=])\\s*)(["'\`])(?![^"'\`\\n]*\\[REDACTED)([^"'\`\\n]{4,})\\3`,
      "gi",
    ),
    replace: (_m, lhs, _q, quote) => `${lhs}${quote}[REDACTED:assigned_secret]${quote}`,
  },
  {
    // .env style: API_TOKEN=abc123 at the start of a line, unquoted.
    kind: "assigned_secret",
    hint: KEY_WORDS_HINT,
    re: new RegExp(
      `^(\\s*(?:export\\s+)?[A-Za-z0-9_]*${KEY_WORDS}[A-Za-z0-9_]*=)(?!\\[REDACTED)([^\\s"'\`#]{4,})`,
      "gim",
    ),
    replace: (_m, lhs) => `${lhs}[REDACTED:assigned_secret]`,
  },
];

/**
 * Replaces secrets in code with `[REDACTED:<kind>]`, and counts them by kind.
 *
 * @example
 * ```ts
 * import { redactSecrets } from "./privacy.ts";
 * redactSecrets('db = "postgres://app:s3cret@db:5432/x"').text;
 * // 'db = "postgres://app:[REDACTED:connection_string]@db:5432/x"'
 * ```
 */
export function redactSecrets(code: string): Redaction {
  const counts: Record<string, number> = {};
  let text = code;
  // Most code holds no token at all: one cheap scan for the tokens' prefixes skips their rules.
  const mayHoldToken = TOKEN_PREFIXES.test(text);
  for (const rule of RULES) {
    if (rule.token && !mayHoldToken) continue;
    if (rule.hint && !rule.hint.test(text)) continue;
    text = text.replace(rule.re, (...args) => {
      counts[rule.kind] = (counts[rule.kind] ?? 0) + 1;
      const groups = args.slice(1, -2).map((g) => (typeof g === "string" ? g : ""));
      return rule.replace(args[0] as string, ...groups);
    });
  }
  return { text, counts };
}
