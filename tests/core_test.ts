/** Unit tests of the pure core: IDs, languages, edits, payloads, lineage, config, events. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { defaultConfig, resolveConfig, SETTINGS } from "../src/config/mod.ts";
import { buildLineageEvent } from "../src/delivery/events.ts";
import { languageFromPath } from "../src/record/language.ts";
import {
  decideLineage,
  EDGE_TYPES,
  EVENT_TYPES,
  guessTransformation,
  TRANSFORMATION_TYPES,
} from "../src/record/lineage.ts";
import {
  applyEdit,
  applyEdits,
  countLines,
  EditNotApplicableError,
  lineDeltaBetween,
  lineDeltaFromPatch,
  patternId,
} from "../src/record/pattern.ts";
import { parseHookPayload, type ToolChange } from "../src/record/payload.ts";

const fixture = (name: string) =>
  Deno.readTextFileSync(new URL(`../src/cli/demo_session/${name}.json`, import.meta.url));
const sha16 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex").slice(0, 16);

// ---- pattern IDs ---------------------------------------------------------------------------

Deno.test("patternId: the original system's ID, and SHA-256 of the LF-normalised UTF-8 bytes", async () => {
  assert.equal(await patternId('def hello():\n    print("world")'), "3d73da5b43ce076f");
  for (const code of ["", "x", "naïve = '日本語'\n", "a\nb\n"]) {
    assert.equal(await patternId(code), sha16(code));
  }
  assert.equal(await patternId("a\r\nb\r\n"), sha16("a\nb\n"));
  assert.equal(await patternId("a\rb"), sha16("a\nb"));
  assert.match(await patternId("anything"), /^[0-9a-f]{16}$/);
});

Deno.test("countLines counts lines as an editor shows them", () => {
  assert.equal(countLines(""), 0);
  assert.equal(countLines("a"), 1);
  assert.equal(countLines("a\n"), 1);
  assert.equal(countLines("a\nb"), 2);
  assert.equal(countLines("a\r\nb\r\n"), 2);
  assert.equal(countLines("\n\n"), 2);
});

Deno.test("applyEdit replaces the first occurrence, or all; $ patterns stay literal", () => {
  assert.equal(applyEdit("a-a-a", { oldString: "a", newString: "b", replaceAll: false }), "b-a-a");
  assert.equal(applyEdit("a-a-a", { oldString: "a", newString: "b", replaceAll: true }), "b-b-b");
  assert.equal(
    applyEdit("x = 1", { oldString: "1", newString: "$&$1$$", replaceAll: false }),
    "x = $&$1$$",
  );
  assert.equal(applyEdit("", { oldString: "", newString: "new\n", replaceAll: false }), "new\n");
  assert.throws(
    () => applyEdit("abc", { oldString: "zzz", newString: "y", replaceAll: false }),
    EditNotApplicableError,
  );
  assert.throws(
    () => applyEdit("abc", { oldString: "", newString: "y", replaceAll: false }),
    EditNotApplicableError,
  );
});

Deno.test("applyEdits applies in order, each to the result of the one before", () => {
  const edits = [
    { oldString: "a", newString: "b", replaceAll: false },
    { oldString: "b", newString: "c", replaceAll: true },
  ];
  assert.equal(applyEdits("a b", edits), "c c");
  assert.throws(() => applyEdits("x", edits), EditNotApplicableError);
});

Deno.test("line deltas from structuredPatch and from whole contents", () => {
  const post = JSON.parse(fixture("06-post-write"));
  assert.deepEqual(lineDeltaFromPatch(post.tool_response.structuredPatch), {
    added: 2,
    removed: 2,
  });
  assert.deepEqual(lineDeltaFromPatch("nonsense"), { added: 0, removed: 0 });
  assert.deepEqual(lineDeltaBetween(null, "a\nb\n"), { added: 2, removed: 0 });
  assert.deepEqual(lineDeltaBetween("a\nb\nc\n", "a\nc\n"), { added: 0, removed: 1 });
  assert.deepEqual(lineDeltaBetween("a\r\nb\r\n", "a\nb\n"), { added: 0, removed: 0 });
});

// ---- languages -----------------------------------------------------------------------------

Deno.test("languageFromPath knows many languages and special names", () => {
  const cases: [string, string][] = [
    ["/p/app.py", "python"],
    ["/p/a.ts", "typescript"],
    ["/p/a.tsx", "typescript"],
    ["/p/a.js", "javascript"],
    ["/p/a.mjs", "javascript"],
    ["/p/main.rs", "rust"],
    ["/p/main.go", "go"],
    ["/p/A.java", "java"],
    ["/p/a.kt", "kotlin"],
    ["/p/a.rb", "ruby"],
    ["/p/a.php", "php"],
    ["/p/a.c", "c"],
    ["/p/a.cpp", "cpp"],
    ["/p/a.cs", "csharp"],
    ["/p/a.swift", "swift"],
    ["/p/run.sh", "shell"],
    ["/p/q.sql", "sql"],
    ["/p/c.yaml", "yaml"],
    ["/p/c.yml", "yaml"],
    ["/p/d.json", "json"],
    ["/p/README.md", "markdown"],
    ["/p/i.html", "html"],
    ["/p/s.css", "css"],
    ["/p/App.vue", "vue"],
    ["/p/n.ipynb", "jupyter"],
    ["/p/Dockerfile", "dockerfile"],
    ["/p/Makefile", "makefile"],
    ["C:\\src\\Main.KT", "kotlin"],
    ["/p/.bashrc", "unknown"],
    ["/p/LICENSE", "unknown"],
    ["/p/a.weird", "unknown"],
  ];
  for (const [path, language] of cases) assert.equal(languageFromPath(path), language, path);
});

// ---- payloads ------------------------------------------------------------------------------

Deno.test("real fixtures parse to intents and changes with the content after computed in memory", () => {
  const pre = parseHookPayload(fixture("01-pre-write"));
  assert.equal(pre.kind, "intent");
  const write = parseHookPayload(fixture("02-post-write")) as ToolChange;
  assert.equal(write.kind, "change");
  assert.equal(write.before, null);
  assert.equal(write.after, "def add(a, b):\n    return a + b\n");
  assert.equal(write.toolUseId, "toolu_01");
  assert.equal(write.sessionId, "af2cdfc9-1bcb-47b9-b28b-eaafcd5d7a37");
  assert.equal(write.durationMs, 11);
  const edit = parseHookPayload(fixture("04-post-edit")) as ToolChange;
  assert.equal(edit.before, "def add(a, b):\n    return a + b\n");
  assert.equal(edit.after, "def add(a, b):\n    return a + b  # sum\n");
  assert.deepEqual(edit.lineDelta, { added: 1, removed: 1 });
  const overwrite = parseHookPayload(fixture("06-post-write")) as ToolChange;
  assert.equal(overwrite.before, "def add(a, b):\n    return a + b  # sum\n");
  const replaceAll = parseHookPayload(fixture("08-post-edit")) as ToolChange;
  assert.equal(replaceAll.after, "def add(a: float, b: float) -> float:\n    return a + b\n");
  assert.equal(replaceAll.replaceAll, true);
  assert.equal(parseHookPayload(fixture("09-sessionend")).kind, "ignored");
});

Deno.test("MultiEdit, NotebookEdit and PostToolUseFailure payloads", () => {
  const multi = parseHookPayload(JSON.stringify({
    hook_event_name: "PostToolUse",
    tool_name: "MultiEdit",
    tool_use_id: "t1",
    session_id: "s",
    tool_input: {
      file_path: "/p/a.py",
      edits: [{ old_string: "a", new_string: "b" }, {
        old_string: "b",
        new_string: "c",
        replace_all: true,
      }],
    },
    tool_response: { filePath: "/p/a.py", originalFile: "a b\n" },
  })) as ToolChange;
  assert.equal(multi.after, "c c\n");
  const cell = parseHookPayload(JSON.stringify({
    hook_event_name: "PostToolUse",
    tool_name: "NotebookEdit",
    tool_use_id: "t2",
    tool_input: {
      notebook_path: "/p/n.ipynb",
      cell_id: "c1",
      new_source: "print(1)",
      edit_mode: "replace",
    },
    tool_response: {},
  })) as ToolChange;
  assert.equal(cell.filePath, "/p/n.ipynb#c1");
  assert.equal(cell.after, "print(1)");
  assert.equal(cell.before, undefined, "the cell's earlier source is not sent");
  const whole = parseHookPayload(JSON.stringify({
    hook_event_name: "PostToolUse",
    tool_name: "NotebookEdit",
    tool_use_id: "t3",
    tool_input: { notebook_path: "/p/n.ipynb", cell_id: "c1", new_source: "x" },
    tool_response: { original_file: "{}", updated_file: '{"cells":[]}' },
  })) as ToolChange;
  assert.equal(whole.filePath, "/p/n.ipynb");
  assert.equal(whole.before, "{}");
  const failure = parseHookPayload(JSON.stringify({
    hook_event_name: "PostToolUseFailure",
    tool_name: "Edit",
    tool_use_id: "t4",
    tool_input: { file_path: "/p/a.py", old_string: "x", new_string: "y" },
    error: "String to replace not found",
  }));
  assert.equal(failure.kind, "failure");
  assert.equal((failure as { error: string }).error, "String to replace not found");
});

Deno.test("bad payloads are invalid with a message naming the problem; other tools are ignored", () => {
  const cases: [string, RegExp][] = [
    ["", /empty payload/],
    ["not json", /not JSON/],
    ["\u0000\u00ff\u0001", /not JSON/],
    ["[1,2]", /must be a JSON object/],
    [
      JSON.stringify({ hook_event_name: "PostToolUse", tool_name: "Write", tool_input: {} }),
      /tool_use_id/,
    ],
    [
      JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "Write",
        tool_use_id: "t",
        tool_input: { file_path: 3 },
      }),
      /tool_input\.file_path must be a string, got a number/,
    ],
    [
      JSON.stringify({
        hook_event_name: "PreToolUse",
        tool_name: "Edit",
        tool_use_id: "t",
        tool_input: "x",
      }),
      /tool_input must be an object/,
    ],
    [
      JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "Edit",
        tool_use_id: "t",
        tool_input: { file_path: "/a", old_string: "q", new_string: "r" },
        tool_response: {},
      }),
      /originalFile must be a string/,
    ],
    [
      JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "Edit",
        tool_use_id: "t",
        tool_input: { file_path: "/a", old_string: "q", new_string: "r" },
        tool_response: { originalFile: "abc" },
      }),
      /old_string not found/,
    ],
    [
      JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "MultiEdit",
        tool_use_id: "t",
        tool_input: { file_path: "/a", edits: [] },
        tool_response: { originalFile: "" },
      }),
      /edits must be a non-empty array/,
    ],
  ];
  for (const [text, message] of cases) {
    const parsed = parseHookPayload(text);
    assert.equal(parsed.kind, "invalid", text);
    assert.match((parsed as { error: string }).error, message, text);
  }
  assert.equal(
    parseHookPayload(
      JSON.stringify({ hook_event_name: "PreToolUse", tool_name: "Bash", tool_input: {} }),
    ).kind,
    "ignored",
  );
  assert.equal(
    parseHookPayload(JSON.stringify({ hook_event_name: "PostToolUse", tool_name: "Read" })).kind,
    "ignored",
  );
});

// ---- lineage -------------------------------------------------------------------------------

Deno.test("decideLineage: created, modified, unchanged, and the store's latest when the payload is silent", () => {
  assert.deepEqual(decideLineage({ beforeId: null, afterId: "b", latestKnownId: "a" }), {
    kind: "created",
    patternId: "b",
  });
  assert.deepEqual(decideLineage({ beforeId: "a", afterId: "b", latestKnownId: null }), {
    kind: "modified",
    patternId: "b",
    parentPatternId: "a",
  });
  assert.deepEqual(decideLineage({ beforeId: "b", afterId: "b", latestKnownId: "a" }), {
    kind: "unchanged",
    patternId: "b",
  });
  assert.deepEqual(decideLineage({ beforeId: undefined, afterId: "b", latestKnownId: "a" }), {
    kind: "modified",
    patternId: "b",
    parentPatternId: "a",
  });
  assert.deepEqual(decideLineage({ beforeId: undefined, afterId: "b", latestKnownId: null }), {
    kind: "created",
    patternId: "b",
  });
  assert.deepEqual(decideLineage({ beforeId: undefined, afterId: "a", latestKnownId: "a" }), {
    kind: "unchanged",
    patternId: "a",
  });
});

Deno.test("guessTransformation follows its documented rules in order", () => {
  const g = (before: string, after: string, replaceAll = false) =>
    guessTransformation({ before, after, delta: lineDeltaBetween(before, after), replaceAll });
  assert.equal(g("x = foo\ny = foo\n", "x = bar\ny = bar\n", true), "refactor");
  assert.equal(g("a\nb\nc\nd\ne\n", "a\nb\n"), "simplification");
  assert.equal(
    g(
      "def f(x):\n    return x.y\n",
      "def f(x):\n    if x is None:\n        return 0\n    return x.y\n",
    ),
    "bugfix",
  );
  assert.equal(
    g("def f(x):\n    return g(x)\n", "@lru_cache\ndef f(x):\n    return g(x)\n"),
    "optimization",
  );
  assert.equal(
    g(
      "function f(x) {\n  return x.y;\n}\n",
      "function f(x) {\n  if (x === null) return 0;\n  return x.y;\n}\n",
    ),
    "bugfix",
  );
  assert.equal(
    g("const a = f(x);\n", "const a = f(x);\nconst seen = new Set(items);\n"),
    "optimization",
  );
  assert.equal(
    g("const a = 1;\n", "const a = 1;\nconst prefix = 'p';\n"),
    "enhancement",
    "no signal from a word that merely contains one",
  );
  assert.equal(g("a = 1\n", "a = 1\nb = 2\n"), "enhancement");
  assert.equal(g("a = 1\n", "a = 2\n"), "refactor");
});

// ---- config --------------------------------------------------------------------------------

Deno.test("config: env > file > defaults for every key", () => {
  const samples: Record<string, [unknown, string]> = {
    intelligence_url: ["http://file:1", "http://env:2"],
    enabled: [false, "true"],
    timeout_seconds: [1.5, "3"],
    max_retries: [1, "5"],
    batch_size: [10, "20"],
    data_dir: ["/file/data", "/env/data"],
    log_file: ["/file/log", "/env/log"],
    store_code: [false, "true"],
    auto_flush: [false, "true"],
    redact_secrets: [false, "true"],
    include_paths: [["*.py"], "*.ts,*.js"],
    exclude_paths: [["x/"], "y/"],
    max_pattern_bytes: [100, "200"],
    retention_days: [30, "90"],
    store_wait_ms: [50, "0"],
    store_prompts: [true, "false"],
  };
  assert.deepEqual(
    new Set(Object.keys(samples)),
    new Set(SETTINGS.map((s) => s.yaml)),
    "every setting is covered",
  );
  for (const s of SETTINGS) {
    const [fileValue, envValue] = samples[s.yaml]!;
    const defaults = resolveConfig({ env: {}, file: null, filePath: "c.yaml", home: "/h" }).config;
    const fromFile = resolveConfig({
      env: {},
      file: { [s.yaml]: fileValue },
      filePath: "c.yaml",
      home: "/h",
    });
    const fromEnv = resolveConfig({
      env: { [s.env]: envValue },
      file: { [s.yaml]: fileValue },
      filePath: "c.yaml",
      home: "/h",
    });
    assert.equal(fromFile.problems.length, 0, s.yaml);
    assert.equal(fromEnv.problems.length, 0, s.yaml);
    assert.notDeepEqual(fromFile.config[s.key], defaults[s.key], `${s.yaml}: the file changes it`);
    assert.notDeepEqual(
      fromEnv.config[s.key],
      fromFile.config[s.key],
      `${s.yaml}: the env wins over the file`,
    );
  }
});

Deno.test("config: bad values are reported with key and reason, and defaults are used", () => {
  const { config, problems } = resolveConfig({
    env: { PATTERN_TRACKER_MAX_RETRIES: "many", PATTERN_TRACKER_ENABLED: "perhaps" },
    file: {
      timeout_seconds: -1,
      batch_size: 5000,
      intelligence_url: "ftp://x",
      bogus: 1,
      include_paths: 3,
    },
    filePath: "c.yaml",
    home: "/h",
  });
  const d = defaultConfig("/h");
  assert.equal(config.maxRetries, d.maxRetries);
  assert.equal(config.enabled, d.enabled);
  assert.equal(config.timeoutSeconds, d.timeoutSeconds);
  assert.equal(config.batchSize, d.batchSize);
  assert.equal(config.intelligenceUrl, d.intelligenceUrl);
  const keys = problems.map((p) => p.key).sort();
  assert.deepEqual(keys, [
    "PATTERN_TRACKER_ENABLED",
    "PATTERN_TRACKER_MAX_RETRIES",
    "batch_size",
    "bogus",
    "include_paths",
    "intelligence_url",
    "timeout_seconds",
  ]);
  assert.ok(problems.every((p) => p.reason.length > 10));
  assert.equal(
    resolveConfig({ env: {}, file: [1], filePath: "c.yaml", home: "/h" }).problems[0]?.key,
    "(file)",
  );
});

Deno.test("config: ~ expands to home; a relative log file lives in the data dir", () => {
  const { config } = resolveConfig({
    env: {},
    file: { data_dir: "~/pt", log_file: "x.jsonl" },
    filePath: "c",
    home: "/home/dev",
  });
  assert.equal(config.dataDir, "/home/dev/pt");
  assert.equal(config.logFile, "/home/dev/pt/x.jsonl");
  assert.equal(defaultConfig("/home/dev").dataDir, "/home/dev/.claude/pattern-tracker");
  const relative = resolveConfig({
    env: { PATTERN_TRACKER_DATA_DIR: "data" },
    file: null,
    filePath: "c",
    home: "/home/dev",
  });
  assert.equal(
    relative.config.dataDir,
    "/home/dev/.claude/pattern-tracker",
    "a relative data dir is refused",
  );
  assert.match(relative.problems[0]?.reason ?? "", /absolute path/);
});

// ---- events --------------------------------------------------------------------------------

Deno.test("Phase 4 events carry only the API's fields and valid enum values", () => {
  const base = {
    patternId: "b",
    parentPatternId: "a",
    transformationType: "bugfix" as const,
    fileVersion: 2,
    filePath: "/p/x.py",
    language: "python",
    toolName: "Edit",
    code: "x",
    lineCount: 1,
    byteSize: 1,
    sessionId: "s",
    correlationId: "c",
    toolUseId: "t",
    timestamp: "2026-01-01T00:00:00.000Z",
    reason: "r",
    linesAdded: 1,
    linesRemoved: 0,
    durationMs: 3,
  };
  const modified = buildLineageEvent({ ...base, eventType: "pattern_modified" });
  assert.deepEqual(Object.keys(modified).sort(), [
    "edge_type",
    "event_type",
    "file_path",
    "language",
    "parent_pattern_ids",
    "pattern_data",
    "pattern_id",
    "pattern_name",
    "pattern_type",
    "pattern_version",
    "reason",
    "tool_name",
    "transformation_type",
    "triggered_by",
  ]);
  assert.ok((EVENT_TYPES as readonly string[]).includes(modified.event_type));
  assert.ok((EDGE_TYPES as readonly string[]).includes(modified.edge_type!));
  assert.ok((TRANSFORMATION_TYPES as readonly string[]).includes(modified.transformation_type!));
  assert.deepEqual(modified.parent_pattern_ids, ["a"]);
  assert.match(modified.pattern_version, /^2\.0\.0\+[0-9a-f]{12}$/);
  const created = buildLineageEvent({
    ...base,
    eventType: "pattern_created",
    parentPatternId: null,
    transformationType: null,
  });
  assert.deepEqual([created.parent_pattern_ids, created.edge_type, created.transformation_type], [
    [],
    null,
    null,
  ]);
  const noCode = buildLineageEvent({
    ...base,
    eventType: "pattern_created",
    code: null,
    codeOmitted: "store_code_off",
  });
  assert.equal("code" in noCode.pattern_data, false);
});
