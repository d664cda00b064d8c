/**
 * Claude Code PreToolUse hook: records the intent of a Write, Edit, MultiEdit or NotebookEdit call
 * (when it started, which version the file held). Always exits 0 with empty stdout.
 *
 * @module
 */
import { hookMainWith } from "./src/record/hook_runner.ts";
import { PRE_HOOK } from "./src/record/pre.ts";

if (import.meta.main) await hookMainWith(PRE_HOOK);
