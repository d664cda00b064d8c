/**
 * Claude Code PostToolUse / PostToolUseFailure hook: records the pattern written, its lineage and
 * the execution metrics, queues the Phase 4 events, and wakes the background flusher. Always exits 0
 * with empty stdout.
 *
 * @module
 */
import { hookMain } from "./src/hook.ts";

if (import.meta.main) await hookMain("post");
