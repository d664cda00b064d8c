/**
 * What the post hook writes: patterns with their code (kept as a line patch against the parent's
 * stored text, or a snapshot: `code_storage.ts`), file versions, lineage edges, and the versions
 * queued in the outbox — and reading a pattern's code back.
 *
 * @module
 */

import {
  encodeCode,
  isCompressed,
  isSnapshot,
  MAX_CHAIN,
  MIN_PATCH_TEXT,
  patchOf,
  snapshotCode,
  snapshotText,
  storableText,
  type StoredCode,
} from "./code_storage.ts";
import { applyLinePatches, type LinePatchError } from "./line_patch.ts";
import { normalizeLineEndings } from "../record/pattern.ts";
import { StoreConnection } from "./connection.ts";
import {
  type CodeRow,
  type LineageEdgeRow,
  type NewPatternRow,
  PATTERN_WITH_CODE,
  type PatternParent,
  type PatternRow,
  StoredCodeError,
  toCodeRow,
  toPattern,
} from "./pattern_rows.ts";
import type { FileVersion } from "./rows.ts";

/**
 * The store as the post hook writes it (see the module). Open with `openStore` (the whole store)
 * or `openStoreAs` (`open.ts`).
 */
export class RecordingStore extends StoreConnection {
  /**
   * Inserts a pattern unless its ID is already stored; returns true when inserted. The code is kept
   * as a line patch against `parent`'s stored text when that is smaller, else as a snapshot (see
   * `src/store/code_storage.ts`). A stored pattern without code (omitted, or pruned) gets this code back.
   */
  insertPattern(p: NewPatternRow): boolean {
    // Insert first: a new pattern (the hook's common case) then costs no lookup.
    const inserted = this.run(
      `INSERT INTO patterns (pattern_id, language, line_count, byte_size, code, first_seen_at, code_omitted, redacted_secrets)
       VALUES (?, ?, ?, ?, NULL, ?, ?, ?) ON CONFLICT (pattern_id) DO NOTHING`,
      p.patternId,
      p.language,
      p.lineCount,
      p.byteSize,
      p.firstSeenAt,
      p.code === null ? p.codeOmitted ?? null : null,
      p.redactedSecrets ?? 0,
    ) > 0;
    if (p.code === null) return inserted;
    if (inserted) {
      this.#putCode(p.patternId, this.#encodeNewCode(storableText(p.code), p.parent));
      return true;
    }
    const existing = this.row(
      `SELECT p.code IS NOT NULL OR c.pattern_id IS NOT NULL AS has_code
       FROM patterns p LEFT JOIN pattern_code c ON c.pattern_id = p.pattern_id WHERE p.pattern_id = ?`,
      p.patternId,
    );
    if (existing?.has_code !== 0) return false;
    // A stored pattern without code (omitted, or pruned): nothing depends on it, so any base and
    // depth is safe.
    this.writeCode(p.patternId, this.#encodeNewCode(storableText(p.code), p.parent), null);
    this.run(
      "UPDATE patterns SET redacted_secrets = ? WHERE pattern_id = ?",
      p.redactedSecrets ?? 0,
      p.patternId,
    );
    return false;
  }

  /** A stored pattern with its code read back, or undefined. */
  pattern(patternId: string): PatternRow | undefined {
    const r = this.row(`${PATTERN_WITH_CODE} WHERE p.pattern_id = ?`, patternId);
    return r && { ...toPattern(r), code: this.fullText(toCodeRow(r)) };
  }

  /** How one pattern's code is kept, or undefined when the pattern is not stored. */
  codeRow(patternId: string): CodeRow | undefined {
    const r = this.row(`${PATTERN_WITH_CODE} WHERE p.pattern_id = ?`, patternId);
    return r && toCodeRow(r);
  }

  /**
   * Appends a version to its file's chain and returns its row ID (`file_versions.id`, what the
   * outbox refers to). The caller picks `version` inside a transaction.
   */
  insertVersion(v: FileVersion): number {
    return Number(this.insertVersionRow(v, "").lastInsertRowid);
  }

  /** Inserts a version row; `onConflict` is the statement's conflict clause. */
  protected insertVersionRow(v: FileVersion, onConflict: string) {
    return this.stmt(
      `INSERT INTO file_versions (file_path, version, pattern_id, parent_pattern_id, event_type,
         transformation_type, tool_name, tool_use_id, session_id, correlation_id, reason, created_at,
         change_lines_added, change_lines_removed, change_duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ${onConflict}`,
    ).run(
      v.filePath,
      v.version,
      v.patternId,
      v.parentPatternId,
      v.eventType,
      v.transformationType,
      v.toolName,
      v.toolUseId,
      v.sessionId,
      v.correlationId,
      v.reason,
      v.createdAt,
      v.changeLinesAdded ?? null,
      v.changeLinesRemoved ?? null,
      v.changeDurationMs ?? null,
    );
  }

  /** Records a lineage edge (idempotent); true when it was new. */
  insertEdge(e: LineageEdgeRow): boolean {
    return this.run(
      `INSERT INTO lineage_edges (child_pattern_id, parent_pattern_id, edge_type, transformation_type, file_path, created_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      e.child,
      e.parent,
      e.edgeType,
      e.transformationType,
      e.filePath,
      e.createdAt,
    ) > 0;
  }

  /**
   * Queues a file version for delivery: a reference, not a copy (the request is assembled when it
   * is sent). Queuing a version twice keeps one entry. `inDoubt`: the server may already hold it
   * (an import of another store's history), so the flusher asks before sending.
   */
  enqueueVersion(versionId: number, at: string, options: { inDoubt?: boolean } = {}): void {
    this.run(
      "INSERT INTO outbox (version_id, queued_at, in_doubt) VALUES (?, ?, ?) ON CONFLICT (version_id) DO NOTHING",
      versionId,
      at,
      options.inDoubt ? 1 : 0,
    );
  }

  /** Recently read texts, keyed by pattern ID, with the row they were read from. */
  readonly #texts = new Map<string, { text: string; fingerprint: string }>();

  protected writeCode(patternId: string, stored: StoredCode | null, omitted: string | null): void {
    this.#texts.delete(patternId);
    // Delete and insert anew rather than update in place: the new row goes to the end of the
    // table, and the pages the old rows leave behind empty out and become free pages, which
    // incremental vacuum returns to the file system. Updated in place, a row made smaller leaves
    // its page mostly empty, and only a full VACUUM (not allowed here) would reclaim that.
    this.run("DELETE FROM pattern_code WHERE pattern_id = ?", patternId);
    if (stored !== null) this.#putCode(patternId, stored);
    this.run(
      `UPDATE patterns SET code = NULL, code_omitted = ?
       WHERE pattern_id = ? AND (code IS NOT NULL OR code_omitted IS NOT ?)`,
      omitted,
      patternId,
      omitted,
    );
  }

  #putCode(patternId: string, stored: StoredCode): void {
    this.run(
      `INSERT INTO pattern_code (pattern_id, format, base, depth, chain_bytes, length, data)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (pattern_id) DO UPDATE SET format = excluded.format, base = excluded.base,
         depth = excluded.depth, chain_bytes = excluded.chain_bytes, length = excluded.length,
         data = excluded.data`,
      patternId,
      stored.format,
      stored.base,
      stored.depth,
      stored.chainBytes,
      stored.textLength,
      stored.data,
    );
  }

  /**
   * How to store a new pattern's text: a patch against the parent's stored text when the parent
   * keeps code and the text is not small (MIN_PATCH_TEXT), else a snapshot. The parent's text comes from the payload when it is the stored
   * text (no secrets were redacted from it; its size agrees), else from the store — but never by
   * decompressing (that would load node:zlib on the hook's path): then a snapshot is written.
   */
  #encodeNewCode(text: string, parent: PatternParent | null | undefined): StoredCode {
    if (!parent || text.length < MIN_PATCH_TEXT) return snapshotCode(text);
    // The parent's chain, without its data (a snapshot may be large).
    const meta = this.row(
      `SELECT p.redacted_secrets, p.byte_size, p.code IS NOT NULL AS legacy, c.depth, c.chain_bytes, c.length
       FROM patterns p LEFT JOIN pattern_code c ON c.pattern_id = p.pattern_id WHERE p.pattern_id = ?`,
      parent.patternId,
    );
    const legacy = meta?.legacy === 1;
    if (!meta || (!legacy && meta.depth === null)) return snapshotCode(text); // no code kept
    const depth = Number(meta.depth ?? 0);
    if (depth >= MAX_CHAIN) return snapshotCode(text);
    let baseText: string | null | undefined;
    if (typeof parent.content === "string" && Number(meta.redacted_secrets) === 0) {
      const candidate = storableText(normalizeLineEndings(parent.content));
      // The stored text is the content as the recording core stores it; its length confirms it.
      const fits = legacy
        ? new TextEncoder().encode(candidate).length === Number(meta.byte_size)
        : candidate.length === Number(meta.length);
      if (fits) baseText = candidate;
    }
    baseText ??= this.#readCode(this.codeRow(parent.patternId) as CodeRow, "uncompressed");
    if (typeof baseText !== "string") return snapshotCode(text);
    return encodeCode(text, {
      patternId: parent.patternId,
      text: baseText,
      depth,
      chainBytes: Number(meta.chain_bytes ?? 0),
    });
  }

  /**
   * Reads a row's text: its snapshot, or its chain of patches applied to the snapshot they start
   * from. "uncompressed" answers undefined instead of decompressing. Every step must go to a base
   * that keeps code and has a smaller depth, so the walk ends; otherwise StoredCodeError.
   */
  #readCode(row: CodeRow, mode: "any" | "uncompressed"): string | null | undefined {
    if (row.stored === null) return null;
    const chain: CodeRow[] = [];
    let current = row;
    let text: string | undefined;
    for (;;) {
      const stored = current.stored as StoredCode;
      const cached = this.#texts.get(current.patternId);
      if (cached && cached.fingerprint === fingerprint(stored)) {
        text = cached.text;
        break;
      }
      if (mode === "uncompressed" && isCompressed(stored.format)) return undefined;
      if (isSnapshot(stored.format)) {
        try {
          text = current.legacy
            ? new TextDecoder().decode(stored.data)
            : snapshotText(stored.format, stored.data);
        } catch (error) {
          throw new StoredCodeError(
            `pattern ${current.patternId}'s snapshot cannot be read: ${(error as Error).message}`,
          );
        }
        if (!current.legacy && text.length !== stored.textLength) {
          throw new StoredCodeError(
            `pattern ${current.patternId}'s snapshot reads back as ${text.length} characters, not ${stored.textLength} (the store is damaged)`,
          );
        }
        break;
      }
      chain.push(current);
      const base = stored.base === null ? undefined : this.codeRow(stored.base);
      if (!base?.stored) {
        throw new StoredCodeError(
          `pattern ${current.patternId}'s code is a patch against ${stored.base}, whose code is missing (the store is damaged; "tracker.ts export" keeps what is readable)`,
        );
      }
      if (base.stored.depth >= stored.depth) {
        throw new StoredCodeError(
          `pattern ${current.patternId}'s code is a patch against ${base.patternId}, which is not nearer a snapshot (depth ${base.stored.depth} ≥ ${stored.depth}); not following it`,
        );
      }
      current = base;
    }
    const result = this.patched(text, chain.reverse());
    if (chain.length > 0) this.#remember(row.patternId, row.stored, result);
    return result;
  }

  protected fullText(row: CodeRow): string | null {
    return this.#readCode(row, "any") as string | null;
  }

  /** Applies the patches of `rows` (oldest first) to `text`. */
  protected patched(text: string, rows: readonly CodeRow[]): string {
    const patches = [];
    for (const r of rows) {
      const stored = r.stored as StoredCode;
      try {
        patches.push(patchOf(stored.format, stored.data));
      } catch (error) {
        throw new StoredCodeError(
          `pattern ${r.patternId}'s patch cannot be read: ${(error as Error).message}`,
        );
      }
    }
    try {
      return applyLinePatches(text, patches);
    } catch (error) {
      const r = rows[(error as LinePatchError).patchIndex ?? 0] as CodeRow;
      throw new StoredCodeError(
        `pattern ${r.patternId}'s patch does not apply to its base ${r.stored?.base}: ${
          (error as Error).message
        }`,
      );
    }
  }

  #remember(patternId: string, stored: StoredCode, text: string): void {
    this.#texts.delete(patternId);
    this.#texts.set(patternId, { text, fingerprint: fingerprint(stored) });
    // A few recent texts: reading a file's versions in order then applies one patch each.
    for (const key of this.#texts.keys()) {
      if (this.#texts.size <= 16) break;
      this.#texts.delete(key);
    }
  }
}

/** Identifies one stored form of a row: a text read from it is reused only while it is unchanged. */
function fingerprint(stored: StoredCode): string {
  return `${stored.format}:${stored.base}:${stored.depth}:${stored.data.length}`;
}
