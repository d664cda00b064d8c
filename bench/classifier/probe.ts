// A fresh process that loads the classifier and classifies one change, as a hook would:
// `typical` (a 3 KB file, a 3-line edit), `large` (a 160 KB file, one edit), `new` (a new 160 KB
// file). Measured by bench/classifier/speed.ts against an empty `deno run`.
import { classifyTransformation } from "../../src/record/transformation.ts";

const mode = Deno.args[0] ?? "typical";
const block = (i: number) =>
  `export function handler${i}(request: Request): Response {\n  const url = new URL(request.url);\n  if (url.pathname === "/${i}") {\n    return new Response("ok ${i}");\n  }\n  return new Response(null, { status: 404 });\n}\n\n`;
const file = (bytes: number) => {
  let text = "";
  for (let i = 0; text.length < bytes; i++) text += block(i);
  return text;
};
const before = mode === "new" ? "" : file(mode === "typical" ? 3_000 : 160_000);
const base = mode === "new" ? file(160_000) : before;
const after = base.replace(
  'return new Response("ok 1");',
  'return new Response(url.search ?? "ok 1");',
);
const type = classifyTransformation({ before, after, intent: "handle the query string" });
if (Deno.args[1] === "--print") console.log(type);
