/**
 * Interleaved A/B of two checkouts' hooks: `deno run -A bench/ab.ts OTHER_CHECKOUT [ROUNDS]`.
 *
 * Each checkout bundles its own hooks and writes its own `deno run` lines (its `bundleHooks` and
 * `directHookCommands`, run in that checkout), so each side runs exactly as its `install` would
 * set it up, minus the launcher. One floor (`bench/empty.ts` with this checkout's post hook
 * flags) and both sides' pre and post hooks alternate in every round — floor, A, B, floor, B, A —
 * on fresh payloads: a small Write, a small Edit, and a one-line Edit of a 163 KB module. Prints
 * each arm's median and its ratio to the floor, and the median of the per-round differences B − A.
 * This is how a change is shown to help on a shared, noisy machine: the two sides meet the same
 * noise.
 *
 * @module
 */

import { interleave, payloads, ROOT, shell, summarize } from "./lib.ts";
import { largeModule, oneLineEdit } from "./storage.ts";

interface Side {
  name: string;
  pre: string;
  post: string;
}

/** Bundles a checkout's hooks and returns its direct `deno run` lines (run in that checkout). */
async function sideOf(name: string, root: string, dataDir: string, config: string): Promise<Side> {
  const code = `
    import { bundleHooks } from "./src/cli/bundle.ts";
    import { directHookCommands } from "./src/cli/install.ts";
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
  const arms = (s: Side, dir: string, key: "a" | "b") => [
    {
      name: `${key} pre Write`,
      spec: (r: number) => shell(s.pre, env(dir), payloads(`${key}${r + 10}`).preWrite),
    },
    {
      name: `${key} post Write`,
      spec: (r: number) => shell(s.post, env(dir), payloads(`${key}${r + 10}`).postWrite),
    },
    {
      name: `${key} post Edit`,
      spec: (r: number) => shell(s.post, env(dir), payloads(`${key}${r + 10}`).postEdit),
    },
    {
      name: `${key} post Edit 163 KB`,
      spec: (r: number) => shell(s.post, env(dir), bigEdit(key, r)),
    },
  ];
  const floorArm = (n: string) => ({ name: n, spec: () => shell(floor, env(dirA)) });
  const samples = await interleave(
    [
      floorArm("floor"),
      ...arms(a, dirA, "a"),
      ...arms(b, dirB, "b"),
      floorArm("floor "),
      ...arms(b, dirB, "b").reverse(),
      ...arms(a, dirA, "a").reverse(),
    ].map((x, i, all) =>
      all.findIndex((y) => y.name === x.name) === i ? x : { ...x, name: `${x.name}\u200b` }
    ),
    rounds,
  );
  const joined = (n: string) => [...(samples[n] ?? []), ...(samples[`${n}\u200b`] ?? [])];
  const f = summarize([...joined("floor"), ...joined("floor ")]).median;
  console.log(`A = ${ROOT}\nB = ${other}\n${rounds} rounds; floor median ${f.toFixed(1)} ms`);
  for (const what of ["pre Write", "post Write", "post Edit", "post Edit 163 KB"]) {
    const sa = joined(`a ${what}`);
    const sb = joined(`b ${what}`);
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
  Deno.removeSync(temp, { recursive: true });
}

if (import.meta.main) await main(Deno.args);
