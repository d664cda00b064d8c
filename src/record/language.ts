/**
 * Language of a file from its name: a pure lookup on the extension, or on the whole base name for
 * files such as `Dockerfile` and `Makefile`.
 *
 * @module
 */

const BY_EXTENSION: Readonly<Record<string, string>> = {
  py: "python",
  pyi: "python",
  pyw: "python",
  ipynb: "jupyter",
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  rs: "rust",
  go: "go",
  java: "java",
  kt: "kotlin",
  kts: "kotlin",
  scala: "scala",
  c: "c",
  h: "c",
  cc: "cpp",
  cpp: "cpp",
  cxx: "cpp",
  hpp: "cpp",
  hh: "cpp",
  hxx: "cpp",
  cs: "csharp",
  fs: "fsharp",
  swift: "swift",
  m: "objective-c",
  mm: "objective-cpp",
  rb: "ruby",
  php: "php",
  pl: "perl",
  pm: "perl",
  lua: "lua",
  r: "r",
  jl: "julia",
  dart: "dart",
  ex: "elixir",
  exs: "elixir",
  erl: "erlang",
  hs: "haskell",
  ml: "ocaml",
  clj: "clojure",
  cljs: "clojure",
  elm: "elm",
  zig: "zig",
  nim: "nim",
  v: "v",
  sol: "solidity",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  fish: "fish",
  ps1: "powershell",
  bat: "batch",
  sql: "sql",
  graphql: "graphql",
  gql: "graphql",
  proto: "protobuf",
  tf: "terraform",
  hcl: "hcl",
  html: "html",
  htm: "html",
  css: "css",
  scss: "scss",
  sass: "sass",
  less: "less",
  vue: "vue",
  svelte: "svelte",
  astro: "astro",
  json: "json",
  jsonc: "json",
  yaml: "yaml",
  yml: "yaml",
  toml: "toml",
  xml: "xml",
  ini: "ini",
  md: "markdown",
  mdx: "markdown",
  rst: "restructuredtext",
  tex: "latex",
  txt: "text",
  csv: "csv",
  dockerfile: "dockerfile",
  mk: "makefile",
  cmake: "cmake",
  gradle: "groovy",
  groovy: "groovy",
  nix: "nix",
  vim: "vim",
};

const BY_BASENAME: Readonly<Record<string, string>> = {
  dockerfile: "dockerfile",
  containerfile: "dockerfile",
  makefile: "makefile",
  gnumakefile: "makefile",
  rakefile: "ruby",
  gemfile: "ruby",
  justfile: "just",
  "cmakelists.txt": "cmake",
  "build.bazel": "starlark",
  build: "starlark",
  workspace: "starlark",
};

/**
 * The language of a file, from its name; `"unknown"` when the name says nothing. A notebook cell
 * (`nb.ipynb#cell-3`, as NotebookEdit paths are recorded) is its notebook; a `#` anywhere else is
 * part of the name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { languageFromPath } from "./language.ts";
 * assert.equal(languageFromPath("/src/app.py"), "python");
 * assert.equal(languageFromPath("C:\\repo\\Main.KT"), "kotlin");
 * assert.equal(languageFromPath("Dockerfile"), "dockerfile");
 * assert.equal(languageFromPath("/p/nb.ipynb#cell-3"), languageFromPath("/p/nb.ipynb"));
 * assert.equal(languageFromPath("/p/notes#1/app.py"), "python");
 * ```
 */
export function languageFromPath(filePath: string): string {
  const file = filePath.replace(/(\.ipynb)#[^\\/]*$/i, "$1");
  const base = (file.split(/[\\/]/).pop() ?? "").toLowerCase();
  const byName = BY_BASENAME[base];
  if (byName) return byName;
  const dot = base.lastIndexOf(".");
  if (dot <= 0 && !base.startsWith(".")) return "unknown";
  return BY_EXTENSION[base.slice(dot + 1)] ?? "unknown";
}
