/**
 * What secret redaction costs a hook: `redactSecrets` on realistic files (a 160 KB TypeScript
 * module, a 500-line Python file, a .env file), warm (median of repeated calls in one process) and
 * cold (import and first call in a fresh process, as a hook runs it). With `--baseline MODULE` the
 * same figures are taken for another implementation in the same run, interleaved, for a ratio.
 *
 * ```sh
 * git show <commit>:src/record/privacy.ts > /tmp/privacy_before.ts
 * deno run --allow-read --allow-run --allow-env bench/redaction.ts --baseline /tmp/privacy_before.ts
 * ```
 *
 * @module
 */

import { summarize } from "./lib.ts";

const ROOT = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(/\/$/, "");
const OURS = `${ROOT}/src/record/secrets.ts`;

/** The files redacted: realistic shapes a hook sees. */
export function sampleFiles(): Record<string, string> {
  const sources = [...Deno.readDirSync(`${ROOT}/src`)]
    .filter((e) => e.isFile && e.name.endsWith(".ts"))
    .map((e) => e.name)
    .sort()
    .map((name) => Deno.readTextFileSync(`${ROOT}/src/${name}`))
    .join("\n");
  const typescript = sources.repeat(Math.ceil(163_840 / sources.length)).slice(0, 163_840);
  let python: string;
  try {
    python = Deno.readTextFileSync("/usr/lib/python3.11/argparse.py").split("\n").slice(0, 500)
      .join("\n");
  } catch {
    python = Array.from(
      { length: 100 },
      (_, i) => `def f${i}(a, b):\n    """Add."""\n    c = a + b * ${i}\n    return c\n`,
    ).join("\n");
  }
  const env = [
    "# Local settings",
    "DEBUG=true",
    "PORT=8080",
    "DATABASE_URL=postgres://app:s3cr3t-pw@db.internal:5432/app",
    "REDIS_URL=redis://cache:6379/0",
    "SECRET_KEY=8f14e45fceea167a5a36dedd4bea2543",
    "STRIPE_SECRET_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "SMTP_HOST=smtp.example.com",
    "SMTP_PASS=hunter2",
    "LOG_LEVEL=info",
    "FEATURE_FLAGS=a,b,c",
  ].join("\n").repeat(3);
  return { "160 KB TypeScript": typescript, "500-line Python": python, ".env (42 lines)": env };
}

async function load(module: string): Promise<(code: string) => unknown> {
  const mod = await import(module);
  return mod.redactSecrets as (code: string) => unknown;
}

function warm(redact: (code: string) => unknown, code: string, rounds: number): number[] {
  redact(code);
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const start = performance.now();
    redact(code);
    times.push(performance.now() - start);
  }
  return times;
}

/** Import and first call in a fresh process, timed inside it (the process's own start excluded). */
async function cold(module: string, file: string): Promise<number> {
  const code = `const t0 = performance.now();
const { redactSecrets } = await import(${JSON.stringify(module)});
const text = Deno.readTextFileSync(${JSON.stringify(file)});
const t1 = performance.now();
redactSecrets(text);
console.log(JSON.stringify({ ms: performance.now() - t1 + (t1 - t0) }));`;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(script, code);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  await Deno.remove(script);
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as { ms: number }).ms;
}

if (import.meta.main) {
  const at = Deno.args.indexOf("--baseline");
  const baseline = at >= 0 ? Deno.args[at + 1] : undefined;
  const rounds = Deno.args.includes("--quick") ? 20 : 200;
  const coldRounds = Deno.args.includes("--quick") ? 3 : 15;
  const files = sampleFiles();
  const modules: [string, string][] = [["now", OURS]];
  if (baseline) {
    modules.push(["baseline", baseline.startsWith("/") ? baseline : `${Deno.cwd()}/${baseline}`]);
  }
  const fns = await Promise.all(modules.map(([, m]) => load(`file://${m}`)));
  console.log(
    `| file | implementation | warm median ms | warm p95 ms | cold median ms (import + first call) |`,
  );
  console.log(`| --- | --- | ---: | ---: | ---: |`);
  for (const [name, code] of Object.entries(files)) {
    const path = await Deno.makeTempFile();
    await Deno.writeTextFile(path, code);
    const warmTimes = modules.map(() => [] as number[]);
    const coldTimes = modules.map(() => [] as number[]);
    // Interleaved: the noise of a shared machine hits both alike.
    for (let r = 0; r < 5; r++) {
      modules.forEach((_, i) => warmTimes[i]!.push(...warm(fns[i]!, code, rounds / 5)));
    }
    for (let r = 0; r < coldRounds; r++) {
      for (const [i, [, module]] of modules.entries()) {
        coldTimes[i]!.push(await cold(`file://${module}`, path));
      }
    }
    await Deno.remove(path);
    for (const [i, [label]] of modules.entries()) {
      const w = summarize(warmTimes[i]!);
      const c = summarize(coldTimes[i]!);
      console.log(
        `| ${name} (${code.length.toLocaleString("en")} chars) | ${label} | ${
          w.median.toFixed(3)
        } | ${w.p95.toFixed(3)} | ${c.median.toFixed(2)} |`,
      );
    }
  }
}
