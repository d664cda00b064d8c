import assert from "node:assert/strict";
import { redactSecrets } from "../src/record/secrets.ts";

/**
 * Redaction must not eat ordinary code: on real source that holds no secret it changes nothing.
 * The corpus is this repository (minus the files that hold secret samples on purpose) and, where
 * this machine has them, Python's standard library and npm's own code.
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** Files of this repository that hold made-up secrets on purpose (tests and doc examples). */
const SECRET_SAMPLES = new Set([
  "src/record/secrets.ts",
  "src/record/secret_formats.ts",
  "src/record/secret_assignments.ts",
  "tests/secret_fixtures.ts",
  "tests/secrets_test.ts",
  "tests/secrets_corpus_test.ts",
  "tests/privacy_test.ts",
  "tests/store_code_test.ts",
  "tests/track_test.ts",
  "tests/blame_test.ts",
  "tests/prompt_intent_test.ts",
  "tests/prompt_hook_test.ts",
  "tests/claude_prompt_test.ts",
  "bench/redaction.ts",
]);

/** Files of the machine's corpus that document a password with a literal example. */
const DOCUMENTED_EXAMPLES: Record<string, string[]> = {
  "distutils/command/register.py": ["sekrit"],
  "urllib/request.py": ["geheim$parole"],
};

function* walk(dir: string, extensions: RegExp): Generator<string> {
  for (const entry of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    const path = `${dir}/${entry.name}`;
    if (
      entry.isDirectory && !entry.isSymlink &&
      !/^(?:node_modules|\.cache|build|\.git|test|tests)$/.test(entry.name)
    ) {
      yield* walk(path, extensions);
    } else if (entry.isFile && extensions.test(entry.name)) yield path;
  }
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Redacts every file; returns the lines counted and what changed where it should not. */
function check(files: Iterable<string>, root: string): { lines: number; changed: string[] } {
  let lines = 0;
  const changed: string[] = [];
  for (const path of files) {
    const relative = path.slice(root.length);
    const code = Deno.readTextFileSync(path);
    lines += code.split("\n").length;
    const { text } = redactSecrets(code);
    const expected = DOCUMENTED_EXAMPLES[relative];
    if (expected) {
      for (const secret of expected) assert.ok(!text.includes(secret), `${relative}: ${secret}`);
      continue;
    }
    if (text !== code) {
      const before = code.split("\n");
      const line = text.split("\n").findIndex((l, i) => l !== before[i]);
      changed.push(`${relative}:${line + 1}: ${before[line]?.trim().slice(0, 120)}`);
    }
  }
  return { lines, changed };
}

Deno.test("no false positive on this repository's own code", () => {
  const files = [...walk(`${ROOT}src`, /\.ts$/), ...walk(`${ROOT}bench`, /\.ts$/)]
    .concat(
      [...Deno.readDirSync(`${ROOT}tests`)].filter((e) => e.isFile && e.name.endsWith(".ts"))
        .map((e) => `${ROOT}tests/${e.name}`),
    )
    .concat(
      ["tracker.ts", "pre_hook.ts", "post_hook.ts", "config.yaml", "deno.json"].map((f) =>
        ROOT + f
      ),
    )
    .filter((path) => !SECRET_SAMPLES.has(path.slice(ROOT.length)));
  const { lines, changed } = check(files, ROOT);
  assert.deepEqual(changed, []);
  assert.ok(lines > 5000, `${lines} lines`);
});

const PYTHON = "/usr/lib/python3.11/";
Deno.test({
  name: `no false positive on Python's standard library${
    exists(PYTHON) ? "" : ` (ignored: ${PYTHON} is not on this machine)`
  }`,
  ignore: !exists(PYTHON),
  fn() {
    const { lines, changed } = check(walk(PYTHON.slice(0, -1), /\.py$/), PYTHON);
    assert.deepEqual(changed, []);
    assert.ok(lines > 100_000, `${lines} lines`);
  },
});

const NPM = "/usr/lib/node_modules/npm/";
Deno.test({
  name: `no false positive on npm's own JavaScript${
    exists(NPM) ? "" : ` (ignored: ${NPM} is not on this machine)`
  }`,
  ignore: !exists(NPM),
  fn() {
    const files = [...walk(`${NPM}lib`, /\.(?:js|json)$/)];
    for (const entry of Deno.readDirSync(`${NPM}node_modules`)) {
      const dir = `${NPM}node_modules/${entry.name}`;
      if (entry.isDirectory && exists(`${dir}/lib`)) files.push(...walk(`${dir}/lib`, /\.js$/));
    }
    const { lines, changed } = check(files, NPM);
    assert.deepEqual(changed, []);
    assert.ok(lines > 20_000, `${lines} lines`);
  },
});
