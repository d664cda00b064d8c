/**
 * Shared by the delivery tests (stand-in and real server): configuration, flushing until the outbox
 * is empty, and the comparison of a server's graph with the image a store's history must produce.
 */
import { defaultConfig, type TrackerConfig } from "../src/config/mod.ts";
import { serverPatternVersion } from "../src/delivery/events.ts";
import { type FlushOptions, flushOutbox, type FlushReport } from "../src/delivery/flush.ts";
import { openStore, type StoreCounts } from "../src/store/mod.ts";

/** A configuration for tests: a temp store, the given server, quick timeouts, no auto-flush. */
export function testConfig(
  dataDir: string,
  url: string,
  overrides: Partial<TrackerConfig> = {},
): TrackerConfig {
  return {
    ...defaultConfig(dataDir),
    dataDir,
    logFile: `${dataDir}/log.jsonl`,
    intelligenceUrl: url,
    timeoutSeconds: 0.5,
    maxRetries: 2,
    batchSize: 5,
    autoFlush: false,
    ...overrides,
  };
}

/** Flushes (ignoring the breaker) until the outbox is empty or `rounds` flushes were made. */
export async function flushUntilEmpty(
  config: TrackerConfig,
  rounds = 8,
  options: FlushOptions = {},
): Promise<FlushReport[]> {
  const reports: FlushReport[] = [];
  for (let i = 0; i < rounds; i++) {
    const store = openStore(config.dataDir);
    try {
      const report = await flushOutbox(store, config, {
        ignoreBreaker: true,
        ...options,
        deps: { settlePauseMs: 200, ...options.deps },
      });
      reports.push(report);
      if (report.left === 0) break;
    } finally {
      store.close();
    }
  }
  return reports;
}

/** The store's counts. */
export function storeCounts(dataDir: string): StoreCounts {
  const store = openStore(dataDir);
  try {
    return store.counts();
  } finally {
    store.close();
  }
}

/** A server node as the comparison needs it. */
export interface NodeRef {
  pattern_id: string;
  version: string;
}

/** A server edge as the comparison needs it. */
export interface EdgeRef {
  source: NodeRef;
  target: NodeRef;
}

/** What the server must hold for a store's history: one node per version, one edge per local edge. */
export interface ExpectedImage {
  /** `pattern_id@version` of every local version. */
  nodes: Set<string>;
  /** Local edges: from the parent version's node to the child version's node. */
  edges: { parent: NodeRef; child: NodeRef; filePath: string; version: number }[];
}

/** `pattern_id@version`. */
export function nodeKey(n: NodeRef): string {
  return `${n.pattern_id}@${n.version}`;
}

/** The image of every version in the store in `dataDir`. */
export function expectedImage(dataDir: string): ExpectedImage {
  const store = openStore(dataDir);
  try {
    const versions = store.allVersions();
    const byFile = new Map<string, Map<number, string>>();
    for (const v of versions) {
      (byFile.get(v.filePath) ?? byFile.set(v.filePath, new Map()).get(v.filePath)!).set(
        v.version,
        v.patternId,
      );
    }
    const image: ExpectedImage = { nodes: new Set(), edges: [] };
    for (const v of versions) {
      const node = {
        pattern_id: v.patternId,
        version: serverPatternVersion(v.filePath, v.version),
      };
      image.nodes.add(nodeKey(node));
      if (v.eventType === "pattern_modified" && v.parentPatternId !== null) {
        const parentId = byFile.get(v.filePath)?.get(v.version - 1);
        if (parentId !== v.parentPatternId) {
          throw new Error(`${v.filePath} v${v.version}: parent is not the version before`);
        }
        image.edges.push({
          parent: {
            pattern_id: v.parentPatternId,
            version: serverPatternVersion(v.filePath, v.version - 1),
          },
          child: node,
          filePath: v.filePath,
          version: v.version,
        });
      }
    }
    return image;
  } finally {
    store.close();
  }
}

/** How a server's graph compares with the image. */
export interface GraphComparison {
  missingNodes: string[];
  extraNodes: string[];
  duplicateNodes: string[];
  /** Local edges present node to node. */
  exactEdges: number;
  /** Local edges present only between the right patterns (the server took another node of the parent's pattern). */
  patternEdges: string[];
  /** Local edges with no edge into the child's node from any node of the parent's pattern. */
  missingEdges: string[];
  /** Server edges that match no local edge even by pattern. */
  extraEdges: string[];
  /** A cycle among the server's edges (node keys), or null. */
  cycle: string[] | null;
}

/** Compares what a server holds with the image of a store. */
export function compareWithImage(
  image: ExpectedImage,
  nodes: readonly NodeRef[],
  edges: readonly EdgeRef[],
): GraphComparison {
  const keys = nodes.map(nodeKey);
  const held = new Set(keys);
  const edgeKeys = new Set(edges.map((e) => `${nodeKey(e.source)}>${nodeKey(e.target)}`));
  const intoChild = new Map<string, Set<string>>(); // child node → source patterns
  for (const e of edges) {
    const k = nodeKey(e.target);
    (intoChild.get(k) ?? intoChild.set(k, new Set()).get(k)!).add(e.source.pattern_id);
  }
  const result: GraphComparison = {
    missingNodes: [...image.nodes].filter((k) => !held.has(k)),
    extraNodes: keys.filter((k) => !image.nodes.has(k)),
    duplicateNodes: keys.filter((k, i) => keys.indexOf(k) !== i),
    exactEdges: 0,
    patternEdges: [],
    missingEdges: [],
    extraEdges: [],
    cycle: findCycle(edges),
  };
  const localByChild = new Map<string, Set<string>>();
  for (const e of image.edges) {
    const label = `${e.filePath} v${e.version}`;
    const child = nodeKey(e.child);
    (localByChild.get(child) ?? localByChild.set(child, new Set()).get(child)!).add(
      e.parent.pattern_id,
    );
    if (edgeKeys.has(`${nodeKey(e.parent)}>${child}`)) result.exactEdges++;
    else if (intoChild.get(child)?.has(e.parent.pattern_id)) result.patternEdges.push(label);
    else result.missingEdges.push(label);
  }
  for (const e of edges) {
    if (!localByChild.get(nodeKey(e.target))?.has(e.source.pattern_id)) {
      result.extraEdges.push(`${nodeKey(e.source)}>${nodeKey(e.target)}`);
    }
  }
  return result;
}

/** A cycle in a directed graph of node edges, as the list of its node keys; null when acyclic. */
export function findCycle(edges: readonly EdgeRef[]): string[] | null {
  const out = new Map<string, string[]>();
  for (const e of edges) {
    const k = nodeKey(e.source);
    (out.get(k) ?? out.set(k, []).get(k)!).push(nodeKey(e.target));
  }
  const state = new Map<string, 1 | 2>();
  for (const start of out.keys()) {
    if (state.has(start)) continue;
    const stack: { node: string; next: number }[] = [{ node: start, next: 0 }];
    const path: string[] = [start];
    state.set(start, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const children = out.get(top.node) ?? [];
      if (top.next < children.length) {
        const child = children[top.next++]!;
        if (state.get(child) === 1) return [...path.slice(path.indexOf(child)), child];
        if (!state.has(child)) {
          state.set(child, 1);
          stack.push({ node: child, next: 0 });
          path.push(child);
        }
      } else {
        state.set(top.node, 2);
        stack.pop();
        path.pop();
      }
    }
  }
  return null;
}
