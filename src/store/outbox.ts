/**
 * The outbox as delivery reads and marks it: the versions queued per server in the order they must
 * go, what each server acknowledged or refused (dead letters), requeueing, and switching servers.
 * A layer of the store (`recording.ts` below it, `maintenance.ts` above); the flusher and the CLI
 * use it through `Store` (`store.ts`).
 *
 * @module
 */

import { RecordingStore } from "./recording.ts";
import {
  type DeadLetter,
  type FileVersion,
  numOrNull,
  type ParentState,
  type QueuedVersion,
  type ServerDeliveryCounts,
  strOrNull,
  toVersion,
} from "./rows.ts";

/** The store as delivery uses it (see the module). */
export class OutboxStore extends RecordingStore {
  /** The row ID of a file's version, or undefined. */
  versionId(filePath: string, version: number): number | undefined {
    const r = this.row(
      "SELECT id FROM file_versions WHERE file_path = ? AND version = ?",
      filePath,
      version,
    );
    return r ? Number(r.id) : undefined;
  }

  /** A version by row ID, or undefined. */
  versionById(versionId: number): FileVersion | undefined {
    const r = this.row("SELECT * FROM file_versions WHERE id = ?", versionId);
    return r && toVersion(r);
  }

  /** Queued versions, oldest entry first, with their parent's standing with `server`. */
  queuedVersions(server: string, limit: number): QueuedVersion[] {
    return this.rows(
      `SELECT o.id AS queue_id, o.version_id, o.in_doubt, o.last_sent_at, o.legacy_version,
         o.queued_at, o.attempts, o.last_error,
         v.file_path, v.version, v.pattern_id, v.parent_pattern_id, p.id AS parent_version_id,
         CASE
           WHEN p.id IS NULL THEN 'none'
           WHEN EXISTS (SELECT 1 FROM outbox q WHERE q.version_id = p.id) THEN 'queued'
           WHEN EXISTS (SELECT 1 FROM delivered d WHERE d.server = ?1 AND d.version_id = p.id)
             THEN 'delivered'
           WHEN EXISTS (SELECT 1 FROM dead_letters x WHERE x.server = ?1 AND x.version_id = p.id)
             THEN 'dead'
           ELSE 'unknown'
         END AS parent_state,
         CASE WHEN v.parent_pattern_id IS NULL THEN 0
           ELSE (SELECT COUNT(*) FROM file_versions w WHERE w.pattern_id = v.parent_pattern_id)
         END AS parent_pattern_versions,
         CASE WHEN v.parent_pattern_id IS NULL THEN NULL ELSE (
           SELECT d.version_id FROM file_versions w
             JOIN delivered d ON d.server = ?1 AND d.version_id = w.id
           WHERE w.pattern_id = v.parent_pattern_id ORDER BY d.seq DESC LIMIT 1)
         END AS newest_delivered_of_parent
       FROM outbox o
       JOIN file_versions v ON v.id = o.version_id
       LEFT JOIN file_versions p ON v.parent_pattern_id IS NOT NULL AND p.file_path = v.file_path
         AND p.version = v.version - 1 AND p.pattern_id = v.parent_pattern_id
       ORDER BY o.id LIMIT ?2`,
      server,
      limit,
    ).map((r) => ({
      queueId: Number(r.queue_id),
      versionId: Number(r.version_id),
      filePath: String(r.file_path),
      version: Number(r.version),
      patternId: String(r.pattern_id),
      parentPatternId: strOrNull(r.parent_pattern_id),
      parentVersionId: numOrNull(r.parent_version_id),
      parentState: String(r.parent_state) as ParentState,
      parentPatternVersions: Number(r.parent_pattern_versions),
      newestDeliveredOfParent: numOrNull(r.newest_delivered_of_parent),
      inDoubt: r.in_doubt === 1,
      lastSentAt: strOrNull(r.last_sent_at),
      legacyVersion: strOrNull(r.legacy_version),
      queuedAt: String(r.queued_at),
      attempts: Number(r.attempts),
      lastError: strOrNull(r.last_error),
    }));
  }

  /**
   * True when some version holding the pattern is queued, or was acknowledged or refused by a
   * server (import queues a parent's version first only when none is).
   */
  patternInDelivery(patternId: string): boolean {
    return this.row(
      `SELECT 1 AS x FROM file_versions v WHERE v.pattern_id = ? AND (
         EXISTS (SELECT 1 FROM outbox o WHERE o.version_id = v.id)
         OR EXISTS (SELECT 1 FROM delivered d WHERE d.version_id = v.id)
         OR EXISTS (SELECT 1 FROM dead_letters x WHERE x.version_id = v.id)) LIMIT 1`,
      patternId,
    ) !== undefined;
  }

  /** Where one version stands with `server`: queued, acknowledged, refused, or none of these. */
  versionStanding(server: string, versionId: number): "queued" | "delivered" | "dead" | "none" {
    const r = this.row(
      `SELECT EXISTS (SELECT 1 FROM outbox WHERE version_id = ?2) AS queued,
         EXISTS (SELECT 1 FROM delivered WHERE server = ?1 AND version_id = ?2) AS delivered,
         EXISTS (SELECT 1 FROM dead_letters WHERE server = ?1 AND version_id = ?2) AS dead`,
      server,
      versionId,
    );
    return r?.queued ? "queued" : r?.delivered ? "delivered" : r?.dead ? "dead" : "none";
  }

  /** Remembers that `server` holds a version (recovery copies a salvaged mark); true when new. */
  insertDelivered(server: string, versionId: number, at: string): boolean {
    return this.run(
      "INSERT INTO delivered (server, version_id, delivered_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      server,
      versionId,
      at,
    ) > 0;
  }

  /** Remembers that `server` refused a version (recovery copies a salvaged dead letter). */
  insertDeadLetter(
    server: string,
    versionId: number,
    refusal: { status: number | null; message: string; verdict: string | null },
    at: string,
  ): boolean {
    return this.run(
      `INSERT INTO dead_letters (server, version_id, status, message, verdict, dead_at)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      server,
      versionId,
      refusal.status,
      refusal.message,
      refusal.verdict,
      at,
    ) > 0;
  }

  /** Highest outbox row ID ever used (0 when none): tells a flusher whether anything new arrived. */
  maxOutboxId(): number {
    return Number(this.row("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'")?.seq ?? 0);
  }

  /**
   * Marks queued versions as sent, before the request goes out: until an answer says otherwise
   * they are in doubt (a crash or a lost answer leaves them so, and the next flush asks the server).
   */
  markSent(queueIds: readonly number[], at: string): void {
    this.run(
      "UPDATE outbox SET in_doubt = 1, last_sent_at = ? WHERE id IN (SELECT value FROM json_each(?))",
      at,
      JSON.stringify(queueIds),
    );
  }

  /** Records that `server` holds these queued versions, and takes them off the queue. */
  markDelivered(server: string, queueIds: readonly number[], at: string): void {
    if (queueIds.length === 0) return;
    const ids = JSON.stringify(queueIds);
    // In the order given: the order of acknowledgement is the server's order of creation.
    this.run(
      `INSERT INTO delivered (server, version_id, delivered_at)
       SELECT ?, o.version_id, ? FROM json_each(?) j JOIN outbox o ON o.id = j.value
       ORDER BY j.key ON CONFLICT DO NOTHING`,
      server,
      at,
      ids,
    );
    this.run("DELETE FROM outbox WHERE id IN (SELECT value FROM json_each(?))", ids);
  }

  /**
   * Counts a failed attempt on versions that stay queued. `inDoubt`: whether the server may have
   * stored them anyway (no answer, or an answer that does not say).
   */
  markFailed(queueIds: readonly number[], error: string, inDoubt: boolean): void {
    this.run(
      `UPDATE outbox SET attempts = attempts + 1, last_error = ?, in_doubt = ?
       WHERE id IN (SELECT value FROM json_each(?))`,
      error,
      inDoubt ? 1 : 0,
      JSON.stringify(queueIds),
    );
  }

  /** The server was asked and does not hold these versions: they may be sent. */
  clearDoubt(queueIds: readonly number[]): void {
    this.run(
      "UPDATE outbox SET in_doubt = 0 WHERE id IN (SELECT value FROM json_each(?))",
      JSON.stringify(queueIds),
    );
  }

  /** Versions by row ID, in the order asked (missing ones left out). */
  versionsById(versionIds: readonly number[]): FileVersion[] {
    const byId = new Map(
      this.rows(
        "SELECT * FROM file_versions WHERE id IN (SELECT value FROM json_each(?))",
        JSON.stringify(versionIds),
      ).map((r) => [Number(r.id), toVersion(r)]),
    );
    return versionIds.map((id) => byId.get(id)).filter((v): v is FileVersion => v !== undefined);
  }

  /** Moves a queued version that `server` refused for good into the dead-letter table. */
  moveToDeadLetter(
    server: string,
    queueId: number,
    refusal: { status: number | null; message: string; verdict: string },
    at: string,
  ): void {
    this.run(
      `INSERT INTO dead_letters (server, version_id, status, message, verdict, dead_at)
       SELECT ?, version_id, ?, ?, ?, ? FROM outbox WHERE id = ?
       ON CONFLICT (server, version_id) DO UPDATE SET status = excluded.status,
         message = excluded.message, verdict = excluded.verdict, dead_at = excluded.dead_at`,
      server,
      refusal.status,
      refusal.message,
      refusal.verdict,
      at,
      queueId,
    );
    this.run("DELETE FROM outbox WHERE id = ?", queueId);
  }

  /** Dead letters of a server (all servers when omitted), oldest first. */
  deadLetters(server?: string, limit = 1000): DeadLetter[] {
    return this.rows(
      `SELECT x.*, v.file_path, v.version, v.pattern_id FROM dead_letters x
       JOIN file_versions v ON v.id = x.version_id
       WHERE ?1 IS NULL OR x.server = ?1 ORDER BY x.dead_at, x.version_id LIMIT ?2`,
      server ?? null,
      limit,
    ).map((r) => ({
      server: String(r.server),
      versionId: Number(r.version_id),
      filePath: String(r.file_path),
      version: Number(r.version),
      patternId: String(r.pattern_id),
      status: numOrNull(r.status),
      message: String(r.message),
      verdict: strOrNull(r.verdict),
      deadAt: String(r.dead_at),
    }));
  }

  /** Puts dead letters of `server` back into the outbox (those `which` picks); returns how many. */
  requeueDeadLetters(server: string, at: string, which: (d: DeadLetter) => boolean): number {
    let n = 0;
    for (const letter of this.deadLetters(server, 1_000_000)) {
      if (!which(letter)) continue;
      this.enqueueVersion(letter.versionId, at);
      this.run(
        "DELETE FROM dead_letters WHERE server = ? AND version_id = ?",
        server,
        letter.versionId,
      );
      n++;
    }
    return n;
  }

  /**
   * Makes `server` the one the outbox is delivered to. The first time any server is named (a new
   * store, or one whose delivery predates per-server records) it adopts the unattributed marks;
   * another server than the last one gets the whole history it has not acknowledged queued, every
   * entry in doubt (it may hold some of it already). Returns how many versions were queued.
   */
  switchServer(server: string, at: string): { queued: number; switched: boolean } {
    const current = this.meta("delivery_server");
    if (current === server) return { queued: 0, switched: false };
    this.setMeta("delivery_server", server);
    if (current === undefined) {
      this.run("UPDATE OR IGNORE delivered SET server = ? WHERE server = ''", server);
      this.run("UPDATE OR IGNORE dead_letters SET server = ? WHERE server = ''", server);
      return { queued: 0, switched: false };
    }
    this.run("UPDATE outbox SET in_doubt = 1");
    const queued = this.run(
      `INSERT INTO outbox (version_id, queued_at, in_doubt)
       SELECT v.id, ?1, 1 FROM file_versions v
       WHERE NOT EXISTS (SELECT 1 FROM delivered d WHERE d.server = ?2 AND d.version_id = v.id)
         AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.server = ?2 AND x.version_id = v.id)
       ORDER BY v.id
       ON CONFLICT (version_id) DO NOTHING`,
      at,
      server,
    );
    return { queued, switched: true };
  }

  /**
   * Queues, in doubt, every earlier version of a file that is not queued or refused (and forgets
   * that `server` acknowledged them): the server answered that a parent is missing, so it lost
   * them, or never had them. Returns how many were queued.
   */
  requeueAncestors(server: string, filePath: string, belowVersion: number, at: string): number {
    const ids = this.rows(
      `SELECT v.id FROM file_versions v
       WHERE v.file_path = ? AND v.version < ?
         AND NOT EXISTS (SELECT 1 FROM outbox q WHERE q.version_id = v.id)
         AND NOT EXISTS (SELECT 1 FROM dead_letters x WHERE x.server = ? AND x.version_id = v.id)
       ORDER BY v.version`,
      filePath,
      belowVersion,
      server,
    ).map((r) => Number(r.id));
    for (const id of ids) {
      this.run("DELETE FROM delivered WHERE server = ? AND version_id = ?", server, id);
      this.enqueueVersion(id, at, { inDoubt: true });
    }
    return ids.length;
  }

  /** Outbox depth for `status`: queued, of which in doubt, and the oldest entry's time. */
  outboxCounts(): { queued: number; inDoubt: number; oldestQueuedAt: string | null } {
    const r = this.row(
      "SELECT COUNT(*) AS n, COALESCE(SUM(in_doubt), 0) AS d, MIN(queued_at) AS t FROM outbox",
    );
    return {
      queued: Number(r?.n ?? 0),
      inDoubt: Number(r?.d ?? 0),
      oldestQueuedAt: strOrNull(r?.t),
    };
  }

  /** Per server: versions acknowledged and refused. */
  deliveryByServer(): ServerDeliveryCounts[] {
    return this.rows(
      `SELECT server, SUM(delivered) AS delivered, SUM(dead) AS dead FROM (
         SELECT server, COUNT(*) AS delivered, 0 AS dead FROM delivered GROUP BY server
         UNION ALL SELECT server, 0, COUNT(*) FROM dead_letters GROUP BY server
       ) GROUP BY server ORDER BY server`,
    ).map((r) => ({
      server: String(r.server),
      delivered: Number(r.delivered),
      deadLetters: Number(r.dead),
    }));
  }

  /** Events of an older release that map to no version (kept whole; never sent). */
  legacyEventCount(): number {
    return Number(this.row("SELECT COUNT(*) AS n FROM legacy_events")?.n ?? 0);
  }
}
