/**
 * Helpers of the benchmark harness (`bench/run.ts`): statistics, timing a whole process the way
 * Claude Code runs a hook, fresh hook payloads per run, and an interleaved runner that alternates
 * the floor with the measured commands so that the noise of a small machine hits both alike.
 *
 * @module
 */

import { directHookCommands, type HookCommands, hookCommands } from "../src/cli/install.ts";

/** The checkout's root directory (no trailing slash). */
export const ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(
  /\/$/,
  "",
);

/** `PATH` passed to every child (the environment is otherwise cleared). */
export const PATH: string = Deno.env.get("PATH") ?? "/usr/bin:/bin";

/**
 * The Deno cache every child shares, as hooks share the user's: `DENO_DIR`, else the default place.
 */
export const DENO_DIR: string = Deno.env.get("DENO_DIR") ||
  `${Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache`}/deno`;

/** Median, 95th percentile, minimum and count of a sample of milliseconds. */
export interface Summary {
  median: number;
  p95: number;
  min: number;
  n: number;
}

/**
 * Summarises a sample: the median (mean of the two middle values for an even count) and the
 * nearest-rank 95th percentile.
 *
 * @example
 * ```ts
 * import { summarize } from "./lib.ts";
 * summarize([1, 2, 3, 4]).median; // 2.5
 * ```
 */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: NaN, p95: NaN, min: NaN, n: 0 };
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const p95 = sorted[Math.min(n - 1, Math.max(0, Math.ceil(0.95 * n) - 1))]!;
  return { median, p95, min: sorted[0]!, n };
}

/** How to run one process: a program, its arguments, stdin bytes and the (whole) environment. */
export interface ProcessSpec {
  cmd: string;
  args: string[];
  input?: Uint8Array;
  env: Record<string, string>;
}

/**
 * Runs a process to its exit with a cleared environment (plus `PATH` and `DENO_DIR` unless given)
 * and the input piped to stdin; returns the wall time in ms and the exit code. Timing starts
 * before the spawn and ends when the process has exited: what the parent (Claude Code) waits for.
 *
 * @example
 * ```ts
 * import { timeProcess } from "./lib.ts";
 * const { ms } = await timeProcess({ cmd: "true", args: [], env: {} });
 * ```
 */
export async function timeProcess(spec: ProcessSpec): Promise<{ ms: number; code: number }> {
  const started = performance.now();
  const child = new Deno.Command(spec.cmd, {
    args: spec.args,
    env: { PATH, DENO_DIR, ...spec.env },
    clearEnv: true,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  try {
    if (spec.input && spec.input.length > 0) await writer.write(spec.input);
    await writer.close();
  } catch {
    // The child may exit without reading stdin (an empty script): that is not a failure.
  }
  const status = await child.status;
  return { ms: performance.now() - started, code: status.code };
}

/** A hook command as Claude Code runs it: `sh -c <command line>`. */
export function shell(command: string, env: Record<string, string>, input?: Uint8Array) {
  return { cmd: "sh", args: ["-c", command], env, input } satisfies ProcessSpec;
}

/** One measured thing of an interleaved run: called once per round for a fresh process spec. */
export interface Arm {
  name: string;
  spec: (round: number) => ProcessSpec;
}

/**
 * Runs every arm once per round, in order, for `warmup + rounds` rounds (warm-up rounds fill
 * Deno's caches and are discarded), and returns each arm's samples in ms. Put the floor between
 * the measured arms so that both see the same noise.
 *
 * @example
 * ```ts
 * import { interleave } from "./lib.ts";
 * const s = await interleave([{ name: "true", spec: () => ({ cmd: "true", args: [], env: {} }) }], 3);
 * s.true?.length; // 3
 * ```
 */
export async function interleave(
  arms: readonly Arm[],
  rounds: number,
  warmup = 2,
): Promise<Record<string, number[]>> {
  const samples: Record<string, number[]> = {};
  for (const arm of arms) samples[arm.name] = [];
  for (let round = -warmup; round < rounds; round++) {
    for (const arm of arms) {
      const { ms } = await timeProcess(arm.spec(round));
      if (round >= 0) samples[arm.name]!.push(ms);
    }
  }
  return samples;
}

/** The four payloads of one round, as bytes for stdin. */
export interface Payloads {
  preWrite: Uint8Array;
  postWrite: Uint8Array;
  preEdit: Uint8Array;
  postEdit: Uint8Array;
}

const fixtures = new Map<string, Record<string, unknown>>();
function fixture(name: string): Record<string, unknown> {
  let f = fixtures.get(name);
  if (!f) {
    f = JSON.parse(Deno.readTextFileSync(`${ROOT}/src/cli/demo_session/${name}.json`)) as Record<
      string,
      unknown
    >;
    fixtures.set(name, f);
  }
  return structuredClone(f);
}

/**
 * The real Write and Edit payloads captured from Claude Code (fixtures 01–04) with a fresh
 * `tool_use_id`, file and content per key, so each run records a new pattern: a Write creating
 * `/bench/<key>.py`, then an Edit of that same file whose `originalFile` is what the Write wrote.
 *
 * @example
 * ```ts
 * import { payloads } from "./lib.ts";
 * payloads("r1").postWrite.length > 0; // true
 * ```
 */
export function payloads(key: string): Payloads {
  const file = `/bench/${key}.py`;
  const content = `def add_${key.replace(/\W/g, "_")}(a, b):\n    return a + b\n`;
  const postWriteFx = fixture("02-post-write");
  const preWrite = {
    ...fixture("01-pre-write"),
    tool_use_id: `toolu_w_${key}`,
    tool_input: { file_path: file, content },
  };
  const postWrite = {
    ...postWriteFx,
    tool_use_id: `toolu_w_${key}`,
    tool_input: preWrite.tool_input,
    tool_response: {
      ...(postWriteFx.tool_response as Record<string, unknown>),
      filePath: file,
      content,
    },
  };
  const edit = fixture("04-post-edit");
  const preEditFx = fixture("03-pre-edit");
  const preEdit = {
    ...preEditFx,
    tool_use_id: `toolu_e_${key}`,
    tool_input: { ...(edit.tool_input as Record<string, unknown>), file_path: file },
  };
  const postEdit = {
    ...edit,
    tool_use_id: `toolu_e_${key}`,
    tool_input: preEdit.tool_input,
    tool_response: {
      ...(edit.tool_response as Record<string, unknown>),
      filePath: file,
      originalFile: content,
    },
  };
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
  return {
    preWrite: enc(preWrite),
    postWrite: enc(postWrite),
    preEdit: enc(preEdit),
    postEdit: enc(postEdit),
  };
}

/** Paths and environment of one installed tracker, as `tracker.ts install` would set it up. */
export interface Install {
  dataDir: string;
  configPath: string;
  /** What `install` writes: the launcher with the values it resolved. */
  commands: HookCommands;
  /** The `deno run` lines the launcher execs, written out: the hooks without the launcher. */
  direct: { pre: string; post: string };
  /**
   * The post hook's `deno run` line (without the launcher) with the script replaced by
   * `bench/empty.ts`: the floor, a bare `deno run` of an empty script with the hook's flags.
   */
  floor: string;
  env: Record<string, string>;
}

/**
 * The hook command lines `tracker.ts install` writes (via the real `hookCommands`), for a data
 * directory and a config file, plus the hooks' environment; `scripts` are the bundled hooks
 * (`install` without `--no-bundle`), else the TypeScript sources run.
 *
 * @example
 * ```ts
 * import { install, ROOT } from "./lib.ts";
 * const i = install(Deno.makeTempDirSync(), `${ROOT}/config.yaml`, "http://127.0.0.1:9");
 * i.commands.post.endsWith("post_hook.ts'"); // true: the launcher, then the script
 * ```
 */
export function install(
  dataDir: string,
  configPath: string,
  url: string,
  extraEnv: Record<string, string> = {},
  scripts?: { pre: string; post: string },
): Install {
  Deno.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const setup = { deno: Deno.execPath(), root: ROOT, dataDir, configPath, scripts };
  const commands = hookCommands(setup);
  const direct = directHookCommands(setup);
  const floor = withScript(direct.post, `${ROOT}/bench/empty.ts`);
  return {
    dataDir,
    configPath,
    commands,
    direct,
    floor,
    env: {
      HOME: dataDir,
      PATTERN_TRACKER_DATA_DIR: dataDir,
      PATTERN_TRACKER_CONFIG: configPath,
      PATTERN_TRACKER_INTELLIGENCE_URL: url,
      ...extraEnv,
    },
  };
}

/** A hook command line with its script (the last, quoted word) replaced. */
export function withScript(command: string, script: string): string {
  return command.replace(/'[^']*\.[jt]s'$/, `'${script.replaceAll("'", `'\\''`)}'`);
}

/**
 * Waits until no background flusher holds the data directory's lock (it lingers a few seconds
 * after its last delivery), up to `timeoutMs`; returns whether it was released.
 */
export async function waitForFlushers(dataDir: string, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let free = false;
    try {
      const file = Deno.openSync(`${dataDir}/flusher.lock`, { read: true, write: true });
      try {
        free = file.tryLockSync(true);
      } catch { /* held */ }
      file.close();
    } catch {
      free = true; // no lock file: no flusher was ever started
    }
    if (free || Date.now() >= deadline) return free;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Formats ms with one decimal. */
export const fmt = (ms: number): string => ms.toFixed(1);
/** Formats a ratio like `1.43×`. */
export const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;
