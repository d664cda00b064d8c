/**
 * Claude Code UserPromptSubmit hook: records what each request's words say — the intent label and
 * the scores the transformation classifier reads, never the text unless `store_prompts` is on (then
 * redacted) — so that the changes made while answering it are classified from code and intent.
 * Always exits 0 with empty stdout.
 *
 * @module
 */
import { promptHookMain } from "./src/record/prompt_hook.ts";

if (import.meta.main) await promptHookMain();
