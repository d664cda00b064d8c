/**
 * The store's schema: the migrations, in order. Only a store that is behind loads this module (the
 * hooks open an up-to-date store without it: `open.ts` `SCHEMA_VERSION`, `openStoreLazily`).
 *
 * @module
 */

/**
 * Ordered schema migrations; `PRAGMA user_version` records how many have run. Never edit one.
 * Appending one? Raise `SCHEMA_VERSION` in `open.ts` with it (the hooks load these only
 * when a store is behind that version; `tests/store_open_test.ts` checks that the two agree).
 */
export const MIGRATIONS: readonly string[] = [
  // 1: the foundation.
  `CREATE TABLE patterns (
     pattern_id TEXT PRIMARY KEY,
     language TEXT NOT NULL,
     line_count INTEGER NOT NULL,
     byte_size INTEGER NOT NULL,
     code TEXT,
     first_seen_at TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE file_versions (
     id INTEGER PRIMARY KEY,
     file_path TEXT NOT NULL,
     version INTEGER NOT NULL,
     pattern_id TEXT NOT NULL REFERENCES patterns(pattern_id),
     parent_pattern_id TEXT,
     event_type TEXT NOT NULL,
     transformation_type TEXT,
     tool_name TEXT NOT NULL,
     tool_use_id TEXT,
     session_id TEXT,
     correlation_id TEXT NOT NULL,
     reason TEXT,
     created_at TEXT NOT NULL,
     UNIQUE (file_path, version)
   );
   CREATE INDEX file_versions_pattern ON file_versions(pattern_id);
   CREATE TABLE lineage_edges (
     child_pattern_id TEXT NOT NULL,
     parent_pattern_id TEXT NOT NULL,
     edge_type TEXT NOT NULL,
     transformation_type TEXT,
     file_path TEXT,
     created_at TEXT NOT NULL,
     PRIMARY KEY (child_pattern_id, parent_pattern_id)
   ) WITHOUT ROWID;
   CREATE INDEX lineage_edges_parent ON lineage_edges(parent_pattern_id);
   CREATE TABLE executions (
     tool_use_id TEXT PRIMARY KEY,
     session_id TEXT,
     tool_name TEXT NOT NULL,
     file_path TEXT,
     correlation_id TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     duration_ms INTEGER,
     success INTEGER,
     error TEXT,
     lines_added INTEGER,
     lines_removed INTEGER,
     before_pattern_id TEXT,
     pattern_id TEXT
   ) WITHOUT ROWID;
   CREATE INDEX executions_pattern ON executions(pattern_id);
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     pattern_id TEXT NOT NULL,
     pattern_version TEXT NOT NULL,
     parent_pattern_ids TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT
   );
   CREATE TABLE dead_letters (
     outbox_id INTEGER PRIMARY KEY,
     pattern_id TEXT NOT NULL,
     pattern_version TEXT NOT NULL,
     parent_pattern_ids TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at TEXT NOT NULL,
     status INTEGER,
     message TEXT NOT NULL,
     dead_at TEXT NOT NULL
   );
   CREATE TABLE delivered (
     pattern_id TEXT NOT NULL,
     pattern_version TEXT NOT NULL,
     delivered_at TEXT NOT NULL,
     PRIMARY KEY (pattern_id, pattern_version)
   ) WITHOUT ROWID;
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
  // 2: privacy — why a pattern's code is absent, and how many secrets were redacted from it.
  `ALTER TABLE patterns ADD COLUMN code_omitted TEXT;
   ALTER TABLE patterns ADD COLUMN redacted_secrets INTEGER NOT NULL DEFAULT 0;`,
  // 3: delivery by reference, per server. Needs only the v2 schema. The outbox refers to a file
  // version (the request is assembled when it is sent, from immutable rows); the metrics of the
  // change move onto the version; delivery and dead letters are recorded per server URL (server ''
  // = before per-server tracking: the first flush adopts those marks). Old rows map to versions
  // through their body's file path and the version number in "<n>.0.0"; a row that maps to no
  // version is kept, whole, in legacy_events.
  `ALTER TABLE file_versions ADD COLUMN change_lines_added INTEGER;
   ALTER TABLE file_versions ADD COLUMN change_lines_removed INTEGER;
   ALTER TABLE file_versions ADD COLUMN change_duration_ms INTEGER;
   ALTER TABLE outbox RENAME TO outbox_v2;
   ALTER TABLE dead_letters RENAME TO dead_letters_v2;
   ALTER TABLE delivered RENAME TO delivered_v2;
   CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     version_id INTEGER NOT NULL UNIQUE,
     queued_at TEXT NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     in_doubt INTEGER NOT NULL DEFAULT 0,
     last_sent_at TEXT,
     legacy_version TEXT
   );
   CREATE TABLE dead_letters (
     server TEXT NOT NULL,
     version_id INTEGER NOT NULL,
     status INTEGER,
     message TEXT NOT NULL,
     verdict TEXT,
     dead_at TEXT NOT NULL,
     PRIMARY KEY (server, version_id)
   ) WITHOUT ROWID;
   CREATE TABLE delivered (
     seq INTEGER PRIMARY KEY,
     server TEXT NOT NULL,
     version_id INTEGER NOT NULL,
     delivered_at TEXT NOT NULL,
     UNIQUE (server, version_id)
   );
   CREATE INDEX delivered_version ON delivered(version_id);
   CREATE TABLE legacy_events (
     source TEXT NOT NULL,
     pattern_id TEXT NOT NULL,
     pattern_version TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at TEXT NOT NULL,
     status INTEGER,
     message TEXT
   );
   UPDATE file_versions SET
     change_lines_added = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.pattern_data.lines_added') END),
     change_lines_removed = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.pattern_data.lines_removed') END),
     change_duration_ms = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.pattern_data.duration_ms') END)
   FROM (SELECT pattern_id, pattern_version, body FROM outbox_v2
         UNION ALL SELECT pattern_id, pattern_version, body FROM dead_letters_v2) o
   WHERE file_versions.file_path = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.file_path') END)
     AND file_versions.version = CAST(o.pattern_version AS INTEGER)
     AND file_versions.pattern_id = o.pattern_id;
   UPDATE file_versions SET change_lines_added = e.lines_added,
     change_lines_removed = e.lines_removed, change_duration_ms = e.duration_ms
   FROM executions e
   WHERE e.tool_use_id = file_versions.tool_use_id AND e.pattern_id = file_versions.pattern_id
     AND file_versions.change_lines_added IS NULL AND file_versions.change_duration_ms IS NULL;
   INSERT OR IGNORE INTO outbox (id, version_id, queued_at, attempts, last_error, in_doubt, legacy_version)
     SELECT o.id, v.id, o.created_at, o.attempts, o.last_error, 1, o.pattern_version
     FROM outbox_v2 o JOIN file_versions v
       ON v.file_path = (CASE WHEN json_valid(o.body) THEN json_extract(o.body, '$.file_path') END)
      AND v.version = CAST(o.pattern_version AS INTEGER) AND v.pattern_id = o.pattern_id
     ORDER BY o.id;
   INSERT INTO legacy_events (source, pattern_id, pattern_version, body, created_at, status, message)
     SELECT 'outbox', pattern_id, pattern_version, body, created_at, NULL, last_error FROM outbox_v2
     WHERE id NOT IN (SELECT id FROM outbox);
   INSERT OR IGNORE INTO dead_letters (server, version_id, status, message, dead_at)
     SELECT '', v.id, d.status, d.message, d.dead_at
     FROM dead_letters_v2 d JOIN file_versions v
       ON v.file_path = (CASE WHEN json_valid(d.body) THEN json_extract(d.body, '$.file_path') END)
      AND v.version = CAST(d.pattern_version AS INTEGER) AND v.pattern_id = d.pattern_id
     WHERE v.id NOT IN (SELECT version_id FROM outbox);
   INSERT INTO legacy_events (source, pattern_id, pattern_version, body, created_at, status, message)
     SELECT 'dead_letters', d.pattern_id, d.pattern_version, d.body, d.created_at, d.status, d.message
     FROM dead_letters_v2 d WHERE NOT EXISTS (
       SELECT 1 FROM file_versions v WHERE v.file_path = (CASE WHEN json_valid(d.body) THEN json_extract(d.body, '$.file_path') END)
         AND v.version = CAST(d.pattern_version AS INTEGER) AND v.pattern_id = d.pattern_id);
   INSERT OR IGNORE INTO delivered (server, version_id, delivered_at)
     SELECT '', v.id, d.delivered_at FROM delivered_v2 d JOIN file_versions v
       ON v.pattern_id = d.pattern_id AND v.version = CAST(d.pattern_version AS INTEGER)
     WHERE v.id NOT IN (SELECT version_id FROM outbox)
       AND v.id NOT IN (SELECT version_id FROM dead_letters)
     ORDER BY d.delivered_at, v.id;
   INSERT INTO sqlite_sequence (name, seq)
     SELECT 'outbox', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox');
   UPDATE sqlite_sequence SET seq = MAX(seq,
     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'outbox_v2'), 0)) WHERE name = 'outbox';
   DROP TABLE outbox_v2;
   DROP TABLE dead_letters_v2;
   DROP TABLE delivered_v2;`,
  // 4: a pattern's code as a snapshot or a line patch against another pattern's stored
  // text (src/store/code_storage.ts), in a rowid table (a WITHOUT ROWID table spills any row over ~1 KB
  // to overflow pages, wasting most of a page per version). Rows written before keep their text in
  // `patterns.code`, read as snapshots; maintenance converts them later (src/store/code_maintenance.ts).
  `CREATE TABLE pattern_code (
     pattern_id TEXT NOT NULL UNIQUE,
     format TEXT NOT NULL,
     base TEXT,
     depth INTEGER NOT NULL,
     chain_bytes INTEGER NOT NULL,
     length INTEGER NOT NULL,
     data BLOB NOT NULL
   );
   CREATE INDEX pattern_code_base ON pattern_code(base) WHERE base IS NOT NULL;`,
  // 5: recording — an execution is identified by (session, tool_use_id), not tool_use_id alone —
  // gateways number tool calls toolu_01, call_0, … in every session — and `call_seq` keeps apart
  // two calls of one session that reuse an ID. `session_key` is the session ID, or '' when Claude
  // Code sent none (a primary key cannot hold NULL). Rebuilds `executions` with its v2 columns: a
  // migration that adds columns to `executions` must come after this one. Plus the spill journal's
  // replayed entries, so that a replay applies each entry exactly once.
  `CREATE TABLE executions_by_session (
     session_key TEXT NOT NULL,
     tool_use_id TEXT NOT NULL,
     call_seq INTEGER NOT NULL DEFAULT 0,
     session_id TEXT,
     tool_name TEXT NOT NULL,
     file_path TEXT,
     correlation_id TEXT NOT NULL,
     started_at TEXT,
     finished_at TEXT,
     duration_ms INTEGER,
     success INTEGER,
     error TEXT,
     lines_added INTEGER,
     lines_removed INTEGER,
     before_pattern_id TEXT,
     pattern_id TEXT,
     PRIMARY KEY (session_key, tool_use_id, call_seq)
   ) WITHOUT ROWID;
   INSERT INTO executions_by_session (session_key, tool_use_id, call_seq, session_id, tool_name,
       file_path, correlation_id, started_at, finished_at, duration_ms, success, error, lines_added,
       lines_removed, before_pattern_id, pattern_id)
     SELECT COALESCE(session_id, ''), tool_use_id, 0, session_id, tool_name, file_path,
       correlation_id, started_at, finished_at, duration_ms, success, error, lines_added,
       lines_removed, before_pattern_id, pattern_id
     FROM executions;
   DROP TABLE executions;
   ALTER TABLE executions_by_session RENAME TO executions;
   CREATE INDEX executions_pattern ON executions(pattern_id);
   CREATE TABLE journal_replays (
     entry_id TEXT PRIMARY KEY,
     spilled_at TEXT NOT NULL,
     reason TEXT NOT NULL,
     place TEXT NOT NULL,
     replayed_at TEXT NOT NULL
   ) WITHOUT ROWID;`,
  // 6: requests (src/store/prompts.ts) — what each prompt's words say (the intent label and the
  // intent model's four scores), its text (redacted) only with store_prompts — and which versions
  // the classifier has typed (file_versions.transformation_type then holds its answer), from what.
  // Versions recorded before keep the diff-shape guess they were recorded, maybe delivered, with.
  // Needs only v1's file_versions; no other migration touches these tables.
  `CREATE TABLE prompts (
     id INTEGER PRIMARY KEY,
     session_key TEXT NOT NULL,
     session_id TEXT,
     prompt_id TEXT,
     submitted_at TEXT NOT NULL,
     intent_label TEXT,
     intent_scores TEXT,
     intent_model TEXT,
     prompt_text TEXT,
     redacted_secrets INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX prompts_session ON prompts(session_key, submitted_at);
   CREATE TABLE version_classifications (
     version_id INTEGER PRIMARY KEY,
     pattern_id TEXT NOT NULL,
     basis TEXT NOT NULL,
     prompt_row INTEGER,
     classified_at TEXT NOT NULL
   );
   INSERT INTO version_classifications (version_id, pattern_id, basis, prompt_row, classified_at)
     SELECT id, pattern_id, 'recorded', NULL, created_at FROM file_versions;`,
];
