/**
 * The generated files of the plugin and the launcher: `hooks/pattern-tracker.sh` (from
 * `launcher.ts`) and `hooks/hooks.json` (from `install.ts`, the same entries `install` writes into
 * settings.json). `deno task generate` writes them; a test checks that the committed ones match.
 *
 * @module
 */

import { ROOT } from "../runtime.ts";
import { pluginHooksJson } from "./install.ts";
import { LAUNCHER, launcherScript, PLUGIN_HOOKS } from "./launcher.ts";

/**
 * Each generated file: its path under the checkout and its text (pure).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generatedFiles } from "./plugin_files.ts";
 * assert.deepEqual(generatedFiles().map((f) => f.path), ["hooks/pattern-tracker.sh", "hooks/hooks.json"]);
 * ```
 */
export function generatedFiles(): { path: string; text: string; mode: number }[] {
  return [
    { path: LAUNCHER, text: launcherScript(), mode: 0o755 },
    { path: PLUGIN_HOOKS, text: JSON.stringify(pluginHooksJson(), null, 2) + "\n", mode: 0o644 },
  ];
}

if (import.meta.main) {
  for (const file of generatedFiles()) {
    Deno.writeTextFileSync(`${ROOT}/${file.path}`, file.text);
    Deno.chmodSync(`${ROOT}/${file.path}`, file.mode);
    console.log(`wrote ${file.path}`);
  }
}
