/**
 * Interleaved A/B of two checkouts' hooks: `deno run -A bench/ab.ts OTHER_CHECKOUT [ROUNDS]`.
 *
 * Each checkout bundles its own hooks and writes its own `deno run` lines (its `bundleHooks` and
 * `directHookCommands`, run in that checkout), so each side runs exactly as its `install` would
 * set it up, minus the launcher. One floor (`bench/empty.ts` with this checkout's post hook
 * flags) and both sides' pre and post hooks alternate in every round — floor, A, B, floor, B, A —
 * on fresh payloads: a small Write, a small Edit, and a one-line Edit of a 163 KB module. Each run
 * goes through a small Python wrapper that reports the hook's wall time and its CPU time (user +
 * system, `getrusage` of the waited-for child): CPU time is what other jobs on a shared machine
 * disturb least. Prints each arm's medians, their ratios to the floor's, and the median of the
 * per-round differences B − A. This is how a change is shown to help on a shared, noisy machine:
 * the two sides meet the same noise.
 *
 * @module
 */

import { DENO_DIR, PATH, payloads, ROOT, summarize } from "./lib.ts";
import { largeModule, oneLineEdit } from "./storage.ts";

interface Side {
  name: string;
  pre: string;
  post: string;
}

/** Bundles a checkout's hooks and returns its direct `deno run` lines (run in that checkout). */
async function sideOf(name: string, root: string, dataDir: string, config: string): Promise<Side> {
  const code = `
    import { bundleHooks } from "../src/cli/bundle.ts";
    import { directHookCommands } from "../src/cli/install.ts";
    const root = Deno.cwd();
    const scripts = await bundleHooks({ deno: Deno.execPath(), root });
    console.log(JSON.stringify(directHookCommands({
      deno: Deno.execPath(), root, dataDir: ${JSON.stringify(dataDir)},
      configPath: ${JSON.stringify(config)}, scripts,
    })));`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: root,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`bundling the hooks of ${root} failed`);
  const lines = JSON.parse(new TextDecoder().decode(out.stdout)) as { pre: string; post: string };
  return { name, ...lines };
}

/** A run's wall and CPU time (user + system), in ms, as the wrapper measured them. */
interface Timing {
  wallMs: number;
  cpuMs: number;
}

/** Times one command (through `sh -c`, the payload on stdin) in the wrapper (see the module). */
async function timed(
  command: string,
  env: Record<string, string>,
  input?: Uint8Array,
): Promise<Timing> {
  const child = new Deno.Command("python3", {
    args: ["-c", WRAPPER, "sh", "-c", command],
    env: { PATH, DENO_DIR, ...env },
    clearEnv: true,
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  try {
    if (input && input.length > 0) await writer.write(input);
    await writer.close();
  } catch { /* the child may exit without reading stdin */ }
  const out = new TextDecoder().decode((await child.output()).stdout).trim().split(" ");
  return { wallMs: Number(out[0]), cpuMs: Number(out[1]) };
}

/** Runs argv with this stdin; prints its wall and CPU time in ms (microsecond resolution). */
const WRAPPER = `import resource, subprocess, sys, time
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = (time.perf_counter() - t0) * 1000
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
print(f"{wall:.3f} {cpu:.3f}")`;

async function main(args: string[]): Promise<void> {
  const other = args[0];
  if (!other) throw new Error("usage: deno run -A bench/ab.ts OTHER_CHECKOUT [ROUNDS]");
  const rounds = Number(args[1] ?? 20);
  const temp = Deno.makeTempDirSync({ prefix: "pt-ab-" });
  const config = `${ROOT}/config.yaml`;
  const env = (dir: string) => ({
    HOME: dir,
    PATTERN_TRACKER_DATA_DIR: dir,
    PATTERN_TRACKER_CONFIG: config,
    PATTERN_TRACKER_INTELLIGENCE_URL: "http://127.0.0.1:9",
  });
  const dirA = `${temp}/a`;
  const dirB = `${temp}/b`;
  for (const d of [dirA, dirB]) Deno.mkdirSync(d, { mode: 0o700 });
  const a = await sideOf("A (this checkout)", ROOT, dirA, config);
  const b = await sideOf(`B (${other})`, other, dirB, config);
  const floor = a.post.replace(/'[^']*\.[jt]s'$/, `'${ROOT}/bench/empty.ts'`);
  const enc = (s: string) => new TextEncoder().encode(s);
  // Each side continues its own copy of the large file.
  const large = { a: largeModule(), b: largeModule() };
  const bigEdit = (side: "a" | "b", round: number) => {
    const e = oneLineEdit("/bench/ab/big_module.ts", large[side], 7919 * (round + 10), `t${round}`);
    large[side] = e.after;
    return enc(e.payload);
  };
  type Arm = { name: string; run: (round: number) => Promise<Timing> };
  const arm = (name: string, command: string, dir: string, input?: (r: number) => Uint8Array) => ({
    name,
    run: (r: number) => timed(command, env(dir), input?.(r)),
  });
  const arms = (s: Side, dir: string, key: "a" | "b"): Arm[] => [
    arm(`${key} pre Write`, s.pre, dir, (r) => payloads(`${key}${r + 10}`).preWrite),
    arm(`${key} post Write`, s.post, dir, (r) => payloads(`${key}${r + 10}`).postWrite),
    arm(`${key} post Edit`, s.post, dir, (r) => payloads(`${key}${r + 10}`).postEdit),
    arm(`${key} post Edit 163 KB`, s.post, dir, (r) => bigEdit(key, r)),
  ];
  const order = [
    [arm("floor", floor, dirA), ...arms(a, dirA, "a"), ...arms(b, dirB, "b")],
    [arm("floor", floor, dirA), ...arms(b, dirB, "b").reverse(), ...arms(a, dirA, "a").reverse()],
  ];
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let round = -2; round < rounds; round++) {
    for (const x of order[(round + 2) % 2] as Arm[]) {
      const t = await x.run(round);
      if (round < 0) continue; // warm-up
      (wall[x.name] ??= []).push(t.wallMs);
      (cpu[x.name] ??= []).push(t.cpuMs);
    }
  }
  console.log(`A = ${ROOT}\nB = ${other}\n${rounds} rounds`);
  for (const [label, s] of [["wall", wall], ["CPU", cpu]] as const) {
    const f = summarize(s.floor ?? []).median;
    console.log(`\n${label} time; floor median ${f.toFixed(1)} ms`);
    for (const what of ["pre Write", "post Write", "post Edit", "post Edit 163 KB"]) {
      const sa = s[`a ${what}`] ?? [];
      const sb = s[`b ${what}`] ?? [];
      const ma = summarize(sa).median;
      const mb = summarize(sb).median;
      const diffs = sa.map((x, i) => (sb[i] ?? x) - x).sort((p, q) => p - q);
      const dm = diffs[Math.floor(diffs.length / 2)] ?? 0;
      console.log(
        `${what.padEnd(18)} A ${ma.toFixed(1)} ms ${(ma / f).toFixed(2)}×   B ${mb.toFixed(1)} ms ${
          (mb / f).toFixed(2)
        }×   B − A median ${dm >= 0 ? "+" : ""}${dm.toFixed(1)} ms`,
      );
    }
  }
  Deno.removeSync(temp, { recursive: true });
}

if (import.meta.main) await main(Deno.args);
