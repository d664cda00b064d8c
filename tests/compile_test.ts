/**
 * Standalone binaries. `deno compile` needs its runtime (denort) from dl.deno.land; where that cannot
 * be obtained the build test skips with the message the compile command prints.
 */
import assert from "node:assert/strict";
import { compileArgs, explainCompileFailure } from "../src/cli/compile.ts";
import { journalFallbackDir } from "../src/record/journal.ts";
import { BINARIES } from "../src/runtime.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("compile arguments give each binary only the permissions its script needs", () => {
  const [pre, post, cli] = compileArgs({
    root: "/pt",
    outDir: "/pt/dist",
    hooksDir: "/h/.claude/hooks",
    dataDir: "/h/.claude/pattern-tracker",
    configPath: "/h/.claude/pattern-tracker/config.yaml",
    intelligenceUrl: "http://localhost:8053",
  });
  for (const b of [pre, post, cli]) {
    assert.ok(b);
    assert.ok(!b.args.some((a) => a === "-A" || a === "--allow-all"), b.name);
  }
  // The data directory, the spill journal's second place outside it, and the config.
  const fallback = journalFallbackDir("/h/.claude/pattern-tracker");
  assert.ok(
    pre!.args.includes(
      `--allow-read=/h/.claude/pattern-tracker,${fallback},/h/.claude/pattern-tracker/config.yaml`,
    ),
  );
  assert.ok(pre!.args.includes(`--allow-write=/h/.claude/pattern-tracker,${fallback}`));
  assert.ok(!pre!.args.some((a) => a.startsWith("--allow-net") || a.startsWith("--allow-run")));
  assert.ok(post!.args.includes("--allow-run=/h/.claude/hooks/pattern-tracker"));
  assert.ok(!post!.args.some((a) => a.startsWith("--allow-net")));
  assert.ok(cli!.args.includes("--allow-net=localhost:8053"));
  assert.deepEqual([pre!.name, post!.name, cli!.name], [
    "pattern-tracker-pre",
    "pattern-tracker-post",
    "pattern-tracker",
  ]);
});

Deno.test("the compiled prompt hook reads and writes its data directory and reads its config only", () => {
  const prompt = compileArgs({
    root: "/pt",
    outDir: "/pt/dist",
    hooksDir: "/h/.claude/hooks",
    dataDir: "/h/.claude/pattern-tracker",
    configPath: "/h/.claude/pattern-tracker/config.yaml",
    intelligenceUrl: "http://localhost:8053",
  }).find((b) => b.name === BINARIES.prompt);
  assert.ok(prompt);
  assert.equal(prompt.args.at(-1), "/pt/prompt_hook.ts");
  assert.deepEqual(prompt.args.filter((a) => a.startsWith("--allow-") || a === "-A"), [
    "--allow-read=/h/.claude/pattern-tracker,/h/.claude/pattern-tracker/config.yaml",
    "--allow-write=/h/.claude/pattern-tracker",
    "--allow-env=HOME,PATTERN_TRACKER_*",
  ]);
});

Deno.test("an unreachable compile runtime is explained, with what to do", () => {
  const msg = explainCompileFailure(
    "error: Writing deno compile executable\n    0: Setting up base binary.\n    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip)",
  );
  assert.match(msg, /dl\.deno\.land/);
  assert.match(msg, /DENORT_BIN/);
  assert.match(
    explainCompileFailure("error: TS2322 something"),
    /deno compile failed: error: TS2322/,
  );
});

// Probe once: can this machine compile at all?
const probeDir = Deno.makeTempDirSync({ prefix: "pt-compile-" });
Deno.writeTextFileSync(`${probeDir}/empty.ts`, "");
const probe = new Deno.Command(Deno.execPath(), {
  args: ["compile", "--quiet", `--output=${probeDir}/empty`, `${probeDir}/empty.ts`],
  stdout: "null",
  stderr: "piped",
}).outputSync();
const compileSkip = probe.success
  ? null
  : explainCompileFailure(new TextDecoder().decode(probe.stderr));
if (compileSkip) console.log(`compile tests skipped: ${compileSkip}`);

Deno.test({
  name: "deno task compile builds four binaries; the compiled hooks record a session",
  ignore: compileSkip !== null,
  async fn() {
    const home = Deno.makeTempDirSync({ prefix: "pt-compiled-home-" });
    const env = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      PATTERN_TRACKER_AUTO_FLUSH: "false",
    };
    const out = `${home}/dist`;
    const build = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        `${ROOT}/tracker.ts`,
        "compile",
        "--out",
        out,
        "--hooks-dir",
        `${home}/.claude/hooks`,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(build.code, 0, new TextDecoder().decode(build.stderr));
    const fixtures = [
      "10-user-prompt-submit",
      "01-pre-write",
      "02-post-write",
      "03-pre-edit",
      "04-post-edit",
    ];
    for (const fixture of fixtures) {
      const bin = fixture.includes("prompt")
        ? BINARIES.prompt
        : fixture.includes("pre")
        ? "pattern-tracker-pre"
        : "pattern-tracker-post";
      const child = new Deno.Command(`${out}/${bin}`, {
        env,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      await w.write(Deno.readFileSync(`${ROOT}/src/cli/demo_session/${fixture}.json`));
      await w.close();
      const r = await child.output();
      assert.equal(r.code, 0);
      assert.equal(r.stdout.length, 0);
    }
    const lineage = await new Deno.Command(`${out}/pattern-tracker`, {
      args: ["lineage", "app.py", "--json"],
      env,
      stdout: "piped",
    }).output();
    const json = JSON.parse(new TextDecoder().decode(lineage.stdout));
    assert.equal(json.versions.length, 2);
  },
});

Deno.test({
  name: "deno task compile fails with a clear message where the runtime cannot be obtained",
  ignore: compileSkip === null,
  async fn() {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/tracker.ts`, "compile", "--out", `${probeDir}/dist`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(r.code, 1);
    assert.match(
      new TextDecoder().decode(r.stderr),
      /could not obtain its runtime|deno compile failed/,
    );
  },
});

Deno.test({
  name:
    "install --compiled copies the binaries into the hooks dir and points settings.json at them",
  // Uses dist/ of the checkout; never touches real binaries someone built there.
  ignore: (() => {
    try {
      Deno.statSync(`${ROOT}/dist`);
      return true;
    } catch {
      return false;
    }
  })(),
  async fn() {
    Deno.mkdirSync(`${ROOT}/dist`);
    try {
      for (const name of Object.values(BINARIES)) {
        Deno.writeTextFileSync(`${ROOT}/dist/${name}`, "#!/bin/sh\ncat >/dev/null\n");
      }
      const home = Deno.makeTempDirSync({ prefix: "pt-install-compiled-" });
      const r = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          `${ROOT}/tracker.ts`,
          "install",
          "--compiled",
          "--hooks-dir",
          `${home}/hooks`,
          "--settings",
          `${home}/settings.json`,
        ],
        env: { HOME: home, PATTERN_TRACKER_DATA_DIR: `${home}/data` },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      const settings = JSON.parse(Deno.readTextFileSync(`${home}/settings.json`));
      assert.equal(
        settings.hooks.PreToolUse[0].hooks[0].command,
        `'${home}/hooks/pattern-tracker-pre'`,
      );
      assert.equal(
        settings.hooks.PostToolUse[0].hooks[0].command,
        `'${home}/hooks/pattern-tracker-post'`,
      );
      assert.equal(
        settings.hooks.UserPromptSubmit[0].hooks[0].command,
        `'${home}/hooks/pattern-tracker-prompt'`,
      );
      for (const name of Object.values(BINARIES)) {
        assert.equal(Deno.statSync(`${home}/hooks/${name}`).mode! & 0o777, 0o755);
      }
    } finally {
      Deno.removeSync(`${ROOT}/dist`, { recursive: true });
    }
  },
});
