/**
 * The request bodies of queued versions, assembled from the store's rows (so every send of a
 * version is the same bytes for the same `store_code`), with each file's line attribution carried
 * from one version to the next.
 *
 * @module
 */

import type { TrackerConfig } from "../config/schema.ts";
import type { FileVersion, PatternRow, Store } from "../store/mod.ts";
import { AttributionCarrier } from "../views/blame_history.ts";
import { classifyPending } from "../record/version_transformations.ts";
import { eventForVersion } from "./events.ts";
import { serverKey } from "./plan.ts";

/**
 * The request body of a stored version: assembled from its rows, so every send of it is the same
 * bytes (for the same `store_code`). Its line attribution is computed from the file's versions up to
 * it (`carrier` keeps that walk for the next version of the same file).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { versionEventBody } from "./bodies.ts";
 * const [first] = store.fileHistory("/p/app.py");
 * const event = JSON.parse(versionEventBody(store, store.versionId("/p/app.py", first!.version)!, true));
 * assert.equal(event.event_type, "pattern_created");
 * assert.equal(event.pattern_id, first!.patternId);
 * store.close();
 * ```
 */
export function versionEventBody(
  store: Store,
  versionId: number,
  storeCode: boolean,
  carrier: AttributionCarrier = new AttributionCarrier(store),
): string {
  const v = store.versionById(versionId);
  if (!v) throw new Error(`file version ${versionId} is missing from ${store.path}`);
  return eventBody(v, store.pattern(v.patternId), storeCode, carrier);
}

function eventBody(
  v: FileVersion,
  p: PatternRow | undefined,
  storeCode: boolean,
  carrier: AttributionCarrier,
): string {
  // The attribution is an extra: a history it cannot read must not keep the event from going.
  let lineAttribution = null;
  try {
    lineAttribution = carrier.attributionOf(v, p === undefined ? undefined : p.code);
  } catch { /* unreadable code: sent without it */ }
  return JSON.stringify(eventForVersion(v, p, { storeCode, lineAttribution }));
}

/**
 * The request bodies of stored versions, in the order asked (one query for the versions). The
 * flusher passes one carrier for the whole flush: it sends each file's versions in order, so each
 * attribution costs one step of the file's walk.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { versionEventBodies } from "./bodies.ts";
 * const ids = store.fileHistory("/p/app.py").map((v) => store.versionId(v.filePath, v.version)!);
 * const events = versionEventBodies(store, ids, true).map((b) => JSON.parse(b));
 * assert.deepEqual(events.map((e) => e.event_type), ["pattern_created", "pattern_modified"]);
 * store.close();
 * ```
 */
export function versionEventBodies(
  store: Store,
  versionIds: readonly number[],
  storeCode: boolean,
  carrier: AttributionCarrier = new AttributionCarrier(store),
): string[] {
  const versions = store.versionsById(versionIds);
  if (versions.length !== versionIds.length) {
    throw new Error(`file versions of the outbox are missing from ${store.path}`);
  }
  const patterns = new Map<string, PatternRow | undefined>();
  return versions.map((v) => {
    if (!patterns.has(v.patternId)) patterns.set(v.patternId, store.pattern(v.patternId));
    return eventBody(v, patterns.get(v.patternId), storeCode, carrier);
  });
}

/**
 * The request bodies of the first `limit` queued versions, in queue order (what a flush would
 * send, before ordering), after typing the versions not typed yet, as a flush does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternTracker } from "../api.ts";
 * import { defaultConfig } from "../config/mod.ts";
 * import { openStore } from "../store/mod.ts";
 * const dataDir = Deno.makeTempDirSync();
 * const tracker = new PatternTracker({ ...defaultConfig("/tmp"), dataDir });
 * await tracker.trackCreation("x = 1\n", { filePath: "/p/app.py" });
 * await tracker.trackModification("x = 2\n", { filePath: "/p/app.py" });
 * tracker.close();
 * const store = openStore(dataDir);
 * import { queuedEventBodies } from "./bodies.ts";
 * const events = queuedEventBodies(store, defaultConfig("/tmp"), 10).map((b) => JSON.parse(b));
 * assert.equal(events.length, 2); // both versions wait in the outbox
 * store.close();
 * ```
 */
export function queuedEventBodies(
  store: Store,
  config: Pick<TrackerConfig, "intelligenceUrl" | "storeCode">,
  limit: number,
): string[] {
  classifyPending(store, { queued: true });
  const carrier = new AttributionCarrier(store);
  return store.queuedVersions(serverKey(config.intelligenceUrl), limit).map((r) =>
    versionEventBody(store, r.versionId, config.storeCode, carrier)
  );
}

/** Whether a dead letter was refused for a reason that goes away by itself. */
