/**
 * Where this program runs from: a checkout (scripts run by `deno run`) or a `deno compile` binary.
 *
 * @module
 */

/**
 * True inside a binary made by `deno compile` (its main module lives in a virtual
 * `deno-compile-*` directory).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCompiled } from "./runtime.ts";
 * assert.equal(isCompiled(), false); // under `deno run` and `deno test`
 * ```
 */
export function isCompiled(): boolean {
  return Deno.mainModule.includes("/deno-compile-");
}

/** Root of the checkout (where deno.json and the hook scripts are). */
export const ROOT: string = decodeURIComponent(new URL("..", import.meta.url).pathname).replace(
  /\/$/,
  "",
);

/** Names of the compiled binaries. */
export const BINARIES = {
  pre: "pattern-tracker-pre",
  post: "pattern-tracker-post",
  prompt: "pattern-tracker-prompt",
  cli: "pattern-tracker",
} as const;

/**
 * The Deno version this project is tested with: what `npx -y deno@…` in the README runs, and what
 * the hook launcher tells a user without Deno to install.
 */
export const SUPPORTED_DENO = "2.9.6";
