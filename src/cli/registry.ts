/**
 * Every command of `tracker.ts`, in the order `help` lists them. A command is one file under
 * `commands/` (its declaration and its pure parser); its work is loaded only when it runs.
 *
 * @module
 */

import type { Command } from "./command.ts";
import { blame } from "./commands/blame.ts";
import { classify } from "./commands/classify.ts";
import { compile } from "./commands/compile.ts";
import { demo } from "./commands/demo.ts";
import { exportCommand } from "./commands/export.ts";
import { flush } from "./commands/flush.ts";
import { importCommand } from "./commands/import.ts";
import { install, uninstall } from "./commands/install.ts";
import { lineage } from "./commands/lineage.ts";
import { prune } from "./commands/prune.ts";
import { recover } from "./commands/recover.ts";
import { report } from "./commands/report.ts";
import { selftest } from "./commands/selftest.ts";
import { stats } from "./commands/stats.ts";
import { status } from "./commands/status.ts";

/** The commands, as `help` lists them. */
export const COMMANDS: readonly Command[] = [
  demo,
  status,
  lineage,
  blame,
  stats,
  report,
  exportCommand,
  importCommand,
  recover,
  classify,
  install,
  compile,
  uninstall,
  flush,
  prune,
  selftest,
];

/**
 * The command of that name, if any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findCommand } from "./registry.ts";
 * assert.equal(findCommand("lineage")?.name, "lineage");
 * assert.equal(findCommand("frobnicate"), undefined);
 * ```
 */
export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
