/**
 * One flush's drain of the outbox, step by step: plan a round, verify what is in doubt, send a
 * batch, apply the server's answer to each event, and back off or stop when the server is
 * unavailable. The state of one flush (tries per version, the pace, the failure streak) lives in
 * one {@linkcode FlushRun}; `flush.ts` creates it and settles the breaker afterwards.
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import type { QueuedVersion, Store } from "../store/mod.ts";
import { AttributionCarrier } from "../views/blame_history.ts";
import { versionEventBodies } from "./bodies.ts";
import { type HttpDeps, postBatch, postSingle, type SendResult } from "./client.ts";
import type { FlushDeps, FlushReport } from "./flush.ts";
import type { EventVerdict } from "./phase4_answers.ts";
import { type Unavailable, VersionLookup } from "./version_lookup.ts";
import {
  backoffMs,
  batchLength,
  type Pace,
  paceAfterAnswer,
  paceAfterTimeout,
  parsePace,
  planDelivery,
  requestTimeoutMs,
} from "./plan.ts";

/** How many queued versions one planning round looks at. */
export const DELIVERY_WINDOW = 20_000;
/** Longest `Retry-After` we wait inside a flush; longer ones end the flush and open the breaker. */
export const MAX_INLINE_WAIT_SECONDS = 30;
/** Versions sent this recently may still be in the server's hands when they are verified. */
export const SETTLE_HORIZON_MS = 10 * 60_000;

/** Why a flush ended early, and the server's `Retry-After` if it gave one. */
export type Stop = { reason: string; retryAfterSeconds: number | null };

/** The state of one flush and its steps; {@linkcode FlushRun.drain} runs them. */
export class FlushRun {
  readonly baseTimeoutMs: number;
  /** Patterns stored in this flush (their analytics are refreshed afterwards). */
  readonly touched = new Set<string>();
  /** Each file's blame, carried from one version to the next as they are sent. */
  private readonly attribution: AttributionCarrier;
  private readonly paceKey: string;
  private pace: Pace;
  /** Failed tries of each queued version in this flush: 1 + max_retries each. */
  private readonly tries = new Map<number, number>();
  private readonly missingParentSeen = new Set<number>();
  /** Versions to send alone: a batch holding them was refused. */
  private readonly isolate = new Set<number>();
  private singlesOnly = false;
  private failStreak = 0;
  private lastFailure: Unavailable | null = null;
  private stop: Stop | null = null;

  constructor(
    private readonly store: Store,
    private readonly config: TrackerConfig,
    private readonly server: string,
    private readonly deps: FlushDeps,
    private readonly report: FlushReport,
  ) {
    this.baseTimeoutMs = Math.round(config.timeoutSeconds * 1000);
    this.attribution = new AttributionCarrier(store);
    this.paceKey = `delivery_pace ${server}`;
    this.pace = parsePace(store.meta(this.paceKey), config.batchSize);
  }

  /** HTTP dependencies with a timeout. */
  http(timeoutMs: number): HttpDeps {
    return { fetch: this.deps.fetch, timeoutMs, now: this.deps.now };
  }

  /** Keeps the adapted pace for the next flush, and reports its batch size. */
  savePace(): void {
    this.store.setMeta(this.paceKey, JSON.stringify(this.pace));
    this.report.batchSize = this.pace.size;
  }

  private at(): string {
    return new Date(this.deps.now()).toISOString();
  }

  private countTry(ids: Iterable<number>): void {
    for (const id of ids) this.tries.set(id, (this.tries.get(id) ?? 0) + 1);
  }

  /**
   * Rounds until the outbox is drained, everything left failed too often, or the server stays
   * unavailable: each round verifies what is in doubt first, else sends along a fresh plan.
   */
  async drain(): Promise<Stop | null> {
    while (this.stop === null) {
      const rows = this.store.queuedVersions(this.server, DELIVERY_WINDOW);
      const excluded = new Set(
        rows.filter((r) => (this.tries.get(r.queueId) ?? 0) > this.config.maxRetries)
          .map((r) => r.queueId),
      );
      const doubtful = rows.filter((r) => r.inDoubt && !excluded.has(r.queueId));
      if (doubtful.length > 0) {
        await this.verify(doubtful);
        continue;
      }
      const plan = planDelivery(rows, excluded);
      this.report.heldBack = plan.heldBack.length;
      if (plan.ordered.length === 0) {
        // Everything left failed too often in this flush: while the failures go on, that is an
        // unavailable server (breaker), not a finished flush.
        if (this.failStreak > 0 && this.lastFailure !== null) {
          this.stop = {
            reason: `server unavailable: ${this.lastFailure.message}`,
            retryAfterSeconds: this.lastFailure.retryAfterSeconds,
          };
        }
        break;
      }
      await this.sendAlong(plan.ordered);
    }
    return this.stop;
  }

  /** Sends along a plan while every answer stores everything; anything else plans again. */
  private async sendAlong(ordered: readonly QueuedVersion[]): Promise<void> {
    let rest = ordered;
    while (rest.length > 0 && this.stop === null) {
      const single = this.singlesOnly || this.isolate.has(rest[0]!.queueId);
      const firstIsolated = rest.findIndex((r) => this.isolate.has(r.queueId));
      const n = single
        ? 1
        : batchLength(rest.slice(0, firstIsolated < 0 ? undefined : firstIsolated), this.pace.size);
      const clean = await this.sendBatch(rest.slice(0, n), single);
      rest = rest.slice(n);
      if (!clean) break;
    }
  }

  /** A round that moved nothing: back off, or stop when the server stays unavailable. */
  private async failedRound(failure: Unavailable): Promise<void> {
    this.failStreak++;
    this.lastFailure = failure;
    this.store.setMeta("last_error", `${this.at()} delivery: ${failure.message}`);
    const wait = failure.retryAfterSeconds;
    if (
      this.failStreak > this.config.maxRetries ||
      (wait !== null && wait > MAX_INLINE_WAIT_SECONDS)
    ) {
      this.stop = { reason: `server unavailable: ${failure.message}`, retryAfterSeconds: wait };
      return;
    }
    // After a timeout the verification that follows waits for the server to settle.
    if (failure.timedOut) return;
    await this.deps.sleep(backoffMs(this.failStreak, {
      baseMs: 200,
      capMs: 5_000,
      random: this.deps.random,
      retryAfterSeconds: wait,
    }));
  }

  /**
   * Asks the server which of these in-doubt versions it holds, and records the answers it gave:
   * held → delivered, not held → may be sent. Versions whose pattern could not be looked up stay
   * in doubt.
   */
  private async verify(rows: readonly QueuedVersion[]): Promise<void> {
    const started = performance.now();
    const lookup = new VersionLookup(this.server, this.http(this.baseTimeoutMs), this.report);
    await lookup.ask([...new Set(rows.map((r) => r.patternId))]);
    // A request abandoned moments ago may still be running on the server: look again until
    // nothing changes, so that no version it is about to store is sent a second time.
    const recent = rows.some((r) =>
      r.lastSentAt !== null && this.deps.now() - Date.parse(r.lastSentAt) < SETTLE_HORIZON_MS
    );
    for (let look = 0; recent && lookup.failure === null && look < 15; look++) {
      const absent = rows.filter((r) => lookup.answered(r) && !lookup.holds(r));
      if (absent.length === 0) break;
      await this.deps.sleep(this.deps.settlePauseMs);
      await lookup.ask([...new Set(absent.map((r) => r.patternId))]);
      if (absent.every((r) => !lookup.holds(r))) break;
    }
    const answered = rows.filter((r) => lookup.answered(r));
    const present = answered.filter((r) => lookup.holds(r));
    const unresolved = rows.filter((r) => !lookup.answered(r));
    this.deps.log({
      level: unresolved.length ? "warn" : "info",
      event: "delivery_verify",
      checked: rows.length,
      present: present.length,
      unresolved: unresolved.length,
      latency_ms: Math.round(performance.now() - started),
      ...(lookup.failure ? { message: lookup.failure.message } : {}),
    });
    this.store.immediate(() => {
      this.store.markDelivered(this.server, present.map((r) => r.queueId), this.at());
      this.store.clearDoubt(answered.filter((r) => !lookup.holds(r)).map((r) => r.queueId));
    });
    this.report.confirmed += present.length;
    if (present.length > 0) this.failStreak = 0;
    if (unresolved.length > 0) {
      this.countTry(unresolved.map((r) => r.queueId));
      if (answered.length === 0 && lookup.failure) await this.failedRound(lookup.failure);
    }
  }

  /** Sends one batch (or one event alone) and records the answer; true when all were stored. */
  private async sendBatch(batch: readonly QueuedVersion[], single: boolean): Promise<boolean> {
    const ids = batch.map((r) => r.queueId);
    const bodies = versionEventBodies(
      this.store,
      batch.map((r) => r.versionId),
      this.config.storeCode,
      this.attribution,
    );
    this.store.immediate(() => this.store.markSent(ids, this.at()));
    const timeoutMs = requestTimeoutMs(batch.length, this.pace, this.baseTimeoutMs);
    const started = performance.now();
    const result: SendResult = single
      ? await postSingle(this.server, bodies[0] as string, this.http(timeoutMs))
      : await postBatch(this.server, bodies, this.http(timeoutMs));
    const latencyMs = Math.round(performance.now() - started);
    this.report.requests++;
    this.deps.log({
      level: result.kind === "answered" ? "info" : "warn",
      event: "delivery_attempt",
      endpoint: single ? "/lineage/track" : "/lineage/track/batch",
      outcome: result.kind,
      status: result.status,
      latency_ms: latencyMs,
      batch_size: batch.length,
      timeout_ms: timeoutMs,
      ...(result.kind === "answered" ? {} : { message: result.message }),
    });
    switch (result.kind) {
      case "answered":
        this.pace = paceAfterAnswer(this.pace, batch.length, latencyMs, this.config.batchSize);
        return await this.answered(batch, result.verdicts, result.status);
      case "unavailable":
        this.store.immediate(() => this.store.markFailed(ids, result.message, result.maybeStored));
        this.countTry(ids);
        if (result.timedOut) {
          // Never the same batch again: it is split, and what it held is verified first.
          this.pace = paceAfterTimeout(this.pace, batch.length, timeoutMs);
        }
        await this.failedRound(result);
        return false;
      case "refused":
        this.refused(batch, single, result);
        return false;
      default: {
        const unreachable: never = result;
        throw new Error(`unexpected result ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** An answer with a verdict per event: applied; true when every event was stored. */
  private async answered(
    batch: readonly QueuedVersion[],
    verdicts: readonly EventVerdict[],
    status: number,
  ): Promise<boolean> {
    const stored = this.apply(batch, verdicts, status);
    if (stored === batch.length) {
      this.failStreak = 0;
      return true;
    }
    if (stored > 0) this.failStreak = 0;
    else if (verdicts.every((v) => v.kind === "transient")) {
      // E.g. every event failed on a database that is down: the server is unavailable.
      const first = verdicts[0] as Extract<EventVerdict, { kind: "transient" }>;
      await this.failedRound({
        kind: "unavailable",
        status,
        message: first.message,
        retryAfterSeconds: null,
        maybeStored: first.maybeStored,
        timedOut: false,
      });
    }
    return false;
  }

  /** A request refused before any processing: nothing was stored. */
  private refused(
    batch: readonly QueuedVersion[],
    single: boolean,
    result: Extract<SendResult, { kind: "refused" }>,
  ): void {
    const ids = batch.map((r) => r.queueId);
    this.store.immediate(() => this.store.markFailed(ids, result.message, false));
    if (result.unsupported) this.singlesOnly = true;
    else if (single) {
      this.store.immediate(() => this.deadLetter(batch[0]!, result.status, result.message));
    } else {
      // One bad event refuses the whole batch: find it by sending each on its own.
      for (const id of ids) this.isolate.add(id);
      this.deps.log({
        level: "warn",
        event: "batch_refused",
        status: result.status,
        message: result.message,
        batch_size: batch.length,
      });
    }
  }

  /** Records what the server said about each event of a request; returns how many it stored. */
  private apply(
    rows: readonly QueuedVersion[],
    verdicts: readonly EventVerdict[],
    status: number,
  ): number {
    const now = this.at();
    let stored = 0;
    this.store.immediate(() => {
      const delivered: number[] = [];
      rows.forEach((row, i) => {
        const verdict = verdicts[i] as EventVerdict;
        switch (verdict.kind) {
          case "stored":
            delivered.push(row.queueId);
            stored++;
            this.report.sent++;
            if (verdict.alreadyExisted) this.report.alreadyExisted++;
            this.touched.add(row.patternId);
            break;
          case "transient":
            this.store.markFailed([row.queueId], verdict.message, verdict.maybeStored);
            this.countTry([row.queueId]);
            break;
          case "missing_parent":
            this.missingParent(row, verdict, status, now);
            break;
          case "rejected":
            this.deadLetter(row, status, verdict.message);
            break;
          default: {
            const unreachable: never = verdict;
            throw new Error(`unexpected verdict ${JSON.stringify(unreachable)}`);
          }
        }
      });
      this.store.markDelivered(this.server, delivered, now);
      if (delivered.length > 0) this.store.setMeta("last_success", now);
    });
    return stored;
  }

  /** The server lacks the event's parent: send the ancestors again, or give up on the event. */
  private missingParent(
    row: QueuedVersion,
    verdict: Extract<EventVerdict, { kind: "missing_parent" }>,
    status: number,
    now: string,
  ): void {
    this.store.markFailed([row.queueId], verdict.message, false);
    if (this.missingParentSeen.has(row.queueId)) this.countTry([row.queueId]);
    this.missingParentSeen.add(row.queueId);
    // A parent still queued goes first anyway; otherwise the server lost it, or never had it:
    // this store holds every ancestor and sends them again.
    if (row.parentState === "queued") return;
    const restored = this.store.requeueAncestors(this.server, row.filePath, row.version, now);
    this.report.restored += restored;
    this.deps.log({
      level: "warn",
      event: "parent_missing",
      file_path: row.filePath,
      version: row.version,
      parent_pattern_id: verdict.parentPatternId,
      requeued: restored,
    });
    if (restored === 0) {
      // Nothing here can supply it: the event can never be accepted.
      this.deadLetter(
        row,
        status,
        `${verdict.message} (this store holds no version with that pattern)`,
        false,
      );
    }
  }

  /** Moves an event the server will never accept to the dead letters (inside a transaction). */
  private deadLetter(row: QueuedVersion, status: number, message: string, lastError = true): void {
    const now = this.at();
    this.store.moveToDeadLetter(this.server, row.queueId, {
      status,
      message,
      verdict: "rejected",
    }, now);
    this.report.deadLettered++;
    if (lastError) this.store.setMeta("last_error", `${now} dead letter: ${message}`);
  }
}
