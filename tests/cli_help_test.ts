import assert from "node:assert/strict";
import { renderCommandHelp, renderHelp } from "../src/cli/command.ts";
import { COMMANDS, findCommand } from "../src/cli/registry.ts";
import { ROOT } from "../src/runtime.ts";
import { runCli } from "./support.ts";

Deno.test("the README's list of commands is the one `help` generates from the registry", () => {
  const readme = Deno.readTextFileSync(`${ROOT}/README.md`);
  assert.ok(
    readme.includes("```text\n" + renderHelp(COMMANDS) + "\n```"),
    "README.md's list differs from `tracker.ts help`: paste its output into the README",
  );
});

Deno.test("every command has a name of its own and a summary", () => {
  const names = COMMANDS.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, `a name twice: ${names.join(", ")}`);
  for (const c of COMMANDS) {
    assert.ok(c.summary.length > 0, c.name);
    assert.equal(findCommand(c.name), c);
  }
});

Deno.test("`<command> --help` and `help <command>` print the command's generated help, exit 0", async () => {
  const env = { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", HOME: Deno.makeTempDirSync() };
  const lineage = findCommand("lineage")!;
  for (const args of [["lineage", "--help"], ["help", "lineage"]]) {
    const r = await runCli(args, env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd(), renderCommandHelp(lineage));
  }
  const unknown = await runCli(["help", "frobnicate"], env);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown command "frobnicate"/);
});
