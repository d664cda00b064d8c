/**
 * A tracked file as it is on disk, made comparable with the stored versions: the hooks keep text
 * LF-normalised and with secrets redacted, so the disk file is read the same way before any
 * comparison — a secret on disk then equals its redacted stored line, and only redacted text ever
 * reaches the output.
 *
 * @module
 */

import { storableText } from "../store/code_storage.ts";
import { normalizeLineEndings } from "../record/pattern.ts";
import { redactSecrets } from "../record/privacy.ts";

/** The disk file read: its comparable text, or why there is none. */
export type DiskText = { kind: "text"; text: string } | { kind: "missing" | "unreadable" };

/**
 * The text of a file on disk as the store would keep it (pure): UTF-8, LF line endings, well-formed,
 * secrets redacted when `redact_secrets` is on — so a secret on disk compares equal to its stored,
 * redacted line and is never printed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { comparableText } from "./disk_text.ts";
 * assert.deepEqual(comparableText(new TextEncoder().encode("a\r\nb\r\n"), { redactSecrets: true }), "a\nb\n");
 * ```
 */
export function comparableText(bytes: Uint8Array, rules: { redactSecrets: boolean }): string {
  const text = storableText(normalizeLineEndings(new TextDecoder().decode(bytes)));
  return rules.redactSecrets ? redactSecrets(text).text : text;
}

/**
 * Reads a tracked file on disk for `blame` and `stats`; a missing or unreadable one is said so
 * (the reason goes to stderr) and the last tracked version stands for it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readDisk } from "./disk_text.ts";
 * assert.deepEqual(readDisk("/nonexistent/a.py", { redactSecrets: true }), { kind: "missing" });
 * ```
 */
export function readDisk(
  filePath: string,
  rules: { redactSecrets: boolean },
): DiskText {
  try {
    return { kind: "text", text: comparableText(Deno.readFileSync(filePath), rules) };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.NotADirectory) {
      return { kind: "missing" };
    }
    console.error(
      `note: ${filePath} could not be read (${
        (error as Error).message
      }); its last tracked version stands for it`,
    );
    return { kind: "unreadable" };
  }
}
