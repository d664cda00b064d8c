/**
 * Claude Code PreToolUse hook: records the intent of a Write, Edit, MultiEdit or NotebookEdit call
 * (when it started, which version the file held). Always exits 0 with empty stdout.
 *
 * @module
 */
import { hookMain } from "./src/hook.ts";

if (import.meta.main) await hookMain("pre");
