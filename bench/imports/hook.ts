/**
 * Loads the hook's whole static module graph (ours and `node:sqlite`) and does nothing.
 *
 * @module
 */
import "../../src/hook.ts";
