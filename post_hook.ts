/**
 * Claude Code PostToolUse / PostToolUseFailure hook: records the pattern written, its lineage and
 * the execution metrics, queues the Phase 4 events, and wakes the background flusher. Always exits 0
 * with empty stdout.
 *
 * @module
 */
import { hookMainWith } from "./src/record/hook_runner.ts";
import { POST_HOOK } from "./src/record/post.ts";

if (import.meta.main) await hookMainWith(POST_HOOK);
