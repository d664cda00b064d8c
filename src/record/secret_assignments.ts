/**
 * Secrets recognised by their name: values assigned to secret-sounding names (`*PASSWORD*`, `*PASS`,
 * `*SECRET*`, `*TOKEN*`, `*CREDENTIAL*`, `*_KEY`, `SIGNING*`, `ENCRYPTION*`, …) in the syntaxes
 * people write — code, JSON, YAML (block scalars too), TOML, .properties, .env, shell, Dockerfile,
 * Terraform (`variable "db_password" { default = … }`), XML, command-line flags, query strings and
 * connection strings.
 *
 * A literal is redacted; a reference is not: `os.environ["X"]`, `process.env.X`, `${DB_PASSWORD}`,
 * `$TOKEN`, `{{ .Values.x }}`, `<your-key-here>`, calls, member chains, type annotations and, in
 * code, bare identifiers. Names only weakly secret (`cache_key`, `auth`) need a value that looks
 * random. One scan for the names' stems finds the candidates; each is then read by hand, in time
 * linear in the text.
 *
 * @module
 */

import type { AddSpan } from "./secret_formats.ts";
import { MARK_PREFIX } from "./secret_kinds.ts";

/** Stems of secret-sounding names; every hit is read by {@linkcode nameStrength}. */
const NAME_STEMS = /pass|pwd|secret|token|cred|key|signing|encrypt|auth/gi;

/** How strongly a name says its value is secret. */
export type NameStrength = "strong" | "weak" | null;

/** Words that, last in a name, say it holds something about a secret, not the secret. */
const NOT_SECRET_TAIL = new Set(
  [
    "type types kind url uri urls endpoint host hostname port path paths file filename files dir",
    "directory folder name names id ids arn ref refs field fields input label text message msg",
    "error errors prompt placeholder hint title description desc help regex regexp pattern format",
    "header param params length len size count min max limit timeout ttl expiry expires",
    "expiration at date time version policy mode enabled required provider source store manager",
    "service class module handler validator validators strategy scheme prefix suffix separator",
    "location env var variable attr attribute property prop selector storage index idx column col",
    "table bucket list map dict schema spec stdin option options flag encoding algorithm alg",
    "callback fn func factory builder generator parser reader writer loader getter setter",
    "listener event events state status reset strength rules validation widget button component",
    "icon link page view route screen form hasher hashers tokenizer range",
  ].join(" ").split(" "),
);

/** Words that, first in a name, make it about secrets in general (`max_tokens`, `num_keys`). */
const NOT_SECRET_HEAD = new Set(["max", "min", "num", "total", "count", "public", "publishable"]);

/** Words before `key` that make it a secret key (`api_key`, `SIGNING_KEY`), not a cache key. */
const SECRET_KEY_QUALIFIERS = new Set(
  [
    "api access secret private signing sign encryption encrypt master auth client app service",
    "account license licence session hmac jwt webhook crypto cipher aes rsa ssh gpg pgp consumer",
    "admin root deploy subscription shared",
  ].join(" ").split(" "),
);

/** Stems that make any name strongly secret, wherever they are in it. */
const STRONG_STEM = /password|passwd|passphrase|secret|token|credential|creds/;
/** Words that hold a strong stem without being about a secret. */
const FALSE_STEM = /tokeniz|secretar|tokens$/;

/**
 * Splits a name into lower-case words: at `_`, `-`, `.`, spaces and camel-case humps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameWords } from "./secret_assignments.ts";
 * assert.deepEqual(nameWords("AWSSecretAccessKey"), ["aws", "secret", "access", "key"]);
 * ```
 */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[\s_.\-$@:/]+/)
    .filter((w) => w !== "");
}

/**
 * Whether a name says its value is secret: strongly (`DB_PASSWORD`, `api_key`, `SIGNING_KEY`),
 * weakly (`cache_key`, `auth`: only random-looking values are secrets), or not (`password_length`,
 * `token_url`, `max_tokens`, `public_key`). Only the name's last dotted part counts
 * (`spring.datasource.password`, `self.password`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nameStrength } from "./secret_assignments.ts";
 * assert.equal(nameStrength("POSTGRES_PASSWORD"), "strong");
 * assert.equal(nameStrength("storageKey"), "weak");
 * assert.equal(nameStrength("token_type"), null);
 * ```
 */
export function nameStrength(name: string): NameStrength {
  const trimmed = name.replace(/[.\-]+$/, "");
  const words = nameWords(trimmed.slice(trimmed.lastIndexOf(".") + 1));
  const last = words[words.length - 1];
  if (last === undefined || NOT_SECRET_TAIL.has(last) || NOT_SECRET_HEAD.has(words[0]!)) {
    return null;
  }
  if (words.some((w) => STRONG_STEM.test(w) && !FALSE_STEM.test(w))) return "strong";
  if (words[0] === "signing" || words[0] === "encryption") return "strong";
  if (last === "pass" || (last === "pwd" && words.length > 1)) return "strong";
  if (/^(?:api|access|private|secret|master|signing|encryption)keys?$/.test(last)) return "strong";
  if (last === "key" || last === "keys") {
    const before = words[words.length - 2];
    return before !== undefined && SECRET_KEY_QUALIFIERS.has(before) ? "strong" : "weak";
  }
  if (last === "auth" || last === "authorization") return "weak";
  return null;
}

/** Calls whose second argument is the value of the first: `define('DB_PASSWORD', '…')`. */
const SETTER_CALL =
  /\b(?:define|setenv|putenv|setdefault|getenv|get_env|env|setEnv)[ \t]*\([ \t]*$/i;

/** A type annotation followed by `=` (not `==`). */
const TYPE_THEN_ASSIGN =
  /[A-Za-z_][\w.]*(?:\[[^\]\n]{0,80}\])?(?:[ \t]*\|[ \t]*[A-Za-z_][\w.]*(?:\[[^\]\n]{0,80}\])?)*[ \t]+=(?![=>~])[ \t]*/y;

/** Where a value stands, which decides how an unquoted one reads. */
type Context = "env" | "yaml" | "inline" | "code";

/**
 * Finds every value assigned to a secret-sounding name and reports its span.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findAssignedSecrets } from "./secret_assignments.ts";
 * const spans: string[] = [];
 * const text = "POSTGRES_PASSWORD: hunter2\npassword = os.environ['DB']\n";
 * findAssignedSecrets(text, (s, e) => spans.push(text.slice(s, e)));
 * assert.deepEqual(spans, ["hunter2"]);
 * ```
 */
export function findAssignedSecrets(text: string, add: AddSpan): void {
  NAME_STEMS.lastIndex = 0;
  scan.valueEnd = 0;
  scan.lineAt = 0;
  scan.lineStart = 0;
  scan.lineEndFrom = 0;
  scan.lineEnd = -1;
  let match: RegExpExecArray | null;
  while ((match = NAME_STEMS.exec(text)) !== null) {
    let start = match.index;
    let end = match.index + match[0].length;
    while (start > 0 && isNameChar(text.charCodeAt(start - 1))) start--;
    while (end < text.length && isNameChar(text.charCodeAt(end))) end++;
    NAME_STEMS.lastIndex = end;
    if (end - start > 200) continue;
    const strength = nameStrength(text.slice(start, end));
    if (strength === null) continue;
    readAssignment(text, start, end, strength, add);
    // Names inside a value already read are part of it: read on after it (linear time).
    NAME_STEMS.lastIndex = Math.max(end, scan.valueEnd);
  }
  if (text.includes("variable")) terraformDefaults(text, add);
}

/**
 * The state of the scan in progress (scans are synchronous, one at a time): where the last value
 * read ends, and the start of the line of the last position asked, so that neither long values
 * nor long lines are read again for every name on them.
 */
const scan = { valueEnd: 0, lineAt: 0, lineStart: 0, lineEndFrom: 0, lineEnd: -1 };

/** Marks text up to `end` as read. */
function read(end: number): void {
  if (end > scan.valueEnd) scan.valueEnd = end;
}

function isNameChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) ||
    code === 95 || code === 46 || code === 45; // digits, letters, _ . -
}

/** Reads `name <operator> value` after a secret-sounding name, and reports the value if literal. */
function readAssignment(
  text: string,
  nameStart: number,
  nameEnd: number,
  strength: "strong" | "weak",
  add: AddSpan,
): void {
  const before = text[nameStart - 1] ?? "\n";
  const lineFirst = lineStartOf(text, nameStart);
  let at = nameEnd;
  // "password": … — the name is a string of its own; "shlex: token=" — the name is inside one.
  const nameQuote = `"'\``.includes(before) && text[at] === before ? before : null;
  const enclosing = nameQuote ? null : enclosingQuote(text, lineFirst, nameStart);
  if (nameQuote) at++;
  if (nameQuote && text[at] === "]") at++; // env["PASSWORD"] = …
  if (before === "<" && text[at] === ">") { // <password>…</password>
    const close = text.slice(at + 1, lineEndOf(text, at)).indexOf("</") + at + 1;
    if (close > at + 1) {
      literal(text, at + 1, close, strength, "env", add);
    }
    return;
  }
  const afterName = at;
  at = skipBlanks(text, at);
  const spacedOperator = at > afterName;
  const name = text.slice(nameStart, nameEnd);
  const isFlag = /^--?[A-Za-z]/.test(name);
  let operator = "";
  const c = text[at];
  const next = text[at + 1];
  if (c === "=" && next !== "=" && next !== "~") operator = next === ">" ? "=>" : "=";
  else if (c === ":" && next === "=") operator = ":=";
  else if (c === "?" && next === "=") operator = "?=";
  else if (c === ":" && next !== ":") operator = ":";
  else if (c === "," && nameQuote && SETTER_CALL.test(text.slice(lineFirst, nameStart - 1))) {
    operator = ","; // define('DB_PASSWORD', '…'), setdefault("SECRET_KEY", "…")
  } else if (spacedOperator && (isFlag || dockerInstruction(text, lineFirst, nameStart))) {
    operator = " "; // --password hunter2; Dockerfile ENV DB_PASSWORD hunter2
  }
  if (operator === "") return;
  at += operator === " " ? 0 : operator.length;
  let valueStart = skipBlanks(text, at);

  if (enclosing !== null) {
    // Inside a string: "X-Api-Key: abc", "…?token=abc&…", "Password=abc;…": up to the string's end.
    if (operator !== "=" && operator !== ":") return;
    let end = valueStart;
    const stop = /[\s&;,]/;
    while (end < text.length && text[end] !== enclosing && text[end] !== "\n") {
      if (stop.test(text[end] as string)) break;
      end++;
    }
    // Debugging output ("token=EOF") reads the same: only a value with a digit or a symbol counts.
    const value = text.slice(valueStart, end);
    read(end);
    const minimum = operator === "=" ? 1 : 6; // "Password=p@ss;", not "secrets: 32 characters"
    if (value.length >= minimum && /[^A-Za-z]/.test(value) || looksRandom(value)) {
      literal(text, valueStart, end, strength, "inline", add);
    }
    return;
  }

  let typed = false;
  if (operator === ":") {
    // password: str = "…", password: Optional[str] = None: a typed assignment.
    TYPE_THEN_ASSIGN.lastIndex = valueStart;
    const annotation = TYPE_THEN_ASSIGN.exec(text);
    if (annotation) {
      valueStart += annotation[0].length;
      typed = true;
    }
  }
  const lineStart = atLineStart(text, lineFirst, nameStart - (nameQuote ? 1 : 0));
  let context: Context;
  if (typed) context = "code";
  else if (lineStart && (operator === " " || operator === "=" && !spacedOperator)) context = "env";
  else if (lineStart && operator === ":") context = "yaml";
  else if (isFlag || operator === " ") context = "inline";
  else if (operator === "=" && !spacedOperator && valueStart === at && /[?&;\s]/.test(before)) {
    // In code, `f(a, password=pw)`; in a shell command, `-e DB_PASSWORD=hunter2`.
    const spaced = before === " " || before === "\t";
    context = spaced && !/^[A-Z][A-Z0-9_]*$/.test(name) ? "code" : "inline";
  } else context = "code";
  readValue(text, valueStart, strength, context, nameStart, add);
}

/** The quote that an unfinished string opened before `at` on its line, if any. */
function enclosingQuote(text: string, lineFirst: number, at: number): string | null {
  if (at - lineFirst > 400) return null; // a minified line: do not read it all for every name
  let open: string | null = null;
  for (let i = lineFirst; i < at; i++) {
    const c = text[i] as string;
    if (open !== null && c === "\\") i++;
    else if (open === null && (c === '"' || c === "'" || c === "`")) open = c;
    else if (c === open) open = null;
    else if (open === null && c === "#" && (i === lineFirst || /\s/.test(text[i - 1]!))) break;
  }
  return open;
}

function dockerInstruction(text: string, lineFirst: number, at: number): boolean {
  return /^[ \t]*(?:ENV|ARG)[ \t]+$/.test(text.slice(lineFirst, at));
}

/** Reads the value at `at` and reports it when it is a literal secret. */
function readValue(
  text: string,
  at: number,
  strength: "strong" | "weak",
  context: Context,
  nameStart: number,
  add: AddSpan,
): void {
  const c = text[at];
  if (c === undefined || c === "\n" || c === "\r") return; // a mapping follows, or nothing
  // String prefixes: b"…", r'…', f"…", @"…", $"…".
  let quoteAt = at;
  const prefix = /^(?:[bBrRuUfF]{1,2}|@|\$)(?=["'`])/.exec(text.slice(at, at + 3));
  if (prefix) quoteAt += prefix[0].length;
  const q = text[quoteAt];
  if (q === '"' || q === "'" || q === "`") {
    const interpolated = prefix !== null && /[fF$]/.test(prefix[0]);
    quoted(text, quoteAt, q, strength, interpolated, add);
    return;
  }
  if (c === "<" && text[at + 1] === "<" && context !== "yaml") {
    heredoc(text, at, strength, add);
    return;
  }
  if (context === "yaml" && (c === "|" || c === ">")) {
    blockScalar(text, at, nameStart, strength, add);
    return;
  }
  const lineEnd = lineEndOf(text, at);
  let end = at;
  if (context === "inline") {
    while (end < lineEnd && !/[\s"'`&;,)\]}<>]/.test(text[end] as string)) end++;
  } else {
    while (end < lineEnd && !/[\s;,)\]}]/.test(text[end] as string)) end++;
    const rest = text.slice(end, Math.min(lineEnd, end + 80));
    const restTrimmed = rest.trim();
    if (context === "env" || context === "yaml") {
      // `credentials=None, secure=None):`, `"TOKEN": None}`, `token: a ?? b,` are code.
      const whole = text.slice(at, lineEnd).replace(/[ \t]+(?:#|\/\/).*$/, "").trimEnd();
      if (
        (/^[,;)\]}]/.test(rest) && /^[\w.$]+$/.test(text.slice(at, end))) || /[,;]$/.test(whole) ||
        /\s(?:===?|!==?|\?\?|\|\||&&|\?|\+|-)\s/.test(whole)
      ) {
        if (restTrimmed !== "" && !/^[;,)\]}]*$/.test(restTrimmed)) return read(end);
        context = "code";
      } else {
        end = lineEnd;
        const comment = text.slice(at, lineEnd).search(/[ \t]#/);
        if (comment >= 0) end = at + comment;
      }
    } else if (
      restTrimmed !== "" &&
      !/^[;,)\]}]*\s*(?:(?:#|\/\/).*)?$/.test(restTrimmed + (lineEnd > end + 80 ? "…" : ""))
    ) {
      return read(end); // more code after the first token (`a + b`, `x if y else z`): an expression
    }
  }
  while (end > at && /[ \t\r]/.test(text[end - 1] as string)) end--;
  literal(text, at, end, strength, context, add);
}

/** Reports `text[start, end)` unless it is a reference, a placeholder, code or (weak names) words. */
function literal(
  text: string,
  start: number,
  end: number,
  strength: "strong" | "weak",
  context: Context,
  add: AddSpan,
): void {
  read(end);
  const value = text.slice(start, end);
  if (!mayBeSecret(value) || isCodeValue(value, strength, context)) return;
  if (strength === "weak" && !looksRandom(value)) return;
  add(start, end, "assigned_secret");
}

/** A quoted value: the contents, when they are a literal secret. */
function quoted(
  text: string,
  quoteAt: number,
  q: string,
  strength: "strong" | "weak",
  interpolated: boolean,
  add: AddSpan,
): void {
  const triple = text.startsWith(q.repeat(3), quoteAt) && q !== "`";
  const start = quoteAt + (triple ? 3 : 1);
  let end: number;
  if (triple) {
    end = text.slice(start, start + MAX_VALUE).indexOf(q.repeat(3));
    if (end < 0) return;
    end += start;
  } else {
    end = start;
    const limit = q === "`" ? Math.min(text.length, start + MAX_VALUE) : lineEndOf(text, start);
    while (end < limit) {
      const c = text[end];
      if (c === "\\") end += 2;
      else if (c === q && q === "'" && text[end + 1] === "'" && end > start) end += 2; // YAML 'it''s'
      else if (c === q) break;
      else end++;
    }
    end = Math.min(end, limit);
  }
  read(end);
  const value = text.slice(start, end);
  if (!mayBeSecret(value) || isProse(value)) return;
  const hasInterpolation = /\$\{|#\{/.test(value) || (interpolated && /\{/.test(value));
  if (strength === "weak" || hasInterpolation) {
    const literalParts = value.split(/\$\{[^}]*\}|#\{[^}]*\}|\{[^}]*\}/);
    if (!literalParts.some(looksRandom)) return;
  }
  add(start, end, "assigned_secret");
}

/** `<<EOF … EOF` (Terraform, shell): the body. */
function heredoc(text: string, at: number, strength: "strong" | "weak", add: AddSpan): void {
  const head = /<<[-~]?[ \t]*(["']?)([A-Za-z_][A-Za-z0-9_]*)\1[^\n]*\n/y;
  head.lastIndex = at;
  const found = head.exec(text);
  if (!found) return;
  const start = at + found[0].length;
  const close = new RegExp(`^[ \\t]*${found[2]}[ \\t]*$`, "m");
  const rest = text.slice(start, start + MAX_VALUE);
  const closing = close.exec(rest);
  if (!closing) return;
  let end = start + closing.index;
  read(end);
  while (end > start && /\s/.test(text[end - 1] as string)) end--;
  if (end > start && (strength === "strong" || looksRandom(text.slice(start, end)))) {
    if (!text.slice(start, end).includes(MARK_PREFIX)) add(start, end, "assigned_secret");
  }
}

/** A YAML block scalar (`password: |`): the lines indented more than the key. */
function blockScalar(
  text: string,
  at: number,
  nameStart: number,
  strength: "strong" | "weak",
  add: AddSpan,
): void {
  if (!/^[|>][-+]?\d?[ \t]*(?:#.*)?$/.test(text.slice(at, lineEndOf(text, at)))) return;
  const keyIndent = nameStart - lineStartOf(text, nameStart);
  let lineStart = lineEndOf(text, at) + 1;
  const limit = Math.min(text.length, lineStart + MAX_VALUE);
  let start = -1;
  let end = -1;
  while (lineStart < limit) {
    const lineEnd = lineEndOf(text, lineStart);
    const line = text.slice(lineStart, lineEnd);
    const indent = line.length - line.trimStart().length;
    if (line.trim() !== "") {
      if (indent <= keyIndent) break;
      if (start < 0) start = lineStart + indent;
      end = lineEnd;
    }
    lineStart = lineEnd + 1;
  }
  if (start < 0) return;
  read(end);
  while (end > start && /\s/.test(text[end - 1] as string)) end--;
  const value = text.slice(start, end);
  if (value.includes(MARK_PREFIX) || (strength === "weak" && !looksRandom(value))) return;
  add(start, end, "assigned_secret");
}

/** Terraform: `variable "db_password" { … default = "…" … }`. */
function terraformDefaults(text: string, add: AddSpan): void {
  const variable = /\bvariable[ \t]+"([^"\n]{1,100})"[ \t]*\{/g;
  let match: RegExpExecArray | null;
  while ((match = variable.exec(text)) !== null) {
    const strength = nameStrength(match[1] as string);
    if (strength === null) continue;
    const blockStart = match.index + match[0].length;
    const window = text.slice(blockStart, blockStart + 2048);
    const blockEnd = window.indexOf("\n}");
    const block = blockEnd < 0 ? window : window.slice(0, blockEnd);
    const defaultAt = /\bdefault[ \t]*=[ \t]*/.exec(block);
    if (!defaultAt) continue;
    const at = blockStart + defaultAt.index + defaultAt[0].length;
    readValue(text, at, strength, "code", at, add);
  }
}

/** References and placeholders, which hold no secret: `${X}`, `$X`, `{{ x }}`, `<your-key>`, … */
const REFERENCE_PART =
  /<%=?[^%]*%>|%[-+ #0]*\d*(?:\.\d+)?[sdifxXrcoeEgG]|\{\d*\}|\$\{\{[^}]*\}\}|\$\{[A-Za-z_][A-Za-z0-9_.]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}]*\}\}|%\([A-Za-z0-9_]+\)[sd]|%[A-Za-z_][A-Za-z0-9_]*%|<[A-Za-z][A-Za-z0-9 _.-]*>/g;

function isReference(value: string): boolean {
  const trimmed = value.trim();
  if (/^!(?:secret|vault|env_var|ENV)\b/.test(trimmed)) return true; // YAML tags that fetch it
  if (/^\*[A-Za-z_]/.test(trimmed)) return true; // YAML alias
  const stripped = trimmed.replace(REFERENCE_PART, "");
  return stripped !== trimmed && !/[A-Za-z0-9]/.test(stripped);
}

/**
 * False for what holds no secret whatever the syntax: nothing alphanumeric, a redaction already,
 * a reference or placeholder, a label, or a key block's header (the key rule reads those).
 */
function mayBeSecret(value: string): boolean {
  return /[A-Za-z0-9]/.test(value) && !value.includes(MARK_PREFIX) && !value.startsWith("-----") &&
    !isReference(value) && !isLabel(value) && !PLACEHOLDER.test(value.trim());
}

/** Values that stand for a secret in examples and templates. */
const PLACEHOLDER =
  /^(?:(?:bearer|basic|token) +)?(?:x{3,}|\*{3,}|\.{3,}|_{3,}|your[\w-]*|changeme|change_me|placeholder|redacted|dummy|example|todo|tbd|none|empty|null|include|omit|same-origin|anonymous)$/i;

/** Text with spaces over several lines or long: documentation, not a password. */
function isProse(value: string): boolean {
  return /\s/.test(value) && (value.length > 64 || /\\n|\n/.test(value));
}

/** Words that, alone or in a sentence, make a quoted value a label or a message. */
const LABEL_WORD = /\b(?:password|passwd|passphrase|secret|token|key|credential|api)s?\b/i;

function isLabel(value: string): boolean {
  const trimmed = value.trim().replace(/[:.!?*]+$/, "");
  if (/\s/.test(trimmed)) return LABEL_WORD.test(trimmed);
  // One word built of words, one of them a secret's name and no digit: use-credentials,
  // SuperSecretToken, invalid_password — enumerations and labels, not issued secrets.
  return /^[A-Za-z][A-Za-z_.-]*$/.test(trimmed) &&
    nameWords(trimmed).some((w) => SECRET_WORD.test(w));
}

const SECRET_WORD = /^(?:password|passwd|passphrase|secret|token|credential|key|api)s?$/;

const KEYWORDS = new Set(
  [
    "null none nil undefined true false yes no on off string str number int integer float double",
    "bool boolean bytes any unknown object void never char secretstr required optional self this",
    "new await function lambda async def return",
  ].join(" ").split(" "),
);

/** Whether an unquoted value is code (a call, a member chain, a type, an identifier in code). */
function isCodeValue(value: string, strength: "strong" | "weak", context: Context): boolean {
  const v = value.trim();
  if (KEYWORDS.has(v.toLowerCase())) return true;
  if (/^-?\d+(?:\.\d+)?$/.test(v)) return v.replace(/\D/g, "").length < 6;
  if (/^[([{!&]/.test(v)) return true;
  if (context === "code" && /^[\w.$]+\*[\w.$]/.test(v)) return true; // 1*tchar: a product
  if (/^(?:new|await|function|lambda|async)\b/.test(v)) return true;
  const chain = /^[A-Za-z_$@][\w$]*(?:(?:\.|\?\.|::|->)[A-Za-z_$][\w$]*)*/.exec(v);
  if (chain) {
    const rest = v.slice(chain[0].length);
    if (/^\s*[([]/.test(rest)) return true; // a call or a subscript
    if (rest === "") {
      if (/\.|::|->/.test(chain[0])) return true; // a member chain
      // A bare identifier: code in code, a literal in .env and YAML unless it names a secret
      // itself (`token: accessToken`, `PASSWORD=DB_PASSWORD`).
      if (context === "code" || context === "inline" && strength === "weak") {
        return !looksRandom(v);
      }
      // camelCase without digits is a reference too (`withCredentials: kEnumerableProperty`).
      return !/\d/.test(v) && (nameStrength(v) !== null || /[a-z][A-Z]/.test(v));
    }
    if (/^\s*(?:\||\[\]|<|\?$)/.test(rest) && context !== "env") return true; // str | None, T[]
  }
  return false;
}

/**
 * Whether a value looks issued by a machine rather than written by a person: long enough, one
 * token, with digits among letters and not a chain of words (`user_settings_v2`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { looksRandom } from "./secret_assignments.ts";
 * assert.equal(looksRandom("9f8e7d6c5b4a39281706f5e4d3c2b1a0"), true);
 * assert.equal(looksRandom("user-settings-v2"), false);
 * ```
 */
export function looksRandom(value: string): boolean {
  const v = value.trim();
  if (v.length < 16 || v.length > 4096 || /\s/.test(v)) return false;
  if (!/\d/.test(v) || !/[A-Za-z]/.test(v)) return false;
  if (/^[0-9a-f-]{32,}$/i.test(v)) return true; // hex, UUIDs
  if (v.split(/[._:/-]/).every((part) => /^[a-z]*\d{0,3}$/i.test(part))) return false; // words
  let transitions = 0;
  for (let i = 1; i < v.length; i++) {
    if (/\d/.test(v[i]!) !== /\d/.test(v[i - 1]!)) transitions++;
  }
  return transitions >= 4 || (/[+/=]/.test(v) && /[a-z]/.test(v) && /[A-Z]/.test(v));
}

function skipBlanks(text: string, at: number): number {
  while (text[at] === " " || text[at] === "\t") at++;
  return at;
}

/** The longest line, value or block read for one name: longer ones are data, not assignments. */
const MAX_VALUE = 16384;

/** Where the line of `at` ends, at most {@linkcode MAX_VALUE} ahead; each line is searched once. */
function lineEndOf(text: string, at: number): number {
  if (at < scan.lineEndFrom || at > scan.lineEnd) {
    const end = text.indexOf("\n", at);
    scan.lineEnd = end < 0 ? text.length : end;
    scan.lineEndFrom = at;
  }
  return Math.min(scan.lineEnd, at + MAX_VALUE);
}

/** Where the line of `at` starts; positions asked move forward, so each line is read once. */
function lineStartOf(text: string, at: number): number {
  if (at < scan.lineAt) return text.lastIndexOf("\n", at - 1) + 1;
  for (let i = at - 1; i >= scan.lineAt; i--) {
    if (text.charCodeAt(i) === 10) {
      scan.lineStart = i + 1;
      break;
    }
  }
  scan.lineAt = at;
  return scan.lineStart;
}

/** Whether only indentation, a YAML list dash or a shell keyword stands before `at` on its line. */
function atLineStart(text: string, lineFirst: number, at: number): boolean {
  if (at - lineFirst > 60) return false;
  return /^[ \t]*(?:- |(?:export|set|setx|local|readonly|declare(?: -x)?|typeset|ENV|ARG)[ \t]+)?[ \t]*$/
    .test(text.slice(lineFirst, at));
}
