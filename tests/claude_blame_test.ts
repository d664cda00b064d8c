/**
 * End to end with real Claude Code 2.1.330: a scripted loopback model makes Claude Code write a
 * file, then run a Bash command that changes two of its lines and appends a function (`sed -i`,
 * `printf >>`: a change outside Claude Code's file tools, as a person's), then read and edit the
 * file again. `blame` must give every line to the right tool call or to outside Claude Code, `stats`
 * and the report must show it, and the Agent Trace ranges must be blame's runs. Afterwards a person
 * edits the file on disk: `blame` shows that line as changed since, `--stored` does not. Skips only
 * when Claude Code cannot be installed from npm.
 */
import assert from "node:assert/strict";
import type { BlameJson } from "../src/cli/blame.ts";
import type { FileLineageJson } from "../src/views/lineage_json.ts";
import type { AgentTraceRecord, TraceRangeSource } from "../src/views/agent_trace.ts";
import type { Stats } from "../src/views/stats.ts";
import { ensureClaudeCode, runClaude } from "./claude/claude_code.ts";
import { type ScriptStep, startScriptedModel } from "./claude/scripted_model.ts";
import { denoDirEnv, runCli, vanishableDeno } from "./support.ts";

const claude = await ensureClaudeCode();
const skip = "skip" in claude ? claude.skip : null;
if (skip) console.log(`Claude Code blame end-to-end test skipped: ${skip}`);

const V1 = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";
const BY_HAND = "def add(a, b):\n    return b + a\n\n\ndef sub(a, b):\n    return -b + a\n" +
  "\n\ndef mul(a, b):\n    return a * b\n";
const V3 = BY_HAND.replace("def sub(a, b):\n", 'def sub(a, b):\n    """a minus b"""\n');

function session(file: string): ScriptStep[] {
  return [
    { tool: "Write", input: { file_path: file, content: V1 } }, // toolu_e2e_01
    {
      tool: "Bash", // toolu_e2e_02: two lines changed and a function appended, outside the file tools
      input: {
        command:
          `sed -i 's/return a + b/return b + a/; s/return a - b/return -b + a/' '${file}' && ` +
          `printf '\\n\\ndef mul(a, b):\\n    return a * b\\n' >> '${file}'`,
        description: "Change two lines and append mul",
      },
    },
    { tool: "Read", input: { file_path: file } }, // toolu_e2e_03: Claude Code edits only what it read
    {
      tool: "Edit", // toolu_e2e_04
      input: {
        file_path: file,
        old_string: "def sub(a, b):\n",
        new_string: 'def sub(a, b):\n    """a minus b"""\n',
      },
    },
    { text: "Done." },
  ];
}

Deno.test({
  name:
    "real Claude Code: Write, a Bash sed/printf, Read, Edit → blame gives every line to its tool call or to outside; stats, report and Agent Trace agree",
  ignore: skip !== null,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const base = Deno.makeTempDirSync({ prefix: "pt-e2e-blame-" });
    const home = `${base}/home`;
    const project = `${base}/project`;
    const data = `${base}/data`;
    Deno.mkdirSync(home);
    Deno.mkdirSync(project);
    const env = {
      HOME: home,
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...denoDirEnv(),
      PATTERN_TRACKER_DATA_DIR: data,
      PATTERN_TRACKER_AUTO_FLUSH: "false",
      PATTERN_TRACKER_DENO: vanishableDeno(),
    };
    const settings = `${base}/settings.json`;
    const install = await runCli(["install", "--settings", settings], env);
    assert.equal(install.code, 0, install.stderr);
    const file = `${project}/calc.py`;
    const model = await startScriptedModel(session(file));
    try {
      const run = await runClaude({
        bin: (claude as { bin: string }).bin,
        home,
        cwd: project,
        modelUrl: model.url,
        env,
        settingsPath: settings,
        allowedTools: "Write,Edit,Bash,Read",
      });
      assert.equal(run.code, 0, `claude failed: ${run.stdout}\n${run.stderr}`);
      assert.match(run.stdout, /Done\./);
    } finally {
      await model.close();
    }
    assert.equal(Deno.readTextFileSync(file), V3, "the session ran every step");

    const lineage: FileLineageJson = JSON.parse(
      (await runCli(["lineage", file, "--json"], env)).stdout,
    );
    assert.deepEqual(lineage.versions.map((v) => [v.tool_name, v.tool_use_id]), [
      ["Write", "toolu_e2e_01"],
      ["external", null],
      ["Edit", "toolu_e2e_04"],
    ]);
    const sessionId = lineage.versions[0]!.session_id;
    assert.ok(sessionId, "Claude Code's session");

    // blame: every line, from the project directory by file name.
    const blamed = await runCli(["blame", "calc.py", "--json"], env);
    assert.equal(blamed.code, 0, blamed.stderr);
    const blame: BlameJson = JSON.parse(blamed.stdout);
    assert.equal(blame.file, file);
    assert.equal(blame.disk, "same");
    const ai = (version: number, toolUseId: string) => ({
      origin: "ai",
      version,
      tool_use_id: toolUseId,
      session_id: sessionId,
    });
    const outside = { origin: "external", version: 2, tool_use_id: null, session_id: null };
    assert.deepEqual(
      blame.lines.map((l) => ({
        origin: l.origin,
        version: l.version,
        tool_use_id: l.tool_use_id,
        session_id: l.session_id,
      })),
      [
        ai(1, "toolu_e2e_01"), // def add(a, b):
        outside, //                   return b + a   (sed)
        ai(1, "toolu_e2e_01"),
        ai(1, "toolu_e2e_01"),
        ai(1, "toolu_e2e_01"), // def sub(a, b):
        ai(3, "toolu_e2e_04"), //     """a minus b"""
        outside, //                   return -b + a  (sed)
        outside, //                   the appended function (printf), four lines
        outside,
        outside,
        outside,
      ],
    );
    assert.equal(blame.lines.map((l) => `${l.text}\n`).join(""), V3);
    assert.equal(blame.lines[1]?.pattern_id, lineage.versions[1]?.pattern_id);
    const text = await runCli(["blame", "calc.py"], env);
    assert.match(text.stdout, /11 lines: 5 ai, 6 external/);
    assert.match(text.stdout, /^ 6 {2}ai {8}v3 {2}Edit {3}toolu_e2e_04 │ {5}"""a minus b"""$/m);

    // stats: what Claude wrote and what became of it.
    const statsRun = await runCli(["stats", "--json"], env);
    assert.equal(statsRun.code, 0, statsRun.stderr);
    const stats: Stats = JSON.parse(statsRun.stdout);
    assert.deepEqual(
      [
        stats.totals.lines_written,
        stats.totals.lines_surviving,
        stats.totals.lines_reworked,
        stats.totals.lines_superseded_by_claude,
      ],
      [7, 5, 2, 0],
    );
    assert.equal(stats.totals.current_lines, 11);
    assert.equal(stats.totals.ai_share, 5 / 11);
    assert.deepEqual([stats.totals.calls, stats.totals.edits, stats.totals.failures], [2, 2, 0]);
    assert.deepEqual(stats.by_session.map((s) => s.session), [sessionId]);
    const statsText = await runCli(["stats", "--session", sessionId], env);
    assert.match(statsText.stdout, /Lines written by Claude\s+7/);
    assert.match(statsText.stdout, /reworked by people\s+2\s+\(rework rate 28\.6%\)/);

    // The report: the blame of v3, a diff per version, the cards.
    const page = `${base}/report.html`;
    const report = await runCli(["report", "--file", "calc.py", "--code", "--out", page], env);
    assert.equal(report.code, 0, report.stderr);
    const html = Deno.readTextFileSync(page);
    assert.equal((html.match(/<tr class="o-ai">/g) ?? []).length, 5);
    assert.equal((html.match(/<tr class="o-external">/g) ?? []).length, 6);
    assert.ok(html.includes("v3 Edit toolu_e2e_04"));
    assert.equal((html.match(/<summary>diff of v\d<\/summary>/g) ?? []).length, 3);
    assert.match(html, /<b>7<\/b>lines by Claude/);
    assert.match(html, /<b>45\.5%<\/b>AI share/);

    // Agent Trace: the last version's ranges are blame's runs.
    const exported = await runCli(["export", "--format", "agent-trace"], env);
    assert.equal(exported.code, 0, exported.stderr);
    const records: AgentTraceRecord[] = exported.stdout.trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const last = records[records.length - 1]!;
    const ranges = last.files[0]!.conversations.flatMap((c) =>
      c.ranges.map((r) => [r.start_line, r.end_line, c.contributor.type])
    ).sort((a, b) => (a[0] as number) - (b[0] as number));
    const runs: [number, number, string][] = [];
    blame.lines.forEach((l, i) => {
      const prev = blame.lines[i - 1];
      const type = l.origin === "ai" ? "ai" : "human";
      if (prev && prev.version === l.version && prev.origin === l.origin) {
        runs[runs.length - 1]![1] = l.line;
      } else runs.push([l.line, l.line, type]);
    });
    assert.deepEqual(ranges, runs);
    const meta = last.metadata["dev.pattern-tracker"] as { ranges: TraceRangeSource[] };
    assert.deepEqual(
      meta.ranges.map((r) => r.tool_use_id),
      ["toolu_e2e_01", null, "toolu_e2e_01", "toolu_e2e_04", null],
    );

    // A person edits the file after the last tracked version.
    Deno.writeTextFileSync(file, V3.replace("return a * b", "return b * a"));
    const now: BlameJson = JSON.parse((await runCli(["blame", file, "--json"], env)).stdout);
    assert.equal(now.disk, "changed");
    assert.deepEqual(now.lines[10], {
      line: 11,
      origin: "external",
      version: null,
      pattern_id: null,
      tool_use_id: null,
      session_id: null,
      text: "    return b * a",
    });
    const stored: BlameJson = JSON.parse(
      (await runCli(["blame", file, "--json", "--stored"], env)).stdout,
    );
    assert.equal(stored.lines[10]?.version, 2);
    assert.equal(stored.lines[10]?.text, "    return a * b");

    let log = "";
    try {
      log = Deno.readTextFileSync(`${data}/pattern-tracker.log.jsonl`);
    } catch { /* no log: no problems */ }
    assert.ok(!log.includes('"level":"error"'), log);
    Deno.removeSync(base, { recursive: true });
  },
});
