// The flat-YAML reader must agree with js-yaml (JSON schema) whenever it answers, and must answer
// for the shipped config.yaml (otherwise every hook would load js-yaml again).
import assert from "node:assert/strict";
import yaml from "js-yaml";
import { parseFlatYaml } from "../src/config/flat_yaml.ts";
import { loadConfig } from "../src/config/mod.ts";
import { seeded } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname;

function jsYaml(text: string): unknown {
  const value = yaml.load(text, { schema: yaml.JSON_SCHEMA });
  return value === undefined || value === null ? {} : value;
}

/** Asserts the reader either declines or gives exactly what js-yaml gives; returns whether it answered. */
function agrees(text: string): boolean {
  const flat = parseFlatYaml(text);
  if (flat === undefined) return false;
  let expected: unknown;
  try {
    expected = jsYaml(text);
  } catch (error) {
    assert.fail(
      `the flat reader accepted what js-yaml rejects (${(error as Error).message}):\n${text}`,
    );
  }
  assert.deepEqual(flat, expected, `differs from js-yaml on:\n${text}`);
  return true;
}

Deno.test("flat YAML: the shipped config.yaml is read without js-yaml, with js-yaml's result", () => {
  const text = Deno.readTextFileSync(`${ROOT}config.yaml`);
  assert.ok(agrees(text), "config.yaml must stay inside the flat subset");
  assert.equal(parseFlatYaml(text)?.intelligence_url, "http://localhost:8053");
  assert.equal(parseFlatYaml(text)?.timeout_seconds, 2);
});

Deno.test("flat YAML: each form of the subset, and what it leaves to js-yaml", () => {
  const inside: string[] = [
    "",
    "# only a comment\n\n",
    "a: 1\nb: 2.50\nc: true\nd: false\ne: text with spaces\n",
    "url: http://localhost:8053/x#frag  # a comment\n",
    "a: \"double # not a comment\"\nb: 'single' # comment\n",
    "a:\nb: ~/data\nc: /abs/path\n",
    "globs: [a, 'b/**', \"*.env\"]\nempty: []\n",
    "globs:\n  - 'a/**'\n  - src/*.ts # comment\n\n  # between items\n  - \"*.pem\"\nnext: 1\n",
    "globs:\n- a\n- b\n",
    "a: 1\r\nb: two\r\n",
    "\uFEFFa: 1\n",
    "a: x#y\nb: it's\nc: yes\nd: Infinity\n",
  ];
  for (const text of inside) assert.ok(agrees(text), `expected the fast path for:\n${text}`);

  const outside: string[] = [
    "a: &x 1\nb: *x\n", // anchors and aliases
    "a: !!str 1\n", // tags
    "a: |\n  block\n", // block scalar
    'a: "esc\\n"\n', // escapes
    "a: 'it''s'\n", // doubled quote
    "a: True\nb: NULL\nc: ~\n", // other spellings of booleans and null
    "a: 0x10\nb: -1\nc: .5\nd: 1e3\ne: 010\n", // other number forms
    "a: 1\na: 2\n", // duplicate key (js-yaml rejects it)
    "a:\n  b: 1\n", // nested mapping
    "a: b: c\n", // mapping in a value
    "a: plain\n  continued\n", // multi-line plain scalar
    "- a\n", // top-level list
    "---\na: 1\n", // document marker
    "a:\tb\n", // tab
    "globs: [a, [b]]\n", // nested flow
    "globs: ['a, b']\n", // comma inside quotes
    "a: **/x\n", // alias indicator at the start
    "__proto__: 1\n",
    'a: "x"y\n',
  ];
  for (const text of outside) {
    assert.equal(parseFlatYaml(text), undefined, `expected js-yaml for:\n${text}`);
  }
});

Deno.test("flat YAML: agrees with js-yaml on 20,000 generated documents", () => {
  // A fixed-seed generator (reproducible failures) over fragments that YAML treats differently.
  const { next, pick } = seeded(0x2545f491);
  const keys = ["a", "b", "key_1", "_k", "true", "null", "Key"];
  const scalars = [
    "1",
    "0",
    "2.0",
    "10.25",
    "1.",
    "1_0",
    "007",
    "-3",
    "1e2",
    "true",
    "false",
    "True",
    "null",
    "~",
    "~/x",
    "/p/q",
    "http://h:1/p",
    "a b",
    "a#b",
    "a #c",
    "a: b",
    "a:",
    "x,y",
    "[x]",
    "{x}",
    "*x",
    "&x",
    "!x",
    "%x",
    "@x",
    "`x",
    "|",
    ">",
    '"q"',
    '"q # r"',
    "'s'",
    "'s''t'",
    '"e\\t"',
    '"u',
    "'v",
    "yes",
    "on",
    ".inf",
    "a'b",
    'a"b',
    "",
  ];
  const lines = [
    () => `${pick(keys)}: ${pick(scalars)}`,
    () => `${pick(keys)}:${pick(["", " ", "  "])}`,
    () => `${pick(keys)}: [${pick(scalars)}, ${pick(scalars)}]`,
    () => `${pick(keys)}: []`,
    () => `${pick(["", "  ", "    "])}- ${pick(scalars)}`,
    () => `${pick(["", "  "])}# ${pick(scalars)}`,
    () => "",
    () => `  ${pick(scalars)}`,
    () => `${pick(keys)}: ${pick(scalars)} # ${pick(scalars)}`,
  ];
  let answered = 0;
  const total = 20_000;
  for (let i = 0; i < total; i++) {
    const count = 1 + next(5);
    const text = Array.from({ length: count }, () => pick(lines)()).join(pick(["\n", "\r\n"])) +
      "\n";
    if (agrees(text)) answered++;
  }
  // The generator must exercise the fast path, not only the fallback.
  assert.ok(answered > total / 10, `only ${answered} of ${total} documents took the fast path`);
});

Deno.test("loadConfig: the fast path and the js-yaml path give the same settings", async () => {
  const dir = Deno.makeTempDirSync();
  const flat = `${dir}/flat.yaml`;
  const full = `${dir}/full.yaml`;
  Deno.writeTextFileSync(flat, "max_retries: 5\nexclude_paths:\n  - '*.secret'\n");
  // An anchor puts the same settings outside the subset: js-yaml reads this one.
  Deno.writeTextFileSync(full, "max_retries: &n 5\nexclude_paths: [&g '*.secret']\n");
  assert.equal(parseFlatYaml(Deno.readTextFileSync(full)), undefined);
  const previous = Deno.env.get("PATTERN_TRACKER_CONFIG");
  try {
    const results = [];
    for (const path of [flat, full]) {
      Deno.env.set("PATTERN_TRACKER_CONFIG", path);
      results.push(await loadConfig());
    }
    const [fromFlat, fromFull] = results;
    assert.deepEqual(fromFlat?.problems, []);
    assert.deepEqual(fromFull?.problems, []);
    assert.equal(fromFlat?.config.maxRetries, 5);
    assert.deepEqual(fromFlat?.config.excludePaths, ["*.secret"]);
    assert.deepEqual(fromFlat?.config, fromFull?.config);
  } finally {
    if (previous === undefined) Deno.env.delete("PATTERN_TRACKER_CONFIG");
    else Deno.env.set("PATTERN_TRACKER_CONFIG", previous);
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("loadConfig cache: reused while file, environment and home are unchanged, never stale", async () => {
  const dir = Deno.makeTempDirSync();
  const dataDir = `${dir}/data`;
  Deno.mkdirSync(dataDir);
  const configPath = `${dir}/config.yaml`;
  Deno.writeTextFileSync(configPath, "max_retries: 5\nbatch_size: 0\n");
  const saved = new Map(
    ["PATTERN_TRACKER_CONFIG", "PATTERN_TRACKER_DATA_DIR", "PATTERN_TRACKER_TIMEOUT_SECONDS"].map((
      k,
    ) => [k, Deno.env.get(k)]),
  );
  const cacheFile = `${dataDir}/config-cache.json`;
  try {
    Deno.env.set("PATTERN_TRACKER_CONFIG", configPath);
    Deno.env.set("PATTERN_TRACKER_DATA_DIR", dataDir);
    Deno.env.delete("PATTERN_TRACKER_TIMEOUT_SECONDS");
    const first = await loadConfig({ cache: true });
    assert.equal(first.config.maxRetries, 5);
    assert.equal(first.problems[0]?.key, "batch_size", "a bad value is a problem");
    const stored = JSON.parse(Deno.readTextFileSync(cacheFile));
    assert.equal(stored.entries.length, 1);
    assert.deepEqual(stored.entries[0].value.config, first.config);
    assert.equal((Deno.statSync(cacheFile).mode ?? 0) & 0o777, 0o600);

    // The cache is what the next run reads: a doctored value with the same key comes back...
    stored.entries[0].value.config.maxRetries = 42;
    Deno.writeTextFileSync(cacheFile, JSON.stringify(stored));
    const second = await loadConfig({ cache: true });
    assert.equal(second.config.maxRetries, 42);
    assert.deepEqual(second.problems, first.problems, "problems are reported on every run");
    // ...and without the option nothing reads it.
    assert.equal((await loadConfig()).config.maxRetries, 5);

    // Any change to what it was resolved from is seen at once.
    Deno.writeTextFileSync(configPath, "max_retries: 6\n");
    assert.equal((await loadConfig({ cache: true })).config.maxRetries, 6);
    Deno.env.set("PATTERN_TRACKER_TIMEOUT_SECONDS", "7");
    const withEnv = await loadConfig({ cache: true });
    assert.equal(withEnv.config.timeoutSeconds, 7);
    assert.equal(withEnv.config.maxRetries, 6);
    // Two environments (two sessions) each keep their entry instead of evicting each other.
    Deno.env.delete("PATTERN_TRACKER_TIMEOUT_SECONDS");
    assert.equal((await loadConfig({ cache: true })).config.timeoutSeconds, 2);
    const entries = JSON.parse(Deno.readTextFileSync(cacheFile)).entries;
    assert.equal(entries.length, 3, "file v2 + env, file v2 alone, and file v1 (still kept)");
    for (const e of entries) e.value.config.batchSize = 999;
    Deno.writeTextFileSync(cacheFile, JSON.stringify({ entries }));
    Deno.env.set("PATTERN_TRACKER_TIMEOUT_SECONDS", "7");
    assert.equal((await loadConfig({ cache: true })).config.batchSize, 999, "served from cache");
    Deno.env.delete("PATTERN_TRACKER_TIMEOUT_SECONDS");
    assert.equal((await loadConfig({ cache: true })).config.batchSize, 999, "served from cache");
    Deno.env.set("PATTERN_TRACKER_TIMEOUT_SECONDS", "7");

    // A damaged cache is ignored and replaced.
    Deno.writeTextFileSync(cacheFile, "{not json");
    assert.equal((await loadConfig({ cache: true })).config.maxRetries, 6);
    assert.equal(
      JSON.parse(Deno.readTextFileSync(cacheFile)).entries[0].value.config.maxRetries,
      6,
    );
  } finally {
    for (const [k, v] of saved) v === undefined ? Deno.env.delete(k) : Deno.env.set(k, v);
    Deno.removeSync(dir, { recursive: true });
  }
});
