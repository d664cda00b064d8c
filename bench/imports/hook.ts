/**
 * Loads the post hook's whole static module graph (ours and `node:sqlite`) and does nothing.
 *
 * @module
 */
import "../../src/record/hook_runner.ts";
import "../../src/record/post.ts";
