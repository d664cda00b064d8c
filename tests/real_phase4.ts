/**
 * Runs the real Phase 4 server (omniarchon's lineage code on a fresh PostgreSQL, started by its own
 * `start.sh`) for the tests and benchmarks: finds it and a Python with its packages, starts it on
 * two free ports, stops and restarts its PostgreSQL on the same data, and reads its graph with
 * psql.
 *
 * Where things are: `PATTERN_TRACKER_REAL_PHASE4` (the directory with `start.sh`), else
 * `../shared/real_phase4` or `../../shared/real_phase4` from the checkout; the Python:
 * `PATTERN_TRACKER_REAL_PHASE4_PY`, else `.cache/real_phase4_venv` (made by `.ci/run`), else
 * `/tmp/real_phase4_venv`; PostgreSQL's programs: `PG_BIN` (default `/usr/lib/postgresql/15/bin`).
 *
 * @module
 */

import type { EdgeRef, NodeRef } from "./delivery_support.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** What starting the real server needs. */
export interface RealServerSetup {
  startScript: string;
  python: string;
  pgBin: string;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Whether we run as root (`id -u`: `Deno.uid()` needs --allow-sys, which the test task does not give). */
function isRoot(): boolean {
  try {
    const out = new Deno.Command("id", { args: ["-u"], stdout: "piped" }).outputSync();
    return new TextDecoder().decode(out.stdout).trim() === "0";
  } catch {
    return false;
  }
}

function runs(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * Finds the real server and what it needs, or says what is missing.
 *
 * @example
 * ```ts
 * import { findRealServer } from "./real_phase4.ts";
 * const found = findRealServer();
 * if ("missing" in found) console.log(found.missing);
 * ```
 */
export function findRealServer(): RealServerSetup | { missing: string } {
  const dirs = [
    Deno.env.get("PATTERN_TRACKER_REAL_PHASE4"),
    `${ROOT}../shared/real_phase4`,
    `${ROOT}../../shared/real_phase4`,
  ].filter((d): d is string => !!d);
  const dir = dirs.find((d) => exists(`${d}/start.sh`));
  if (!dir) return { missing: `no real_phase4/start.sh (looked in ${dirs.join(", ")})` };
  const pgBin = Deno.env.get("PG_BIN") ?? "/usr/lib/postgresql/15/bin";
  for (const program of ["postgres", "initdb", "pg_ctl"]) {
    if (!exists(`${pgBin}/${program}`)) {
      return {
        missing: `PostgreSQL 15 is not installed (${pgBin}/${program}; apt-get install postgresql)`,
      };
    }
  }
  if (!runs("psql", ["--version"])) return { missing: "psql is not on PATH" };
  if (isRoot() && !runs("id", ["postgres"])) {
    return { missing: "no postgres OS user to run PostgreSQL as (we run as root)" };
  }
  const pythons = [
    Deno.env.get("PATTERN_TRACKER_REAL_PHASE4_PY"),
    `${ROOT}.cache/real_phase4_venv/bin/python`,
    "/tmp/real_phase4_venv/bin/python",
  ].filter((p): p is string => !!p && exists(p));
  const python = pythons.find((p) =>
    runs(p, ["-c", "import fastapi, uvicorn, asyncpg, pydantic, scipy"])
  );
  if (!python) {
    return {
      missing: `no Python with fastapi, uvicorn, asyncpg, pydantic and scipy (tried ${
        pythons.join(", ") || "none found"
      }; .ci/run makes .cache/real_phase4_venv)`,
    };
  }
  return { startScript: `${dir}/start.sh`, python, pgBin };
}

/** A running real server. */
export interface RealServer {
  url: string;
  port: number;
  pgPort: number;
  work: string;
  /** Runs SQL on the server's database; rows of `|`-separated columns. */
  sql(query: string): string[];
  graph(): Promise<{ nodes: NodeRef[]; edges: EdgeRef[] }>;
  /** Every node, edge and event the server stored, with their IDs. */
  snapshot(): Promise<string>;
  /** Stops PostgreSQL only (fast shutdown); the API keeps running. */
  stopDatabase(): Promise<void>;
  /** Starts PostgreSQL again on the same data. */
  startDatabase(): Promise<void>;
  stop(): Promise<void>;
}

function freePortPair(): number {
  for (let i = 0; i < 50; i++) {
    const a = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (a.addr as Deno.NetAddr).port;
    try {
      const b = Deno.listen({ hostname: "127.0.0.1", port: port + 1 });
      b.close();
      a.close();
      return port;
    } catch {
      a.close();
    }
  }
  throw new Error("no two free consecutive ports");
}

function pidAlive(pid: number): boolean {
  return exists(`/proc/${pid}`);
}

/**
 * Starts the real server (a fresh database) and waits for `listening`.
 *
 * @example
 * ```ts
 * import { findRealServer, startRealServer } from "./real_phase4.ts";
 * const setup = findRealServer();
 * // if (!("missing" in setup)) { const s = await startRealServer(setup); ...; await s.stop(); }
 * ```
 */
export async function startRealServer(setup: RealServerSetup): Promise<RealServer> {
  const port = freePortPair();
  const pgPort = port + 1;
  const work = Deno.makeTempDirSync({ dir: "/tmp", prefix: "pt-real-phase4-" });
  const child = new Deno.Command("bash", {
    args: [setup.startScript, String(port)],
    env: { WORK: work, PY: setup.python, PG_BIN: setup.pgBin },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Drain stderr (pip, PostgreSQL notices) so the script never blocks on it.
  const errText: string[] = [];
  (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      errText.push(chunk);
    }
  })();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 180_000;
  while (!seen.includes(`listening ${port}`)) {
    const next = await Promise.race([
      lines.read(),
      new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, deadline - Date.now()))),
    ]);
    if (next === null || next.done) {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      let log = "";
      try {
        log = Deno.readTextFileSync(`${work}/server.log`).slice(-2000);
      } catch { /* none */ }
      throw new Error(`the real server did not start: ${seen}${errText.join("")}\n${log}`);
    }
    seen += next.value;
  }
  (async () => {
    while (!(await lines.read()).done) { /* keep the pipe drained */ }
  })();
  const asPostgres = (cmd: string, args: string[]): [string, string[]] =>
    isRoot() ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  const sql = (query: string): string[] => {
    const out = new Deno.Command("psql", {
      args: [
        "-h",
        "127.0.0.1",
        "-p",
        String(pgPort),
        "-U",
        "postgres",
        "-d",
        "archon",
        "-AtX",
        "-c",
        query,
      ],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!out.success) throw new Error(`psql: ${new TextDecoder().decode(out.stderr)}`);
    return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
  };
  const server: RealServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    pgPort,
    work,
    sql,
    graph() {
      const nodes = sql("SELECT pattern_id, pattern_version FROM pattern_lineage_nodes").map(
        (l) => {
          const [pattern_id, version] = l.split("|") as [string, string];
          return { pattern_id, version };
        },
      );
      const edges = sql(
        `SELECT s.pattern_id, s.pattern_version, t.pattern_id, t.pattern_version
         FROM pattern_lineage_edges e
         JOIN pattern_lineage_nodes s ON s.id = e.source_node_id
         JOIN pattern_lineage_nodes t ON t.id = e.target_node_id`,
      ).map((l) => {
        const [a, b, c, d] = l.split("|") as [string, string, string, string];
        return { source: { pattern_id: a, version: b }, target: { pattern_id: c, version: d } };
      });
      return Promise.resolve({ nodes, edges });
    },
    snapshot() {
      return Promise.resolve(JSON.stringify({
        nodes: sql(
          "SELECT id, pattern_id, pattern_version, created_at FROM pattern_lineage_nodes ORDER BY id",
        ),
        edges: sql(
          "SELECT id, source_node_id, target_node_id, edge_type FROM pattern_lineage_edges ORDER BY id",
        ),
        events: sql("SELECT count(*) FROM pattern_lineage_events"),
      }));
    },
    async stopDatabase() {
      const pid = Number(Deno.readTextFileSync(`${work}/pgdata/postmaster.pid`).split("\n")[0]);
      Deno.kill(pid, "SIGINT");
      const until = Date.now() + 60_000;
      while (pidAlive(pid) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
      if (pidAlive(pid)) throw new Error(`PostgreSQL (pid ${pid}) did not stop`);
    },
    async startDatabase() {
      const [cmd, args] = asPostgres(`${setup.pgBin}/pg_ctl`, [
        "-D",
        `${work}/pgdata`,
        "-o",
        `-h 127.0.0.1 -p ${pgPort} -k ${work}/pgsock -c fsync=off`,
        "-l",
        `${work}/pgdata/restart.log`,
        "-w",
        "start",
      ]);
      const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
      if (!out.success) {
        throw new Error(
          `pg_ctl start: ${new TextDecoder().decode(out.stdout)}${
            new TextDecoder().decode(out.stderr)
          }`,
        );
      }
    },
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      try {
        Deno.removeSync(work, { recursive: true });
      } catch { /* left for inspection */ }
    },
  };
  return server;
}
