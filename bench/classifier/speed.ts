/**
 * What the classifier costs a hook: a fresh Deno process that loads it and classifies one change
 * (bench/classifier/probe.ts), against an empty `deno run` in the same interleaved run; and the
 * classification alone, in process.
 *
 *   deno run --allow-read --allow-run --allow-env bench/classifier/speed.ts [--rounds 40]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { interleave, summarize } from "../lib.ts";
import { classifyTransformation } from "../../src/record/transformation.ts";

const { values } = parseArgs({ args: Deno.args, options: { rounds: { type: "string" } } });
const rounds = Number(values.rounds ?? 40);
const here = new URL(".", import.meta.url).pathname;
const flags = ["run", "--quiet", "--no-prompt", "--cached-only"];
const probe = (mode: string) => () => ({
  cmd: Deno.execPath(),
  args: [...flags, `${here}probe.ts`, mode],
  env: {},
});
const samples = await interleave([
  {
    name: "empty",
    spec: () => ({ cmd: Deno.execPath(), args: [...flags, `${here}../empty.ts`], env: {} }),
  },
  { name: "typical", spec: probe("typical") },
  {
    name: "empty2",
    spec: () => ({ cmd: Deno.execPath(), args: [...flags, `${here}../empty.ts`], env: {} }),
  },
  { name: "large", spec: probe("large") },
  { name: "new", spec: probe("new") },
], rounds);
const floor = summarize([...samples.empty!, ...samples.empty2!]);
console.log(`fresh process, ${rounds} interleaved rounds (median ms, ratio to an empty deno run):`);
console.log(`  empty deno run             ${floor.median.toFixed(1)} ms`);
for (
  const [name, label] of [
    ["typical", "3 KB file, 3-line edit"],
    ["large", "160 KB file, one edit"],
    ["new", "new 160 KB file"],
  ] as const
) {
  const s = summarize(samples[name]!);
  console.log(
    `  ${label.padEnd(26)} ${s.median.toFixed(1)} ms  ${(s.median / floor.median).toFixed(3)}x  (+${
      (s.median - floor.median).toFixed(1)
    } ms)`,
  );
}

// In process: the classification alone, after the first call (which decodes the weights).
const block = (i: number) =>
  `export function handler${i}(request: Request): Response {\n  const url = new URL(request.url);\n  if (url.pathname === "/${i}") {\n    return new Response("ok ${i}");\n  }\n  return new Response(null, { status: 404 });\n}\n\n`;
const file = (bytes: number) => {
  let text = "";
  for (let i = 0; text.length < bytes; i++) text += block(i);
  return text;
};
const decodeStart = performance.now();
classifyTransformation({ before: "", after: "x" });
console.log(
  `in process: first call (decodes the weights) ${(performance.now() - decodeStart).toFixed(2)} ms`,
);
for (
  const [label, before, after] of [
    ["3 KB file, 3-line edit", file(3_000), file(3_000).replace("ok 1", "ok one")],
    ["160 KB file, one edit", file(160_000), file(160_000).replace("ok 1", "ok one")],
    ["new 160 KB file", "", file(160_000)],
  ] as const
) {
  const times: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t = performance.now();
    classifyTransformation({ before, after, intent: "handle the query string" });
    times.push(performance.now() - t);
  }
  console.log(`in process: ${label.padEnd(24)} median ${summarize(times).median.toFixed(2)} ms`);
}
