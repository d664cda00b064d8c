/**
 * A scratch copy of the hook (`src/hook.ts` `hookMain` → `runHook`) with a `performance.now()` mark
 * around each phase, for `bench/run.ts` to find where the time above the floor goes. Modules are
 * imported dynamically, one group at a time, so their loading is timed too; the work is the real
 * code's, step by step in the hook's order. Prints one JSON object of phase durations (ms) to
 * stdout and exits 0 without closing the store, as the hook does.
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
  const { readStdin } = await import("../src/hook.ts");
  const { parseHookPayload } = await import("../src/payload.ts");
  const { hashChange, recordChange, recordIntent } = await import("../src/record.ts");
  const { openStore } = await import("../src/store.ts");
  const { isPathTracked } = await import("../src/privacy.ts");
  const { mayStartFlusher } = await import("../src/lock.ts");
  const { loadConfig } = await import("../src/config.ts");
  mark("load our modules");

  const input = readStdin(Deno.stdin);
  mark("read stdin");
  const parsed = parseHookPayload(new TextDecoder().decode(input ?? new Uint8Array()));
  const ids = parsed.kind === "change" ? hashChange(parsed) : undefined;
  ids?.catch(() => {});
  mark("parse payload");

  // As the hook: the resolved configuration comes from the data directory's cache when unchanged.
  const { config, configPath } = await loadConfig({ cache: true });
  mark("read config");
  if (parsed.kind !== "change" && parsed.kind !== "intent") {
    console.log(JSON.stringify({ error: `unexpected payload kind ${parsed.kind}` }));
    Deno.exit(0);
  }
  isPathTracked(parsed.filePath, config.includePaths, config.excludePaths);
  mark("path filter");
  const store = openStore(config.dataDir);
  mark("open store");
  const recordOptions = {
    storeCode: config.storeCode,
    redactSecrets: config.redactSecrets,
    maxPatternBytes: config.maxPatternBytes,
  };
  if (kind === "pre" || parsed.kind === "intent") {
    if (parsed.kind === "intent") recordIntent(store, parsed, recordOptions);
    mark("record (transaction)");
  } else {
    const resolved = await ids;
    mark("await hashing");
    const result = await recordChange(store, parsed, { ...recordOptions, ids: ids ?? undefined });
    void resolved;
    mark("record (transaction)");
    const queued = result.kind === "recorded" && result.versions.length > 0;
    if (queued) {
      const may = mayStartFlusher(store, config);
      mark("ask whether a flusher may start");
      if (may) {
        const { startFlusher } = await import("../src/flusher.ts");
        mark("load flusher module");
        phases["flusher started (count)"] = startFlusher(config, configPath) ? 1 : 0;
        mark("spawn flusher");
      } else {
        phases["flusher started (count)"] = 0;
      }
    }
  }
  phases["total in script"] = performance.now() - phases["runtime until first line"]!;
  console.log(JSON.stringify(phases));
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args[0] === "pre" ? "pre" : "post");
