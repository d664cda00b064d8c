/**
 * Which versions the server already holds: the evolution of each pattern looked up, a few at a
 * time, for the versions in doubt (sent without a usable answer, imported, new to this server).
 *
 * @module
 */

import type { QueuedVersion } from "../store/mod.ts";
import { fetchNodeVersions, type HttpDeps, type RequestFailure } from "./client.ts";
import { serverPatternVersion } from "./events.ts";
import type { FlushReport } from "./flush.ts";

/** Parallel evolution queries while verifying. */
export const VERIFY_CONCURRENCY = 4;

/** A request that found the server unavailable. */
export type Unavailable = Extract<RequestFailure, { kind: "unavailable" }>;

/** The versions the server holds of each pattern looked up (a few lookups at a time). */
export class VersionLookup {
  private readonly known = new Map<string, Set<string>>();
  /** The last failed lookup, if any. */
  failure: Unavailable | null = null;

  constructor(
    private readonly server: string,
    private readonly http: HttpDeps,
    private readonly report: FlushReport,
  ) {}

  /** Looks these patterns up; a few failures in one pass mean the server is unavailable. */
  async ask(patternIds: readonly string[]): Promise<void> {
    let failures = 0;
    let next = 0;
    const worker = async () => {
      while (failures < VERIFY_CONCURRENCY && next < patternIds.length) {
        const id = patternIds[next++] as string;
        const answer = await fetchNodeVersions(this.server, id, this.http);
        this.report.requests++;
        if (answer.kind === "known") this.known.set(id, answer.versions);
        else {
          failures++;
          this.failure = answer;
        }
      }
    };
    await Promise.all(Array.from({ length: VERIFY_CONCURRENCY }, worker));
  }

  /** Whether the server answered for this version's pattern. */
  answered(r: QueuedVersion): boolean {
    return this.known.has(r.patternId);
  }

  /** Whether the server holds this version (under its version string, or the legacy one). */
  holds(r: QueuedVersion): boolean {
    const versions = this.known.get(r.patternId);
    return versions !== undefined &&
      (versions.has(serverPatternVersion(r.filePath, r.version)) ||
        (r.legacyVersion !== null && versions.has(r.legacyVersion)));
  }
}
