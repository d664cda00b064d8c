/**
 * One source for the permission flags: the command lines `install` writes (run through the real
 * launcher), the plugin's launcher, the background flusher and the `deno compile` binaries all carry
 * exactly what `permissionFlags` grants.
 */
import assert from "node:assert/strict";
import { compileArgs } from "../src/cli/compile.ts";
import { directHookCommands, hookCommands } from "../src/cli/install.ts";
import { JOURNAL_FALLBACK_FILE } from "../src/cli/launcher.ts";
import { flusherCommand } from "../src/delivery/flusher.ts";
import { journalFallbackDir } from "../src/record/journal.ts";
import { ALLOWED_ENV, denoRunArgs, type Grant, permissionFlags } from "../src/permissions.ts";
import { BINARIES } from "../src/runtime.ts";
import { runHookProcess } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** A stand-in for Deno that writes the arguments it was started with (NUL-separated) to `out`. */
function recordingDeno(dir: string): { deno: string; out: string } {
  const deno = `${dir}/fake deno`;
  const out = `${dir}/argv`;
  Deno.writeTextFileSync(deno, `#!/bin/sh\nprintf '%s\\0' "$@" >'${out}'\ncat >/dev/null\n`);
  Deno.chmodSync(deno, 0o755);
  return { deno, out };
}

function argvOf(out: string): string[] {
  return Deno.readTextFileSync(out).split("\0").slice(0, -1);
}

// Paths with a space and a quote: the shell must hand them over intact.
function world() {
  const dir = Deno.makeTempDirSync({ prefix: "pt-perm-" });
  const dataDir = `${dir}/o'neil data`;
  const configPath = `${dir}/my config.yaml`;
  Deno.mkdirSync(dataDir);
  return { dir, dataDir, configPath, ...recordingDeno(dir) };
}

Deno.test("install's command lines run the launcher, which execs exactly denoRunArgs", async () => {
  const w = world();
  const setup = { deno: w.deno, root: ROOT, dataDir: w.dataDir, configPath: w.configPath };
  const commands = hookCommands(setup);
  const grants: Record<"pre" | "post" | "prompt", Grant> = {
    pre: { program: "pre", dataDir: w.dataDir, configPath: w.configPath },
    post: { program: "post", dataDir: w.dataDir, configPath: w.configPath, flusher: w.deno },
    prompt: { program: "prompt", dataDir: w.dataDir, configPath: w.configPath },
  };
  for (const hook of ["pre", "post", "prompt"] as const) {
    const r = await runHookProcess(commands[hook], { PATH: "/usr/bin:/bin" }, new Uint8Array(1));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      argvOf(w.out),
      denoRunArgs(grants[hook], ROOT, `${ROOT}/${hook}_hook.ts`),
      `${hook}: the launcher's flags are permissionFlags'`,
    );
    // The line the benchmark compares with runs the same thing without the launcher.
    Deno.removeSync(w.out);
    await runHookProcess(
      directHookCommands(setup)[hook],
      { PATH: "/usr/bin:/bin" },
      new Uint8Array(),
    );
    assert.deepEqual(argvOf(w.out), denoRunArgs(grants[hook], ROOT, `${ROOT}/${hook}_hook.ts`));
  }
});

Deno.test("a bundled hook (.js) compiles eagerly, the .ts sources lazily: launcher and direct lines agree", async () => {
  const w = world();
  const scripts = { pre: `${w.dir}/pre_hook.js`, post: `${w.dir}/post_hook.js` };
  for (const script of Object.values(scripts)) Deno.writeTextFileSync(script, "");
  const setup = { deno: w.deno, root: ROOT, dataDir: w.dataDir, configPath: w.configPath, scripts };
  const grants: Record<"pre" | "post", Grant> = {
    pre: { program: "pre", dataDir: w.dataDir, configPath: w.configPath },
    post: { program: "post", dataDir: w.dataDir, configPath: w.configPath, flusher: w.deno },
  };
  for (const hook of ["pre", "post"] as const) {
    for (const line of [hookCommands(setup)[hook], directHookCommands(setup)[hook]]) {
      const r = await runHookProcess(line, { PATH: "/usr/bin:/bin" }, new Uint8Array());
      assert.equal(r.code, 0, r.stderr);
      const argv = argvOf(w.out);
      assert.deepEqual(argv, denoRunArgs(grants[hook], ROOT, scripts[hook]));
      assert.ok(argv.includes("--v8-flags=--no-lazy"), argv.join(" "));
    }
  }
  // The sources: V8's default, said explicitly (the code cache the CLI shares stays valid).
  const sources = denoRunArgs(grants.pre, ROOT, `${ROOT}/pre_hook.ts`);
  assert.ok(sources.includes("--v8-flags=--lazy"));
  // Only the hooks carry a compile flag.
  const files = { dataDir: "/d", configPath: "/c.yaml" };
  const flusher = denoRunArgs({ program: "flusher", ...files, service: "h:1" }, "/pt", "/pt/x.js");
  assert.ok(!flusher.some((a) => a.startsWith("--v8-flags")));
});

Deno.test("the plugin's launcher (no values given) grants the same, for CLAUDE_PLUGIN_DATA", async () => {
  const w = world();
  const r = await runHookProcess(`exec '${ROOT}/hooks/pattern-tracker.sh' post`, {
    PATH: "/usr/bin:/bin",
    HOME: w.dir,
    CLAUDE_PLUGIN_DATA: w.dataDir,
    PATTERN_TRACKER_DENO: w.deno,
  }, new Uint8Array());
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    argvOf(w.out),
    denoRunArgs(
      {
        program: "post",
        dataDir: w.dataDir,
        configPath: `${w.dataDir}/config.yaml`,
        flusher: w.deno,
      },
      ROOT,
      `${ROOT}/post_hook.ts`,
    ),
  );
});

Deno.test("the plugin's launcher runs the prompt hook with its own grant: data dir, config, its env; no journal, run or net", async () => {
  const w = world();
  const r = await runHookProcess(`exec '${ROOT}/hooks/pattern-tracker.sh' prompt`, {
    PATH: "/usr/bin:/bin",
    HOME: w.dir,
    CLAUDE_PLUGIN_DATA: w.dataDir,
    PATTERN_TRACKER_DENO: w.deno,
  }, new Uint8Array());
  assert.equal(r.code, 0, r.stderr);
  const grant: Grant = {
    program: "prompt",
    dataDir: w.dataDir,
    configPath: `${w.dataDir}/config.yaml`,
  };
  assert.deepEqual(argvOf(w.out), denoRunArgs(grant, ROOT, `${ROOT}/prompt_hook.ts`));
  assert.deepEqual(permissionFlags(grant), [
    `--allow-read=${w.dataDir},${w.dataDir}/config.yaml`,
    `--allow-write=${w.dataDir}`,
    "--allow-env=HOME,PATTERN_TRACKER_*",
  ]);
});

Deno.test("the launcher remembers the journal's fallback for its data directory, and recomputes one remembered for another", async () => {
  const w = world();
  const commands = hookCommands({
    deno: w.deno,
    root: ROOT,
    dataDir: w.dataDir,
    configPath: w.configPath,
  });
  const expected = journalFallbackDir(w.dataDir);
  const remembered = `${w.dataDir}/${JOURNAL_FALLBACK_FILE}`;
  const flagsOfRun = async () => {
    const r = await runHookProcess(commands.pre, { PATH: "/usr/bin:/bin" }, new Uint8Array());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "");
    return argvOf(w.out).filter((a) => a.startsWith("--allow-write="));
  };
  assert.deepEqual(await flagsOfRun(), [`--allow-write=${w.dataDir},${expected}`]);
  assert.equal(Deno.readTextFileSync(remembered), `${w.dataDir}\n${expected}\n`);
  // Remembered for another data directory (a moved one): not trusted, computed and remembered anew.
  Deno.writeTextFileSync(remembered, `/elsewhere\n/tmp/pattern-tracker-1\n`);
  assert.deepEqual(await flagsOfRun(), [`--allow-write=${w.dataDir},${expected}`]);
  assert.equal(Deno.readTextFileSync(remembered), `${w.dataDir}\n${expected}\n`);
});

Deno.test("the flusher and the compiled binaries carry permissionFlags' grants", () => {
  const files = { dataDir: "/h/.claude/pattern-tracker", configPath: "/h/pt/config.yaml" };
  const flusher = flusherCommand({
    deno: "/bin/deno",
    root: "/pt",
    ...files,
    intelligenceUrl: "http://localhost:8053",
  });
  assert.deepEqual(
    flusher.slice(1, -3),
    denoRunArgs({ program: "flusher", ...files, service: "localhost:8053" }, "/pt", "x").slice(
      0,
      -1,
    ),
  );
  const [pre, post, cli] = compileArgs({
    root: "/pt",
    outDir: "/pt/dist",
    hooksDir: "/h/.claude/hooks",
    ...files,
    intelligenceUrl: "http://localhost:8053",
  });
  const flags = (args: string[]) => args.filter((a) => a.startsWith("--allow-"));
  assert.deepEqual(flags(pre!.args), permissionFlags({ program: "pre", ...files }));
  assert.deepEqual(
    flags(post!.args),
    permissionFlags({ program: "post", ...files, flusher: `/h/.claude/hooks/${BINARIES.cli}` }),
  );
  assert.deepEqual(
    flags(cli!.args),
    permissionFlags({ program: "cli", service: "localhost:8053" }),
  );
});

Deno.test("every hook-side grant lets the hooks read CLAUDE_PROJECT_DIR and never grants everything", () => {
  const files = { dataDir: "/d", configPath: "/c" };
  const grants: Grant[] = [
    { program: "pre", ...files },
    { program: "post", ...files, flusher: "/bin/deno" },
    { program: "flusher", ...files, service: "h:1" },
  ];
  for (const grant of grants) {
    const flags = permissionFlags(grant);
    assert.ok(flags.includes(`--allow-env=${ALLOWED_ENV.join(",")}`), grant.program);
    assert.ok(ALLOWED_ENV.includes("CLAUDE_PROJECT_DIR"));
    assert.ok(!flags.some((f) => f === "-A" || f === "--allow-all"), grant.program);
    assert.equal(flags.some((f) => f.startsWith("--allow-net")), grant.program === "flusher");
    assert.equal(flags.some((f) => f.startsWith("--allow-run")), grant.program === "post");
    // The data directory, and the spill journal's second place outside it.
    const fallback = journalFallbackDir("/d");
    assert.ok(flags.includes(`--allow-read=/d,${fallback},/c`), grant.program);
    assert.ok(flags.includes(`--allow-write=/d,${fallback}`), grant.program);
  }
});
