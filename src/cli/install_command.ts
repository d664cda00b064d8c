/**
 * The `install` and `uninstall` commands: choose a Deno that lasts, bundle the hooks, and merge the
 * launcher's command lines into settings.json (or take them out again). The pure parts live in
 * `install.ts`, the Deno choice in `stable_deno.ts`, the launcher in `launcher.ts`.
 *
 * @module
 */

import type { InstallRequest, UninstallRequest } from "./commands/install.ts";
import { CONFIG_PATH_ENV, homeDir, loadConfig } from "../config/mod.ts";
import { BINARIES, isCompiled, ROOT } from "../runtime.ts";
import { BUNDLE_DIR, type BundledHooks, bundleHooks } from "./bundle.ts";
import { claudeHooksDir, claudeSettingsPath } from "./claude_paths.ts";
import { CliError } from "./errors.ts";
import {
  binaryCommands,
  type HookCommands,
  hookCommands,
  mergeHookSettings,
  removeHookSettings,
} from "./install.ts";
import { readSettings, writeSettings } from "./settings_file.ts";
import { LAUNCHER } from "./launcher.ts";
import { chooseDeno, type ChosenDeno, type DenoSource, realDenoProbe } from "./stable_deno.ts";

/** Flags of install and uninstall (uninstall accepts install's, so a copied command line works). */
/** The environment variable that names the Deno to use (install and the plugin's launcher). */
export const DENO_ENV = "PATTERN_TRACKER_DENO";

function describeSource(source: DenoSource, dataDir: string): string {
  switch (source) {
    case "option":
      return `given with --deno or ${DENO_ENV}`;
    case "running":
      return "the Deno running install";
    case "path":
      return "deno on PATH";
    case "deno-install":
      return "~/.deno/bin, from Deno's installer";
    case "data-dir":
      return `installed earlier into ${dataDir}/deno`;
    case "npm":
      return `installed now from npm into ${dataDir}/deno`;
    default: {
      const unreachable: never = source;
      return unreachable;
    }
  }
}

/** Makes sure the launcher can be executed (a download without modes loses the x bit). */
function ensureLauncherExecutable(): string {
  const launcher = `${ROOT}/${LAUNCHER}`;
  try {
    const mode = Deno.statSync(launcher).mode ?? 0o755;
    if ((mode & 0o111) !== 0o111) Deno.chmodSync(launcher, (mode & 0o777) | 0o555);
  } catch (error) {
    throw new CliError(
      `cannot use the hook launcher ${launcher}: ${
        (error as Error).message
      }. Is the checkout complete?`,
    );
  }
  return launcher;
}

async function chooseHooksDeno(explicit: string | undefined, dataDir: string): Promise<ChosenDeno> {
  return await chooseDeno(
    {
      explicit,
      running: { path: Deno.execPath(), version: Deno.version.deno },
      path: (Deno.env.get("PATH") ?? "").split(":"),
      home: homeDir(),
      managedDir: `${dataDir}/deno`,
    },
    {
      ...realDenoProbe,
      npmInstall: (prefix, version) => {
        console.log(
          `No lasting Deno found: installing deno@${version} from npm into ${prefix} (about 100 MB)…`,
        );
        return realDenoProbe.npmInstall(prefix, version);
      },
    },
  );
}

/**
 * `install`: merges our hooks into Claude Code's settings.json; returns the exit code.
 *
 * @example
 * ```ts ignore
 * // Bundles the hooks and may install a Deno: tests/install_test.ts runs it in a temporary home.
 * import { installCommand } from "./install_command.ts";
 * await installCommand({ settings: "./.claude/settings.json", deno: undefined, noBundle: false, compiled: false, hooksDir: undefined });
 * ```
 */
export async function installCommand(values: InstallRequest): Promise<number> {
  const settingsPath = values.settings ?? claudeSettingsPath(homeDir());
  // Read first: a settings file we cannot read is refused before anything else happens.
  const before = readSettings(settingsPath);
  const { config, problems, configPath } = await loadConfig();
  for (const p of problems) {
    console.error(`warning: ${p.source}: ${p.key}: ${p.reason} (default used)`);
  }
  const notes: string[] = [];
  let commands: HookCommands;
  if (values.compiled) {
    const hooksDir = values.hooksDir ?? claudeHooksDir(homeDir());
    Deno.mkdirSync(hooksDir, { recursive: true });
    for (const name of Object.values(BINARIES)) {
      const from = `${ROOT}/dist/${name}`;
      try {
        Deno.copyFileSync(from, `${hooksDir}/${name}`);
        Deno.chmodSync(`${hooksDir}/${name}`, 0o755);
      } catch (error) {
        throw new CliError(
          `cannot copy ${from} (${
            (error as Error).message
          }). Build the binaries first: deno task compile`,
        );
      }
    }
    commands = binaryCommands(hooksDir);
  } else if (isCompiled()) {
    throw new CliError(
      "the compiled CLI installs the compiled hooks only: run install --compiled, or run install from a checkout (deno task tracker install)",
    );
  } else {
    ensureLauncherExecutable();
    const deno = await chooseHooksDeno(values.deno ?? Deno.env.get(DENO_ENV), config.dataDir);
    notes.push(
      `Deno ${deno.version}: ${deno.path} (${describeSource(deno.source, config.dataDir)}).`,
    );
    for (const s of deno.skipped) notes.push(`  passed over: ${s}`);
    if (deno.warning) console.error(`warning: ${deno.warning}`);
    // Bundled hooks start faster; the scripts themselves are the fallback, and --no-bundle's choice.
    let scripts: BundledHooks | undefined;
    if (!values.noBundle) {
      try {
        scripts = await bundleHooks({ deno: Deno.execPath(), root: ROOT });
        notes.push(`Bundled the hooks from the current sources into ${ROOT}/${BUNDLE_DIR}.`);
      } catch (error) {
        console.error(
          `warning: the hooks were not bundled (${
            (error as Error).message
          }); they run from the TypeScript sources, about 1.7 ms slower per run. Run install again to retry.`,
        );
      }
    }
    commands = hookCommands({
      deno: deno.path,
      root: ROOT,
      dataDir: config.dataDir,
      configPath,
      scripts,
    });
  }
  const after = mergeHookSettings(before, commands);
  // The hooks' read/write permission covers the data directory only, so it must exist first.
  Deno.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  for (const note of notes) console.log(note);
  if (JSON.stringify(before) === JSON.stringify(after)) {
    console.log(`Already installed in ${settingsPath}; settings unchanged.`);
    return 0;
  }
  const backup = writeSettings(settingsPath, after);
  console.log(
    `Installed Pattern Tracker hooks in ${settingsPath}${backup ? ` (backup: ${backup})` : ""}`,
  );
  if (commands.sessionStart) console.log(`  SessionStart         ${commands.sessionStart}`);
  if (commands.prompt) console.log(`  UserPromptSubmit     ${commands.prompt}`);
  console.log(`  PreToolUse           ${commands.pre}`);
  console.log(`  PostToolUse(Failure) ${commands.post}`);
  console.log(
    `Data directory: ${config.dataDir}. If you change data_dir or ${CONFIG_PATH_ENV}, run install again.`,
  );
  return 0;
}

/**
 * `uninstall`: removes only our hook entries from settings.json; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { uninstallCommand } from "./install_command.ts";
 * const settings = `${Deno.makeTempDirSync()}/settings.json`;
 * Deno.writeTextFileSync(settings, JSON.stringify({ model: "opus" }));
 * assert.equal(uninstallCommand({ settings }), 0); // none of ours: nothing changed
 * assert.deepEqual(JSON.parse(Deno.readTextFileSync(settings)), { model: "opus" });
 * ```
 */
export function uninstallCommand(values: UninstallRequest): number {
  const settingsPath = values.settings ?? claudeSettingsPath(homeDir());
  const before = readSettings(settingsPath);
  const after = removeHookSettings(before);
  if (JSON.stringify(before) === JSON.stringify(after)) {
    console.log(`No Pattern Tracker hooks in ${settingsPath}; nothing changed.`);
    return 0;
  }
  const backup = writeSettings(settingsPath, after);
  console.log(
    `Removed Pattern Tracker hooks from ${settingsPath}${
      backup ? ` (backup: ${backup})` : ""
    }. Your data stays in place.`,
  );
  return 0;
}
