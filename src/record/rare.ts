/**
 * What a hook's usual path never runs, in one module that a hook loads only when it needs any of
 * it: replaying and appending to the spill journal, the disk-full reserve, the schema's migrations,
 * and the recorder of every kind (for a payload of another event sent to
 * the pre hook). One module, so that the bundler puts the code the usual path shares with these
 * into one chunk: a hook loads its own file and that chunk, not a file per rare path.
 *
 * @module
 */

export { ensureReserve } from "./journal_files.ts";
export { finishReplay, replayPlaces, spillRecords } from "./spill.ts";
export { MIGRATIONS } from "../store/schema.ts";
export { recorderWithoutReplay } from "./post.ts";
