/** Lineage graphs (Mermaid, DOT), the HTML report (in a real headless browser when one exists), export/import. */
import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { exportRecords, importRecords } from "../src/views/export.ts";
import { toAgentTrace } from "../src/views/agent_trace.ts";
import {
  renderAncestryDot,
  renderAncestryMermaid,
  renderDot,
  renderMermaid,
} from "../src/views/graph.ts";
import { patternLineage } from "../src/cli/lineage.ts";
import { renderHtmlReport } from "../src/views/report.ts";
import { gatherReportData } from "../src/views/report_data.ts";
import { openStore } from "../src/store/mod.ts";

const EVIL =
  "/repo/<script>document.documentElement.setAttribute('data-injected','1')</script>\"x.py";

async function sampleStore(paths = ["/repo/app.py", EVIL]) {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-views-" });
  const tracker = new PatternTracker({ ...defaultConfig(dataDir), dataDir, autoFlush: false });
  for (const path of paths) {
    await tracker.trackCreation("def f(x):\n    return x\n", { filePath: path });
    await tracker.trackModification(
      "def f(x):\n    if x is None:\n        return 0\n    return x\n",
      { filePath: path },
    );
    await tracker.trackModification("def f(x):\n    return x or 0\n", { filePath: path });
  }
  await tracker.trackExecution({
    toolUseId: "toolu_fail",
    filePath: paths[0]!,
    toolName: "Edit",
    durationMs: 4,
    success: false,
    error: "String to replace not found <b>",
  });
  tracker.close();
  return dataDir;
}

Deno.test("Mermaid and DOT show every version and each edge with its transformation", async () => {
  const dataDir = await sampleStore(["/repo/app.py"]);
  const store = openStore(dataDir);
  const history = store.fileHistory("/repo/app.py");
  const lineage = patternLineage(store, history[2]!.patternId);
  store.close();
  const mermaid = renderMermaid("/repo/app.py", history);
  assert.match(mermaid, /^flowchart TD/);
  for (const v of history) assert.ok(mermaid.includes(v.patternId.slice(0, 8)));
  assert.match(mermaid, /v1 -->\|bugfix\| v2/);
  assert.match(mermaid, /v2 -->\|simplification\| v3/);
  const dot = renderDot("/repo/app.py", history);
  assert.match(dot, /^digraph lineage \{/);
  assert.match(dot, /v1 -> v2 \[label="bugfix"\];/);
  assert.match(dot, /\}$/);
  assert.equal(renderAncestryMermaid(lineage).split("-->").length - 1, 2);
  assert.match(
    renderAncestryDot(lineage),
    new RegExp(`"${history[2]!.patternId}" -> "${history[1]!.patternId}"`),
  );
});

/** Whether Graphviz's `dot` runs here (`apt-get install graphviz`). */
function graphvizInstalled(): boolean {
  try {
    return new Deno.Command("dot", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

Deno.test("DOT output quotes paths with quotes and backslashes", async () => {
  const dataDir = await sampleStore(['/repo/we"ird\\name.py']);
  const store = openStore(dataDir);
  const dot = renderDot('/repo/we"ird\\name.py', store.fileHistory('/repo/we"ird\\name.py'));
  store.close();
  assert.ok(dot.includes('we\\"ird\\\\name.py'), dot);
});

const GRAPHVIZ = graphvizInstalled();

Deno.test({
  name: "DOT output is valid for Graphviz even with quotes and backslashes in paths" +
    (GRAPHVIZ ? "" : " (ignored: Graphviz's dot is not installed)"),
  ignore: !GRAPHVIZ,
  fn: async () => {
    const dataDir = await sampleStore(['/repo/we"ird\\name.py']);
    const store = openStore(dataDir);
    const dot = renderDot('/repo/we"ird\\name.py', store.fileHistory('/repo/we"ird\\name.py'));
    store.close();
    const child = new Deno.Command("dot", {
      args: ["-Tsvg"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(dot));
    await w.close();
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(new TextDecoder().decode(out.stdout), /<svg/);
  },
});

Deno.test("the HTML report is self-contained and escapes everything from the store", async () => {
  const dataDir = await sampleStore();
  const store = openStore(dataDir);
  const html = renderHtmlReport(gatherReportData(store, { includeCode: true }));
  store.close();
  assert.ok(!/(src|href)=["']?https?:/i.test(html), "no network resources");
  assert.ok(!html.includes("<script>document"), "the path's script tag is escaped");
  assert.ok(html.includes("&lt;script&gt;document"));
  assert.equal(
    (html.match(/<section class="file"/g) ?? []).length,
    3,
    "two files and the failures section",
  );
  assert.equal((html.match(/<g class="node"/g) ?? []).length, 6);
  assert.ok(html.includes("String to replace not found &lt;b&gt;"));
  assert.ok(html.includes("<details><summary>code of v1</summary>"));
  // Who wrote each line: a bar per file, the blame of the last version, a diff per version.
  assert.equal((html.match(/<div class="bar"/g) ?? []).length, 2);
  assert.equal((html.match(/<table class="blame">/g) ?? []).length, 2);
  assert.equal((html.match(/<tr class="o-ai">/g) ?? []).length, 4, "two lines in each file");
  assert.equal((html.match(/<summary>diff of v\d<\/summary>/g) ?? []).length, 6);
  assert.match(html, /<span class="del">- {5}if x is None:<\/span>/);
  assert.match(html, /<b>10<\/b>lines by Claude/, "2 + 2 + 1 lines in each file");
});

Deno.test("the blame view escapes the code it shows; without --code the report shows no line of code", async () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-views-" });
  const tracker = new PatternTracker({ ...defaultConfig(dataDir), dataDir, autoFlush: false });
  const code = "x = '</code></td><script>alert(1)</script>'\n";
  await tracker.trackCreation(code, { filePath: "/repo/x.py" });
  await tracker.trackModification(code + "y = '<b>'\n", { filePath: "/repo/x.py" });
  tracker.close();
  const store = openStore(dataDir);
  const withCode = renderHtmlReport(gatherReportData(store, { includeCode: true }));
  const without = renderHtmlReport(gatherReportData(store, {}));
  store.close();
  assert.ok(!withCode.includes("<script>alert"), "the code's script tag is escaped");
  assert.ok(withCode.includes("&lt;/code&gt;&lt;/td&gt;&lt;script&gt;alert(1)"));
  assert.match(withCode, /<span class="add">\+ y = &#39;&lt;b&gt;&#39;<\/span>/);
  assert.ok(!without.includes("alert(1)"), "no code without --code");
  assert.ok(!without.includes('class="blame"'));
  assert.match(without, /<div class="bar"/);
});

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].find(
  (p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  },
);
if (!CHROMIUM) {
  console.log(
    "report browser test skipped: no Chromium at /usr/bin/chromium (apt-get install chromium)",
  );
}

/** Runs headless Chromium with a profile in `dataDir` and `args`; returns its stdout. */
async function chromium(dataDir: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(CHROMIUM!, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${dataDir}/chromium`,
      ...args,
    ],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name:
    "the report renders in headless Chromium: graphs and rows present, its script ran, no injected script ran",
  ignore: !CHROMIUM,
  async fn() {
    const dataDir = await sampleStore();
    const store = openStore(dataDir);
    const page = `${dataDir}/report.html`;
    Deno.writeTextFileSync(page, renderHtmlReport(gatherReportData(store, {})));
    store.close();
    const text = await chromium(dataDir, ["--dump-dom", `file://${page}`]);
    assert.match(text, /data-report-ready="2"/, "the page's own script ran and saw both files");
    assert.ok(!text.includes('data-injected="1"'), "a script from a file path ran");
    assert.equal((text.match(/<g class="node"/g) ?? []).length, 6);
    assert.equal(
      (text.match(/<span class="seg o-ai"/g) ?? []).length,
      4,
      "an origin bar per file: v1 and v3 each",
    );
    const png = `${dataDir}/report.png`;
    await chromium(dataDir, ["--window-size=1100,900", `--screenshot=${png}`, `file://${page}`]);
    const bytes = Deno.readFileSync(png);
    assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG screenshot");
    assert.ok(bytes.length > 10_000);
  },
});

Deno.test("export then import into a fresh store gives the same lineage; importing twice adds nothing", async () => {
  const from = await sampleStore();
  const source = openStore(from);
  const lines = [...exportRecords(source)].map((r) => JSON.stringify(r));
  const files = source.trackedFiles();
  const expected = Object.fromEntries(files.map((f) => [f, source.fileHistory(f)]));
  source.close();
  assert.equal(JSON.parse(lines[0]!).type, "header");
  const to = Deno.makeTempDirSync({ prefix: "pt-import-" });
  const target = openStore(to);
  const config = { ...defaultConfig(to), dataDir: to };
  const first = await importRecords(target, lines, config);
  assert.equal(first.versions, 6);
  assert.equal(first.skipped, 0);
  const second = await importRecords(target, lines, config);
  assert.equal(second.versions + second.patterns + second.executions, 0);
  for (const f of files) {
    const strip = (vs: typeof expected[string]) =>
      vs.map(({ version, patternId, parentPatternId, eventType, transformationType }) => ({
        version,
        patternId,
        parentPatternId,
        eventType,
        transformationType,
      }));
    assert.deepEqual(strip(target.fileHistory(f)), strip(expected[f]!));
  }
  const c = target.counts();
  assert.equal(c.versions, 6);
  assert.equal(c.outbox, 0, "imported versions are not queued unless asked");
  await assert.rejects(() => importRecords(target, ["{not json"], config), /line 1 is not JSON/);
  await assert.rejects(
    () => importRecords(target, [JSON.stringify({ type: "pattern" })], config),
    /starts with a header/,
  );
  target.close();
});

Deno.test("an Agent Trace record without the version's blame (its code not kept) attributes the whole file by who made it, and keeps our lineage in metadata", async () => {
  const dataDir = await sampleStore(["/repo/app.py"]);
  const store = openStore(dataDir);
  const [v1, v2] = store.fileHistory("/repo/app.py");
  const trace = toAgentTrace(v2!, store.pattern(v2!.patternId));
  store.close();
  assert.equal(trace.version, "0.1.0");
  assert.equal(trace.files[0]?.path, "/repo/app.py");
  assert.deepEqual(trace.files[0]?.conversations[0]?.ranges, [{
    start_line: 1,
    end_line: 4,
    content_hash: `sha256-16:${v2!.patternId}`,
  }]);
  assert.equal(trace.files[0]?.conversations[0]?.contributor.type, "ai");
  assert.equal(
    (trace.metadata["dev.pattern-tracker"] as { parent_pattern_id: string }).parent_pattern_id,
    v1!.patternId,
  );
});

Deno.test("importing a different history of a path already in the store fails and imports nothing", async () => {
  const exported = await sampleStore(["/repo/app.py"]);
  const source = openStore(exported);
  const lines = [...exportRecords(source)].map((r) => JSON.stringify(r));
  source.close();
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-conflict-" });
  const tracker = new PatternTracker({ ...defaultConfig(dataDir), dataDir, autoFlush: false });
  await tracker.trackCreation("other = 1\n", { filePath: "/repo/app.py" });
  tracker.close();
  const target = openStore(dataDir);
  const before = target.counts();
  await assert.rejects(
    () => importRecords(target, lines, { ...defaultConfig(dataDir), dataDir }),
    /two different histories of one path/,
  );
  assert.deepEqual(target.counts(), before, "the failed import left nothing behind");
  target.close();
});

Deno.test("a second import counts nothing as new, edges included", async () => {
  const from = await sampleStore(["/repo/app.py"]);
  const source = openStore(from);
  const lines = [...exportRecords(source)].map((r) => JSON.stringify(r));
  source.close();
  const to = Deno.makeTempDirSync({ prefix: "pt-import-" });
  const target = openStore(to);
  const config = { ...defaultConfig(to), dataDir: to };
  assert.equal((await importRecords(target, lines, config)).edges, 2);
  const again = await importRecords(target, lines, config);
  assert.deepEqual(
    [again.patterns, again.versions, again.edges, again.executions],
    [0, 0, 0, 0],
  );
  target.close();
});

Deno.test("Agent Trace IDs are UUIDs, one per file version, stable across exports", async () => {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-trace-" });
  const tracker = new PatternTracker({ ...defaultConfig(dataDir), dataDir, autoFlush: false });
  await tracker.trackCreation("a = 1\n", { filePath: "/repo/a.py" });
  // Changed outside Claude Code before this edit: an `external` version and the edit's version,
  // both from one tool call.
  await tracker.trackModification("a = 3\n", { filePath: "/repo/a.py", parentCode: "a = 2\n" });
  tracker.close();
  const store = openStore(dataDir);
  const versions = store.allVersions();
  const ids = versions.map((v) => toAgentTrace(v, store.pattern(v.patternId)).id);
  const again = versions.map((v) => toAgentTrace(v, store.pattern(v.patternId)).id);
  store.close();
  assert.equal(versions.length, 3);
  assert.equal(new Set(ids).size, 3);
  assert.deepEqual(again, ids);
  for (const id of ids) {
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
});

Deno.test("the median of an even number of durations is the mean of the middle two", () => {
  const execution = (durationMs: number) => ({
    toolUseId: `t${durationMs}`,
    sessionId: null,
    toolName: "Edit",
    filePath: null,
    correlationId: "c",
    startedAt: null,
    finishedAt: null,
    durationMs,
    success: true,
    error: null,
    linesAdded: null,
    linesRemoved: null,
    beforePatternId: null,
    patternId: null,
  });
  const html = renderHtmlReport({
    title: "t",
    generatedAt: "now",
    scope: "all",
    files: [],
    executions: [execution(2), execution(4), execution(10), execution(1)],
  });
  assert.match(html, /<b>3<\/b>median ms/);
});

Deno.test("report --file takes a path the way lineage does, and refuses --session with --file", async () => {
  const dataDir = await sampleStore(["/repo/src/app.py"]);
  const out = `${dataDir}/r.html`;
  const run = (...args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("../tracker.ts", import.meta.url).pathname, "report", ...args],
      env: { PATTERN_TRACKER_DATA_DIR: dataDir },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const ok = await run("--file", "src/app.py", "--out", out);
  assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
  assert.equal((Deno.readTextFileSync(out).match(/<g class="node"/g) ?? []).length, 3);
  assert.equal((await run("--file", "nothing.py", "--out", out)).code, 1);
  assert.equal((await run("--file", "src/app.py", "--session", "s", "--out", out)).code, 2);
});

Deno.test({
  name: "the report's Content-Security-Policy runs its own script and no other inline script",
  ignore: !CHROMIUM,
  async fn() {
    const dataDir = await sampleStore(["/repo/app.py"]);
    const store = openStore(dataDir);
    const html = renderHtmlReport(gatherReportData(store, {}));
    store.close();
    // What an escaping mistake would let through.
    const page = `${dataDir}/report.html`;
    Deno.writeTextFileSync(
      page,
      html.replace(
        "<main>",
        "<main><script>document.documentElement.setAttribute('data-injected','1')</script>",
      ),
    );
    const text = await chromium(dataDir, ["--dump-dom", `file://${page}`]);
    assert.match(text, /data-report-ready="1"/, "the page's own script ran");
    assert.ok(!text.includes('data-injected="1"'), "the CSP blocked the other inline script");
  },
});
