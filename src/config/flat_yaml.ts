/**
 * A reader for the flat subset of YAML a tracker config uses (`key: scalar`, comments, one-line
 * `[a, b]` lists and `- item` lists), so a hook does not load a full YAML parser on every run:
 * loading and first use of js-yaml cost a hook about 6 ms, a third of Deno's own start-up.
 *
 * It never guesses: anything outside the subset (anchors, tags, block scalars, escapes, odd number
 * or null spellings, duplicate keys, ...) returns `undefined`, and the caller parses the text with
 * js-yaml's JSON schema instead. Inside the subset it gives exactly what js-yaml gives; a
 * differential test checks that on the shipped file and on generated documents.
 *
 * @module
 */

/** One scalar of the subset: a string, a non-negative decimal number, or a boolean. */
export type FlatScalar = string | number | boolean;

/** A document of the subset: keys to scalars, lists of scalars, or null (`key:` alone). */
export type FlatDocument = Record<string, FlatScalar | FlatScalar[] | null>;

const KEY_LINE = /^([A-Za-z_][A-Za-z0-9_]*):(?:[ ]+(.*))?$/;
const LIST_ITEM = /^([ ]*)-(?:[ ]+(.*))?$/;
const DECIMAL = /^(?:0|[1-9][0-9]*)(?:\.[0-9]+)?$/;
/** Plain scalars start with a letter, `/`, or `~/` (a home path); nothing YAML gives meaning to. */
const PLAIN_START = /^(?:[A-Za-z/]|~\/)/;
/** Spellings js-yaml's JSON schema turns into null or booleans, other than `true` and `false`. */
const SPECIAL_WORD = /^(?:null|true|false)$/i;

/**
 * Parses `text` when it is inside the flat subset; `undefined` means "not sure, use a full YAML
 * parser". An empty or comment-only text gives `{}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlatYaml } from "./flat_yaml.ts";
 * assert.deepEqual(parseFlatYaml("timeout_seconds: 2.0  # seconds\nstore_code: false\n"), {
 *   timeout_seconds: 2,
 *   store_code: false,
 * });
 * assert.equal(parseFlatYaml("base: &anchor x"), undefined); // anchors are outside the subset
 * ```
 */
export function parseFlatYaml(text: string): FlatDocument | undefined {
  const lines = (text.startsWith("\uFEFF") ? text.slice(1) : text).split("\n");
  const document: FlatDocument = {};
  // The key whose value is a `- item` list being read, and that list's indentation.
  let listKey: string | null = null;
  let listIndent = -1;
  for (const raw of lines) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.includes("\t") || line.includes("\r")) return undefined;
    if (/^[ ]*(?:#.*)?$/.test(line)) continue; // blank or comment
    const item = LIST_ITEM.exec(line);
    if (item) {
      if (listKey === null) return undefined;
      const indent = (item[1] as string).length;
      if (listIndent === -1) listIndent = indent;
      else if (indent !== listIndent) return undefined;
      const text = stripComment(item[2] ?? "");
      if (text === undefined || text.startsWith("[")) return undefined;
      const value = parseScalar(text, "block");
      if (value === undefined || value === null) return undefined;
      const list = document[listKey];
      if (Array.isArray(list)) list.push(value);
      else document[listKey] = [value];
      continue;
    }
    const entry = KEY_LINE.exec(line);
    if (!entry) return undefined;
    const key = entry[1] as string;
    if (key === "__proto__" || Object.hasOwn(document, key)) return undefined;
    const rest = stripComment(entry[2] ?? "");
    if (rest === undefined) return undefined;
    listKey = null;
    listIndent = -1;
    if (rest === "") {
      document[key] = null; // a `- item` list may follow
      listKey = key;
      continue;
    }
    if (rest.startsWith("[")) {
      const list = parseFlowList(rest);
      if (list === undefined) return undefined;
      document[key] = list;
      continue;
    }
    const value = parseScalar(rest, "block");
    if (value === undefined) return undefined;
    document[key] = value;
  }
  return document;
}

/** The value part without a trailing ` # comment`; a `#` right after a quote is outside the subset. */
function stripComment(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed.startsWith("#")) return "";
  if (trimmed.startsWith('"') || trimmed.startsWith("'")) {
    const quote = trimmed[0] as string;
    const end = trimmed.indexOf(quote, 1);
    if (end === -1) return undefined;
    const after = trimmed.slice(end + 1);
    if (after !== "" && !/^[ ]+(?:#.*)?$/.test(after)) return undefined;
    return trimmed.slice(0, end + 1);
  }
  const hash = trimmed.indexOf(" #");
  return (hash === -1 ? trimmed : trimmed.slice(0, hash)).trimEnd();
}

function parseFlowList(text: string): FlatScalar[] | undefined {
  if (!text.endsWith("]")) return undefined;
  const inner = text.slice(1, -1).trim();
  if (inner === "") return [];
  const items: FlatScalar[] = [];
  for (const part of inner.split(",")) {
    const value = parseScalar(part.trim(), "flow");
    if (value === undefined || value === null) return undefined;
    items.push(value);
  }
  return items;
}

/**
 * One scalar, already stripped of its comment. `null` for an empty value, `undefined` outside the
 * subset. In a flow list (`[a, b]`) plain scalars may not contain flow indicators.
 */
function parseScalar(text: string, context: "block" | "flow"): FlatScalar | null | undefined {
  if (text === "") return context === "block" ? null : undefined;
  const quote = text[0];
  if (quote === '"' || quote === "'") {
    // Only quotes without escapes: `\` in double quotes and `''` in single quotes are left to js-yaml.
    if (text.length < 2 || !text.endsWith(quote)) return undefined;
    const inner = text.slice(1, -1);
    if (inner.includes(quote) || (quote === '"' && inner.includes("\\"))) return undefined;
    return inner;
  }
  if (DECIMAL.test(text)) return Number(text);
  if (text === "true") return true;
  if (text === "false") return false;
  if (SPECIAL_WORD.test(text)) return undefined; // True, NULL, ...: let js-yaml decide
  if (!PLAIN_START.test(text)) return undefined;
  if (/:(?: |$)| #/.test(text)) return undefined; // a nested mapping or a comment
  if (context === "flow" && /[[\]{},]/.test(text)) return undefined;
  if (context === "block" && /[[\]{}]/.test(text)) return undefined;
  return text;
}
