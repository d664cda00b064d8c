/**
 * Loads the CLI's whole module graph (`tracker.ts` and `src/cli/main.ts` with every subcommand) and
 * does nothing: what `tracker.ts lineage` (or `flush --background`) pays before its own work.
 *
 * @module
 */
import "../../tracker.ts";
import "../../src/cli/main.ts";
