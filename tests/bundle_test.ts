/**
 * The bundled hooks `install` makes (`build/`): they must record exactly what the TypeScript
 * sources record, start the flusher correctly (its paths come from `import.meta.url`), and be
 * reported stale when the sources change.
 */
import assert from "node:assert/strict";
import { isOurCommand } from "../src/cli/install.ts";
import { BUNDLE_STAMP, bundleHooks, bundleState, sourcesDigest } from "../src/cli/bundle.ts";
import { openStore } from "../src/store/mod.ts";
import { startPhase4Server } from "./phase4_server.ts";
import { hookWorld, runHookProcess, SESSION_FIXTURES, waitUntil } from "./support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Why the bundler could not run here, when it could not. */
let unavailable = "";

/** Bundles once for this file; null (and `unavailable` says why) when the bundler is unreachable. */
async function bundle(): Promise<{ pre: string; post: string } | null> {
  try {
    return await bundleHooks({ deno: Deno.execPath(), root: ROOT });
  } catch (error) {
    const message = (error as Error).message;
    if (!/download|network|dns|connect|registry|esbuild/i.test(message)) throw error;
    unavailable = message;
    return null;
  }
}

// Bundled before the tests are declared, so that each is ignored (with the reason in its name)
// when the bundler is not available, instead of passing without running.
const SCRIPTS = await bundle();

/** A test of the bundled hooks: ignored, saying why, when they could not be made. */
function bundleTest(name: string, fn: (scripts: { pre: string; post: string }) => Promise<void>) {
  Deno.test({
    name: SCRIPTS ? name : `${name} (ignored: the bundler is not available here: ${unavailable})`,
    ignore: SCRIPTS === null,
    fn: () => fn(SCRIPTS as { pre: string; post: string }),
  });
}

bundleTest("bundled hooks record what the sources record, on the real session", async (scripts) => {
  const recorded = [];
  for (const variant of [undefined, scripts]) {
    const { dataDir, commands, env } = hookWorld({
      configPath: `${ROOT}/config.yaml`,
      scripts: variant,
    });
    assert.equal(isOurCommand(commands.post), true, "uninstall must recognise the command");
    for (const name of SESSION_FIXTURES) {
      const payload = Deno.readFileSync(`${ROOT}/src/cli/demo_session/${name}.json`);
      const r = await runHookProcess(
        name.includes("-pre-") ? commands.pre : commands.post,
        env,
        payload,
      );
      assert.deepEqual(
        { code: r.code, stdout: r.stdout },
        { code: 0, stdout: "" },
        `${name} via ${variant ? "bundle" : "sources"}`,
      );
    }
    const store = openStore(dataDir);
    const files = store.trackedFiles();
    assert.equal(files.length, 1);
    const history = store.fileHistory(files[0] as string).map((v) => ({
      version: v.version,
      patternId: v.patternId,
      parent: v.parentPatternId,
      eventType: v.eventType,
      transformation: v.transformationType,
      tool: v.toolName,
      linesAdded: v.linesAdded,
      linesRemoved: v.linesRemoved,
    }));
    recorded.push({ history, counts: store.counts() });
    store.close();
    Deno.removeSync(dataDir, { recursive: true });
  }
  const [fromSources, fromBundle] = recorded;
  assert.ok((fromSources?.history.length ?? 0) >= 4, JSON.stringify(fromSources));
  assert.deepEqual(fromBundle?.history, fromSources?.history);
  assert.equal(fromBundle?.counts.outbox, fromSources?.counts.outbox);
  assert.equal(fromBundle?.counts.executions, fromSources?.counts.executions);
});

bundleTest(
  "a bundled post hook starts the flusher, which delivers to the service",
  async (scripts) => {
    const server = await startPhase4Server();
    const { dataDir, commands, env } = hookWorld({
      configPath: `${ROOT}/config.yaml`,
      scripts,
      env: { PATTERN_TRACKER_AUTO_FLUSH: "true", PATTERN_TRACKER_INTELLIGENCE_URL: server.url },
    });
    try {
      // The hook has no network permission: the flusher it starts gets --allow-net for the host.
      const payload = Deno.readFileSync(`${ROOT}/src/cli/demo_session/02-post-write.json`);
      const r = await runHookProcess(commands.post, env, payload);
      assert.deepEqual({ code: r.code, stdout: r.stdout }, { code: 0, stdout: "" });
      await waitUntil(() => server.events().length > 0, 20_000);
      assert.equal(server.events().length, 1, "the flusher delivered the Write's event");
      assert.equal(server.events()[0]?.event_type, "pattern_created");
    } finally {
      // Let the lingering flusher go before the data directory does.
      await new Promise((resolve) => setTimeout(resolve, 3500));
      await server.close();
      Deno.removeSync(dataDir, { recursive: true });
    }
  },
);

bundleTest("the bundle is fresh after bundling and stale once a source changes", async () => {
  assert.equal(await bundleState(ROOT), "fresh");
  const stamp = Deno.readTextFileSync(`${ROOT}/build/${BUNDLE_STAMP}`).trim();
  assert.equal(stamp, await sourcesDigest(ROOT));
  // A copy of the checkout's sources with one byte changed gives another digest.
  const copy = Deno.makeTempDirSync({ prefix: "pt-digest-" });
  try {
    for (const f of ["pre_hook.ts", "post_hook.ts", "prompt_hook.ts", "deno.json", "deno.lock"]) {
      Deno.copyFileSync(`${ROOT}/${f}`, `${copy}/${f}`);
    }
    const copyDir = (dir: string) => {
      Deno.mkdirSync(`${copy}/${dir}`, { recursive: true });
      for (const e of Deno.readDirSync(`${ROOT}/${dir}`)) {
        if (e.isDirectory) copyDir(`${dir}/${e.name}`);
        else if (e.isFile) {
          Deno.copyFileSync(`${ROOT}/${dir}/${e.name}`, `${copy}/${dir}/${e.name}`);
        }
      }
    };
    copyDir("src");
    assert.equal(await sourcesDigest(copy), stamp, "same sources, same digest");
    Deno.mkdirSync(`${copy}/build`);
    Deno.copyFileSync(`${ROOT}/build/${BUNDLE_STAMP}`, `${copy}/build/${BUNDLE_STAMP}`);
    Deno.writeTextFileSync(`${copy}/build/pre_hook.js`, "");
    Deno.writeTextFileSync(`${copy}/build/post_hook.js`, "");
    Deno.writeTextFileSync(`${copy}/build/prompt_hook.js`, "");
    assert.equal(await bundleState(copy), "fresh");
    Deno.writeTextFileSync(`${copy}/src/record/hooks.ts`, "\n", { append: true });
    assert.equal(await bundleState(copy), "stale");
    Deno.removeSync(`${copy}/build/post_hook.js`);
    assert.equal(await bundleState(copy), "absent");
  } finally {
    Deno.removeSync(copy, { recursive: true });
  }
});

/** The code a bundled hook loads at start: its own file and the chunks it imports statically. */
function staticGraph(script: string): string {
  const dir = script.slice(0, script.lastIndexOf("/"));
  const seen = new Set<string>();
  const visit = (file: string): string => {
    if (seen.has(file)) return "";
    seen.add(file);
    const text = Deno.readTextFileSync(file);
    const chunks = [...text.matchAll(/^(?:import|export)[^;]*?from "\.\/([^"]+)";/gms)]
      .map((m) => visit(`${dir}/${m[1]}`));
    return text + chunks.join("");
  };
  return visit(script);
}

bundleTest(
  "each hook's bundle loads only its own code: no redaction in the pre hook's, no views in either",
  async (scripts) => {
    const pre = staticGraph(scripts.pre);
    const post = staticGraph(scripts.post);
    assert.ok(post.includes("// src/record/secrets.ts"), "the post hook redacts");
    assert.ok(!pre.includes("// src/record/secrets.ts"), "the pre hook loads no redaction");
    assert.ok(!pre.includes("// src/record/change.ts"), "nor the diff of a change");
    for (const [name, code] of [["pre", pre], ["post", post]] as const) {
      for (const rare of ["src/store/schema.ts", "src/record/spill.ts", "js-yaml/", "src/blame"]) {
        assert.ok(
          !new RegExp(`^// \\S*${rare}`, "m").test(code),
          `${name} hook loads ${rare} at start`,
        );
      }
    }
    await Promise.resolve();
  },
);
