/**
 * `install` and `uninstall`: the settings merge, writing through a symlinked settings.json, no
 * leftovers when a write fails, and the choice of a Deno that outlasts the install.
 */
import assert from "node:assert/strict";
import {
  hookCommands,
  isOurCommand,
  mergeHookSettings,
  removeHookSettings,
  shellQuote,
} from "../src/cli/install.ts";
import { settingsTarget } from "../src/cli/settings_file.ts";
import {
  chooseDeno,
  type DenoChoice,
  type DenoProbe,
  inPackageCache,
} from "../src/cli/stable_deno.ts";
import { openStore } from "../src/store/mod.ts";
import { denoDirEnv, runCli, runHookProcess, vanishableDeno } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

// ---- the settings merge (pure) ----------------------------------------------------------------

Deno.test("install merges our hooks, keeps everything else, and is idempotent; uninstall removes only ours", () => {
  const theirs = { type: "command", command: "/usr/local/bin/lint-on-save" };
  const settings = {
    model: "opus",
    permissions: { allow: ["Bash(ls)"] },
    hooks: {
      PostToolUse: [{ matcher: "Write|Edit", hooks: [theirs] }],
      SessionStart: [{ hooks: [{ type: "command", command: "echo hi" }] }],
      Stop: [{ hooks: [{ type: "command", command: "notify" }] }],
    },
  };
  const commands = hookCommands({
    deno: "/bin/deno",
    root: "/pt",
    dataDir: "/d",
    configPath: "/pt/config.yaml",
  });
  const once = mergeHookSettings(settings, commands);
  assert.deepEqual(mergeHookSettings(once, commands), once, "idempotent");
  const hooks = once.hooks as Record<string, { hooks: { command: string }[] }[]>;
  assert.equal(hooks.PreToolUse?.[0]?.hooks[0]?.command, commands.pre);
  assert.equal(hooks.PostToolUse?.length, 2);
  assert.equal(hooks.PostToolUseFailure?.[0]?.hooks[0]?.command, commands.post);
  assert.equal(hooks.SessionStart?.length, 2, "theirs and ours");
  assert.equal(hooks.SessionStart?.[1]?.hooks[0]?.command, commands.sessionStart);
  assert.equal(hooks.UserPromptSubmit?.[0]?.hooks[0]?.command, commands.prompt);
  assert.ok(
    commands.prompt.includes(" prompt '/bin/deno' '/d' '/pt/config.yaml' '/pt/prompt_hook.ts'"),
  );
  assert.deepEqual(removeHookSettings(once), settings);
  // Our hook inside someone else's matcher group: only ours goes.
  const mixed = {
    hooks: {
      PreToolUse: [{ matcher: "*", hooks: [theirs, { type: "command", command: commands.pre }] }],
    },
  };
  assert.deepEqual(removeHookSettings(mixed), {
    hooks: { PreToolUse: [{ matcher: "*", hooks: [theirs] }] },
  });
});

Deno.test("install's command lines name the launcher and its values, quoted for the shell", async () => {
  const c = hookCommands({
    deno: "/opt/my deno/deno",
    root: "/pt",
    dataDir: "/home/o'neil/data",
    configPath: "/pt/config.yaml",
  });
  for (const cmd of [c.pre, c.post, c.prompt, c.sessionStart]) {
    assert.ok(cmd.startsWith("exec '/pt/hooks/pattern-tracker.sh' "), cmd);
    assert.ok(cmd.includes(` '/opt/my deno/deno' '/home/o'\\''neil/data' '/pt/config.yaml' `));
    assert.ok(isOurCommand(cmd), "uninstall recognises it");
  }
  for (const word of ["plain", "with space", "it's", "$HOME `x`", 'a"b']) {
    const out = await new Deno.Command("sh", {
      args: ["-c", `printf %s ${shellQuote(word)}`],
      stdout: "piped",
    }).output();
    assert.equal(new TextDecoder().decode(out.stdout), word);
  }
});

// ---- writing settings.json ---------------------------------------------------------------------

/** A Deno outside any package cache (a link to this one), for the installs of these tests. */
const OWN_DENO = vanishableDeno();

/** The environment of an install run with a given Deno (no npm install in these tests). */
function installEnv(base: string): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: base,
    PATTERN_TRACKER_DATA_DIR: `${base}/data`,
    PATTERN_TRACKER_DENO: OWN_DENO,
    ...denoDirEnv(),
  };
}

function leftovers(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /\.tmp-|\.bak-/.test(n));
}

Deno.test("a symlinked settings.json (a dotfiles repository) stays a symlink; its target gets the hooks, and loses them on uninstall", async () => {
  const base = Deno.makeTempDirSync({ prefix: "pt-symlink-" });
  Deno.mkdirSync(`${base}/dotfiles/claude`, { recursive: true });
  Deno.mkdirSync(`${base}/.claude`);
  const target = `${base}/dotfiles/claude/settings.json`;
  const link = `${base}/.claude/settings.json`;
  Deno.writeTextFileSync(target, JSON.stringify({ model: "opus" }));
  Deno.chmodSync(target, 0o644);
  Deno.symlinkSync("../dotfiles/claude/settings.json", link); // relative, as dotfile managers do
  assert.equal(settingsTarget(link), `${base}/.claude/../dotfiles/claude/settings.json`);

  const env = installEnv(base);
  const installed = await runCli(["install", "--no-bundle", "--settings", link], env);
  assert.equal(installed.code, 0, installed.stderr);
  assert.ok(Deno.lstatSync(link).isSymlink, "the link stays");
  assert.equal(Deno.readLinkSync(link), "../dotfiles/claude/settings.json");
  const written = JSON.parse(Deno.readTextFileSync(target));
  assert.equal(written.model, "opus");
  assert.ok(isOurCommand(written.hooks.PostToolUse[0].hooks[0].command));
  assert.equal(Deno.statSync(target).mode! & 0o777, 0o644, "the file keeps its mode");
  // The backup sits beside the path the user named, not in the dotfiles repository.
  assert.deepEqual(leftovers(`${base}/dotfiles/claude`), []);
  assert.equal(leftovers(`${base}/.claude`).length, 1);
  assert.match(installed.stdout, /backup: .*\/\.claude\/settings\.json\.bak-/);

  const removed = await runCli(["uninstall", "--settings", link], env);
  assert.equal(removed.code, 0, removed.stderr);
  assert.ok(Deno.lstatSync(link).isSymlink);
  assert.deepEqual(JSON.parse(Deno.readTextFileSync(target)), { model: "opus" });
});

Deno.test("a symlink to a settings file that does not exist yet: the file is created where it points", async () => {
  const base = Deno.makeTempDirSync({ prefix: "pt-dangling-" });
  Deno.symlinkSync(`${base}/repo/settings.json`, `${base}/settings.json`);
  const r = await runCli(
    ["install", "--no-bundle", "--settings", `${base}/settings.json`],
    installEnv(base),
  );
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Deno.lstatSync(`${base}/settings.json`).isSymlink);
  assert.ok(JSON.parse(Deno.readTextFileSync(`${base}/repo/settings.json`)).hooks.PreToolUse);
});

Deno.test("a write that fails half way leaves no temporary file and no backup, and the old settings", async () => {
  const base = Deno.makeTempDirSync({ prefix: "pt-efbig-" });
  const settings = `${base}/settings.json`;
  const before = JSON.stringify({ model: "opus" });
  Deno.writeTextFileSync(settings, before);
  // A file size limit of 512 bytes: the backup (17 bytes) is written, the new settings are not
  // (the kernel answers EFBIG once SIGXFSZ is ignored).
  const args = ["run", "-A", `${ROOT}/tracker.ts`, "install", "--no-bundle", "--settings", settings]
    .map(shellQuote).join(" ");
  const r = await runHookProcess(
    `trap '' XFSZ; ulimit -f 1; exec ${shellQuote(Deno.execPath())} ${args}`,
    installEnv(base),
    new Uint8Array(),
  );
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /^error: cannot write .*settings\.json: File too large.*Nothing was changed/,
  );
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.equal(Deno.readTextFileSync(settings), before);
  assert.deepEqual(leftovers(base), []);
});

// ---- which Deno the hooks run with --------------------------------------------------------------

/** A fake file system of Deno binaries: path → [real path, version or null when it does not run]. */
function fakeProbe(
  binaries: Record<string, [string, string | null]>,
  npm: () => void = () => {
    throw new Error("offline");
  },
): DenoProbe & { npmCalls: number } {
  const probe = {
    npmCalls: 0,
    executable: (path: string) => binaries[path]?.[0] ?? null,
    version: (path: string) =>
      Promise.resolve(Object.values(binaries).find(([real]) => real === path)?.[1] ?? null),
    npmInstall: () => {
      probe.npmCalls++;
      npm();
      return Promise.resolve();
    },
  };
  return probe;
}

const NPX = "/home/u/.npm/_npx/7a40/node_modules/deno/deno";
const choice = (over: Partial<DenoChoice> = {}): DenoChoice => ({
  running: { path: NPX, version: "2.9.6" },
  path: ["/home/u/project/node_modules/.bin", "/usr/local/bin", "/usr/bin"],
  home: "/home/u",
  managedDir: "/home/u/.claude/pattern-tracker/deno",
  ...over,
});

Deno.test("choosing a Deno: never one in a package manager's cache; PATH, then ~/.deno/bin, then the data dir, then npm", async () => {
  const projectDeno: [string, string] = ["/home/u/project/node_modules/deno/deno", "2.9.6"];
  const onPath = fakeProbe({
    [NPX]: [NPX, "2.9.6"],
    "/home/u/project/node_modules/.bin/deno": projectDeno,
    "/usr/local/bin/deno": ["/opt/deno-2.10/deno", "2.10.1"],
    "/home/u/.deno/bin/deno": ["/home/u/.deno/bin/deno", "2.9.6"],
  });
  const chosen = await chooseDeno(choice(), onPath);
  assert.deepEqual([chosen.path, chosen.source], ["/opt/deno-2.10/deno", "path"]);
  assert.equal(chosen.skipped.length, 2, "the npx cache and the project's node_modules");

  const old = fakeProbe({
    "/usr/local/bin/deno": ["/usr/local/bin/deno", "1.46.3"],
    "/home/u/.deno/bin/deno": ["/home/u/.deno/bin/deno", "2.9.6"],
  });
  const home = await chooseDeno(choice(), old);
  assert.deepEqual([home.path, home.source], ["/home/u/.deno/bin/deno", "deno-install"]);
  assert.match(home.skipped.join(), /1\.46\.3, older than 2\.9\.6/);

  const managed = "/home/u/.claude/pattern-tracker/deno/node_modules/deno/deno";
  const earlier = await chooseDeno(choice(), fakeProbe({ [managed]: [managed, "2.9.6"] }));
  assert.deepEqual([earlier.path, earlier.source], [managed, "data-dir"]);

  const binaries: Record<string, [string, string | null]> = {};
  const npm = fakeProbe(binaries, () => {
    binaries[managed] = [managed, "2.9.6"];
  });
  const installed = await chooseDeno(choice(), npm);
  assert.deepEqual([installed.path, installed.source, npm.npmCalls], [managed, "npm", 1]);

  const stable = "/usr/bin/deno";
  const running = await chooseDeno(
    choice({ running: { path: stable, version: "2.9.6" } }),
    fakeProbe({ [stable]: [stable, "2.9.6"] }),
  );
  assert.equal(running.source, "running");
  assert.equal(inPackageCache(managed, "/home/u/.claude/pattern-tracker/deno"), false);
});

Deno.test("choosing a Deno: an explicit one is used as given (with a warning for a cache); no Deno and no npm is one clear error", async () => {
  const explicit = await chooseDeno(
    choice({ explicit: NPX }),
    fakeProbe({ [NPX]: [NPX, "2.9.6"] }),
  );
  assert.equal(explicit.path, NPX);
  assert.match(explicit.warning ?? "", /package manager's cache/);
  await assert.rejects(
    chooseDeno(choice({ explicit: "/nope/deno" }), fakeProbe({})),
    /the Deno given \(\/nope\/deno\) does not run/,
  );
  await assert.rejects(
    chooseDeno(choice(), fakeProbe({ [NPX]: [NPX, "2.9.6"] })),
    (error: Error) => {
      assert.match(error.message, /no lasting Deno found/);
      assert.match(error.message, /npm could not install deno@2\.9\.6 .*offline/);
      assert.match(error.message, /pass --deno PATH/);
      assert.ok(!error.message.includes("\n"));
      return true;
    },
  );
});

Deno.test("install uses the deno on PATH when the running one is in npm's cache, and says which", async () => {
  const base = Deno.makeTempDirSync({ prefix: "pt-pathdeno-" });
  const deno = vanishableDeno();
  const bin = deno.replace(/\/deno$/, "");
  const env = { ...installEnv(base), PATH: `${bin}:/usr/bin:/bin` };
  delete (env as Record<string, string>).PATTERN_TRACKER_DENO;
  const r = await runCli(
    ["install", "--no-bundle", "--settings", `${base}/settings.json`],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  // This test runs under npx's Deno or a stable one; either way the hooks get a lasting one.
  const running = Deno.execPath();
  const expected = inPackageCache(running, `${base}/data/deno`) ? deno : running;
  assert.ok(r.stdout.includes(`: ${expected} (`), r.stdout);
  const post = JSON.parse(Deno.readTextFileSync(`${base}/settings.json`)).hooks.PostToolUse[0]
    .hooks[0].command as string;
  assert.ok(post.includes(` ${shellQuote(expected)} `), post);
});

/** The PATH of the npm test: system directories only. */
const SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin";
/** Why the npm test cannot show what it is about here, or null. */
const npmTestSkip = (() => {
  if (!inPackageCache(Deno.execPath(), "/nonexistent")) {
    return "the Deno running the tests is not in a package manager's cache, so install would use it";
  }
  for (const dir of SYSTEM_PATH.split(":")) {
    try {
      Deno.statSync(`${dir}/deno`);
      return `${dir}/deno exists, so install would use it`;
    } catch { /* the usual case */ }
  }
  return null;
})();
if (npmTestSkip) console.log(`npm Deno install test skipped: ${npmTestSkip}`);

Deno.test({
  name:
    "install without any lasting Deno installs one from npm into the data directory, and the hooks record with it",
  ignore: npmTestSkip !== null,
  async fn() {
    const base = Deno.makeTempDirSync({ prefix: "pt-npmdeno-" });
    const env: Record<string, string> = {
      ...installEnv(base),
      PATH: SYSTEM_PATH,
      // npm's own cache, not one under the temporary HOME: no 100 MB download per run.
      npm_config_cache: `${Deno.env.get("HOME") ?? "/root"}/.npm`,
    };
    delete env.PATTERN_TRACKER_DENO;
    try {
      const r = await runCli(
        ["install", "--no-bundle", "--settings", `${base}/settings.json`],
        env,
      );
      assert.equal(r.code, 0, r.stderr);
      const managed = `${base}/data/deno/node_modules/deno/deno`;
      assert.ok(
        r.stdout.includes(`${managed} (installed now from npm into ${base}/data/deno)`),
        r.stdout,
      );
      const hooks = JSON.parse(Deno.readTextFileSync(`${base}/settings.json`)).hooks;
      const post = hooks.PostToolUse[0].hooks[0].command as string;
      assert.ok(post.includes(` '${managed}' `), post);
      const hookEnv = { ...env, PATTERN_TRACKER_AUTO_FLUSH: "false" };
      const payload = Deno.readFileSync(`${ROOT}/src/cli/demo_session/02-post-write.json`);
      const ran = await runHookProcess(post, hookEnv, payload);
      assert.deepEqual([ran.code, ran.stdout, ran.stderr], [0, "", ""]);
      const store = openStore(`${base}/data`);
      assert.equal(store.fileHistory("/home/dev/project/app.py").length, 1);
      store.close();
      // A second install finds it there instead of installing again.
      const again = await runCli(
        ["install", "--no-bundle", "--settings", `${base}/settings.json`],
        env,
      );
      assert.ok(again.stdout.includes(`(installed earlier into ${base}/data/deno)`), again.stdout);
    } finally {
      Deno.removeSync(base, { recursive: true });
    }
  },
});
