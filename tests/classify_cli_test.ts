/** `tracker.ts classify`: the line parser, and the command as a process. */
import assert from "node:assert/strict";
import { parseClassifyLine } from "../src/cli/classify.ts";
import { classifyTransformation } from "../src/record/transformation.ts";
import { denoDirEnv } from "./support.ts";

const TRACKER = new URL("../tracker.ts", import.meta.url).pathname;

async function classifyProcess(
  input: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-read",
      "--allow-env",
      TRACKER,
      "classify",
      ...args,
    ],
    env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent", ...denoDirEnv() },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

Deno.test("classify parser: changes, blanks, and every kind of bad line with its reason", () => {
  assert.deepEqual(parseClassifyLine('{"before":"a","after":"b","intent":"fix b"}'), {
    kind: "change",
    input: { before: "a", after: "b", intent: "fix b" },
  });
  assert.deepEqual(parseClassifyLine('{"before":null,"after":"b"}'), {
    kind: "change",
    input: { before: "", after: "b", intent: null },
  });
  assert.deepEqual(parseClassifyLine("   "), { kind: "blank" });
  const errors: [string, RegExp][] = [
    ["{not json", /^not JSON/],
    ["[1,2]", /got an array/],
    ["null", /got null/],
    ['"text"', /got string/],
    ['{"before":"a"}', /"after" is missing/],
    ['{"before":1,"after":"b"}', /"before" must be a string/],
    ['{"before":"a","after":["b"]}', /"after" must be a string/],
    ['{"before":"a","after":"b","intent":{}}', /"intent" must be a string or null/],
  ];
  for (const [line, reason] of errors) {
    const parsed = parseClassifyLine(line);
    assert.equal(parsed.kind, "error", line);
    assert.match((parsed as { message: string }).message, reason, line);
  }
});

Deno.test("classify process: one output line per input line, bad lines reported by number, the same answers as the module", async () => {
  const changes = [
    { before: "", after: "export const a = 1;\n", intent: "add a" },
    { before: "x = 1\n", after: "x = 2\n", intent: "fix the off-by-one in x" },
    { before: "let a = f();\r\n", after: "let a = f() ?? 0;\r\n" },
  ];
  const input = [
    JSON.stringify(changes[0]),
    "this is not json",
    JSON.stringify(changes[1]),
    "",
    '{"before":"a"}',
    JSON.stringify(changes[2]),
  ].join("\n") + "\n";
  const r = await classifyProcess(input);
  assert.equal(r.code, 1, r.stderr);
  const lines: { error?: string; transformation_type?: string }[] = r.stdout.trimEnd().split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(lines, [
    { transformation_type: classifyTransformation(changes[0]!) },
    { error: lines[1]!.error },
    { transformation_type: classifyTransformation(changes[1]!) },
    { error: lines[3]!.error },
    { transformation_type: classifyTransformation(changes[2]!) },
  ]);
  assert.match(lines[1]!.error ?? "", /^line 2: not JSON/);
  assert.match(lines[3]!.error ?? "", /^line 5: "after" is missing/);
  const errLines = r.stderr.trimEnd().split("\n");
  assert.equal(errLines.length, 2, r.stderr);
  assert.match(errLines[0]!, /^error: classify: line 2: not JSON/);
  assert.match(errLines[1]!, /^error: classify: line 5: /);
});

Deno.test("classify process: thousands of lines, a last line without newline, --explain", async () => {
  const one = JSON.stringify({
    before: "function f(x) {\n  return x;\n}\n",
    after: "function f(x) {\n  if (x == null) return 0;\n  return x;\n}\n",
  });
  const r = await classifyProcess(Array(3000).fill(one).join("\n"));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 3000);
  assert.equal(new Set(lines).size, 1);
  const explained = await classifyProcess(one + "\n", ["--explain"]);
  assert.equal(explained.code, 0, explained.stderr);
  const e = JSON.parse(explained.stdout);
  assert.equal(e.transformation_type, JSON.parse(lines[0]!).transformation_type);
  assert.equal(Object.keys(e.probabilities).length, 4);
  assert.ok(Array.isArray(e.strongest));
});
