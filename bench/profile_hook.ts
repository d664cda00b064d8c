/**
 * The hook (`src/record/hook_runner.ts` `runHookWith` with the hook's own spec, the real code, not
 * a copy) with a `performance.now()` mark around each phase, for `bench/run.ts` to find where the time above the floor goes: module loading
 * is timed by importing the modules dynamically, one group at a time; the hook's own phases come
 * from its timing callback (`HookOptions.time`, passed through to the recording core). Prints one
 * JSON object of phase durations (ms) to stdout and exits 0 without closing the store, as the hook
 * does.
 *
 * Run with the hook's own flags: `sh -c "<post command with this script> post" < payload.json`.
 *
 * @module
 */

/** Phase name → milliseconds. */
export type Phases = Record<string, number>;

async function main(kind: "pre" | "post"): Promise<never> {
  const phases: Phases = {};
  let last = performance.now();
  // performance.now() counts from the runtime's time origin: what elapsed before our first line.
  phases["runtime until first line"] = last;
  const mark = (name: string) => {
    const now = performance.now();
    phases[name] = (phases[name] ?? 0) + now - last;
    last = now;
  };

  await import("node:sqlite");
  mark("load node:sqlite");
  // What the hook script loads: the runner and its own spec.
  const [{ readStdin }, { runHookWith }, spec] = await Promise.all([
    import("../src/record/stdin.ts"),
    import("../src/record/hook_runner.ts"),
    kind === "pre"
      ? import("../src/record/pre.ts").then((m) => m.PRE_HOOK)
      : import("../src/record/post.ts").then((m) => m.POST_HOOK),
  ]);
  mark("load our modules");

  const input = readStdin(Deno.stdin);
  mark("read stdin");
  const result = await runHookWith(spec, input, { leaveOpen: true, time: mark });
  mark("after the hook");
  phases["flusher started (count)"] = result.detail === "flusher started" ? 1 : 0;
  phases["spilled (count)"] = result.outcome === "spilled" ? 1 : 0;
  phases["total in script"] = performance.now() - phases["runtime until first line"]!;
  console.log(JSON.stringify(phases));
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args[0] === "pre" ? "pre" : "post");
