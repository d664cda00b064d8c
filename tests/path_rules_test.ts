import assert from "node:assert/strict";
import {
  checkPath,
  DEFAULT_EXCLUDES,
  globMatcher,
  globToRegExp,
  isPathTracked,
  projectDirFromEnv,
} from "../src/record/path_rules.ts";
import { seeded } from "./support.ts";

const DEFAULTS = { include: [], exclude: DEFAULT_EXCLUDES };

Deno.test("a project inside a folder named like a rule is tracked; its secret files are not", () => {
  for (const root of ["/home/dev/code/secrets", "/home/dev/.ssh/tools", "/srv/.aws/app"]) {
    const context = { cwd: root };
    assert.equal(checkPath(`${root}/app.py`, DEFAULTS, context).kind, "tracked", root);
    assert.equal(checkPath(`${root}/src/lib/util.ts`, DEFAULTS, context).kind, "tracked", root);
    assert.equal(checkPath(`${root}/.env`, DEFAULTS, context).kind, "excluded", root);
    assert.equal(checkPath(`${root}/config/secrets/db.yml`, DEFAULTS, context).kind, "excluded");
  }
  // Outside the project, the absolute path is what rules see.
  const outside = checkPath("/home/dev/.ssh/config", DEFAULTS, { cwd: "/home/dev/code/app" });
  assert.deepEqual(outside, { kind: "excluded", rule: ".ssh/", seenAs: "/home/dev/.ssh/config" });
  assert.equal(checkPath("/home/dev/code/secrets/x.py", DEFAULTS).kind, "excluded");
});

Deno.test("CLAUDE_PROJECT_DIR wins over a cwd that moved into a subfolder", () => {
  const context = { projectDir: "/p", cwd: "/p/deploy/secrets" };
  const decision = checkPath("/p/deploy/secrets/prod.yaml", DEFAULTS, context);
  assert.deepEqual(decision, {
    kind: "excluded",
    rule: "secrets/",
    seenAs: "/deploy/secrets/prod.yaml",
  });
  // A file outside the project dir but inside the cwd (the shell moved to another repo).
  assert.deepEqual(checkPath("/other/app.py", DEFAULTS, { projectDir: "/p", cwd: "/other" }), {
    kind: "tracked",
    seenAs: "/app.py",
  });
  // Without CLAUDE_PROJECT_DIR, cwd is the root.
  assert.deepEqual(checkPath("/p/a/b.py", DEFAULTS, { cwd: "/p" }), {
    kind: "tracked",
    seenAs: "/a/b.py",
  });
});

Deno.test("projectDirFromEnv reads CLAUDE_PROJECT_DIR, and null when unset", () => {
  const before = Deno.env.get("CLAUDE_PROJECT_DIR");
  try {
    Deno.env.set("CLAUDE_PROJECT_DIR", "/home/dev/project");
    assert.equal(projectDirFromEnv(), "/home/dev/project");
    Deno.env.delete("CLAUDE_PROJECT_DIR");
    assert.equal(projectDirFromEnv(), null);
  } finally {
    if (before !== undefined) Deno.env.set("CLAUDE_PROJECT_DIR", before);
  }
});

Deno.test("projectDirFromEnv is null when the variable is not granted", async () => {
  const script = Deno.makeTempFileSync({ suffix: ".ts" });
  Deno.writeTextFileSync(
    script,
    `import { projectDirFromEnv } from ${
      JSON.stringify(new URL("../src/record/path_rules.ts", import.meta.url).href)
    };\nconsole.log(JSON.stringify(projectDirFromEnv()));\n`,
  );
  const run = (flag: string) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--quiet", flag, script],
      env: { CLAUDE_PROJECT_DIR: "/somewhere" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  const [denied, granted] = await Promise.all([
    run("--allow-env=HOME"),
    run("--allow-env=HOME,CLAUDE_PROJECT_DIR"),
  ]);
  assert.equal(new TextDecoder().decode(denied.stderr), "");
  assert.equal(new TextDecoder().decode(denied.stdout).trim(), "null");
  assert.equal(new TextDecoder().decode(granted.stdout).trim(), '"/somewhere"');
  Deno.removeSync(script);
});

Deno.test("the secret-file defaults match without regard to case", () => {
  for (
    const p of ["/r/.ENV", "/r/.Env.Local", "/r/certs/SERVER.PEM", "/r/ID_RSA", "/r/.SSH/config"]
  ) {
    assert.equal(isPathTracked(p, [], DEFAULT_EXCLUDES, { cwd: "/r" }), false, p);
  }
});

Deno.test("default excludes: env files, keys, credential stores, Terraform variables and state", () => {
  const excluded = [
    ".env",
    ".env.local",
    "app.env",
    ".envrc",
    "certs/server.pem",
    "tls.key",
    "keys/AuthKey_ABC.p8",
    "store.p12",
    "putty.ppk",
    "release.jks",
    "passwords.kdbx",
    "id_rsa",
    "id_ed25519.pub",
    "config/master.key",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".pgpass",
    ".my.cnf",
    ".git-credentials",
    ".htpasswd",
    ".vault-token",
    "credentials",
    "credentials.json",
    "alice_credentials.csv",
    "client_secret_123-abc.apps.googleusercontent.com.json",
    "config/secrets.yml",
    "infra/prod.tfvars",
    "infra/prod.tfvars.json",
    "terraform.tfstate",
    "terraform.tfstate.backup",
    ".bash_history",
    "deploy/secrets/db.yaml",
    ".kube/config",
    ".docker/config.json",
    ".aws/credentials",
    ".gnupg/pubring.kbx",
  ];
  for (const p of excluded) {
    assert.equal(checkPath(`/r/${p}`, DEFAULTS, { cwd: "/r" }).kind, "excluded", p);
  }
  const tracked = [
    "app.py",
    "src/environment.ts",
    "secrets.md",
    "src/record/secrets.ts",
    "lib/secrets.py",
    "keys.py",
    "auth/credentials.py",
    "src/CredentialsProvider.java",
    "google/auth/credentials_test.py",
    "infra/main.tf",
    "infra/variables.tf",
    "docs/env.md",
  ];
  for (const p of tracked) {
    assert.equal(checkPath(`/r/${p}`, DEFAULTS, { cwd: "/r" }).kind, "tracked", p);
  }
});

Deno.test("the notebook cell suffix is cut for notebooks only", () => {
  const context = { cwd: "/r" };
  assert.equal(checkPath("/r/notes#1/.env", DEFAULTS, context).kind, "excluded");
  assert.equal(checkPath("/r/a#b.env", DEFAULTS, context).kind, "excluded");
  assert.deepEqual(checkPath("/r/analysis.ipynb#cell-7", DEFAULTS, context), {
    kind: "tracked",
    seenAs: "/analysis.ipynb",
  });
  assert.equal(checkPath("/r/secrets/nb.ipynb#c1", DEFAULTS, context).kind, "excluded");
  assert.equal(
    checkPath("/r/nb.ipynb#c1", { include: ["*.ipynb"], exclude: [] }, context).kind,
    "tracked",
  );
});

Deno.test("paths that are not paths of files are refused with the reason", () => {
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["/", /root/],
    ["C:\\", /root/],
    ["/repo/src/", /directory/],
    ["/repo/src/.", /directory/],
    ["/repo/..", /root/],
    ["/repo/src/..", /directory/],
    ["/repo/a\0b.py", /NUL/],
    ["app.py", /relative/],
    ["./src/app.py", /relative/],
    ["C:repo\\a.py", /relative/],
  ];
  for (const [path, reason] of cases) {
    const decision = checkPath(path, DEFAULTS, { cwd: "/repo" });
    assert.equal(decision.kind, "refused", JSON.stringify(path));
    if (decision.kind === "refused") assert.match(decision.reason, reason, JSON.stringify(path));
  }
});

Deno.test("paths are normalised before rules see them: .., //, backslashes, drive letters", () => {
  const context = { cwd: "/repo" };
  assert.equal(checkPath("/repo/src/../.env", DEFAULTS, context).kind, "excluded");
  assert.equal(checkPath("/repo//deploy///secrets/x", DEFAULTS, context).kind, "excluded");
  assert.deepEqual(checkPath("/repo/../other/app.py", DEFAULTS, context), {
    kind: "tracked",
    seenAs: "/other/app.py",
  });
  assert.equal(checkPath("C:\\repo\\.env", DEFAULTS).kind, "excluded");
  assert.deepEqual(checkPath("C:\\Repo\\src\\app.ts", DEFAULTS, { cwd: "C:\\Repo" }), {
    kind: "tracked",
    seenAs: "/src/app.ts",
  });
});

Deno.test("rules read like .gitignore: anchored with a slash, by name without one", () => {
  const context = { cwd: "/repo" };
  const rules = (exclude: string[]) => ({ include: [], exclude });
  // A slash at the start or in the middle anchors at the project root.
  assert.equal(checkPath("/repo/build/out.js", rules(["/build/"]), context).kind, "excluded");
  assert.equal(checkPath("/repo/src/build/x.js", rules(["/build/"]), context).kind, "tracked");
  assert.equal(
    checkPath("/repo/config/prod.yaml", rules(["config/*.yaml"]), context).kind,
    "excluded",
  );
  assert.equal(
    checkPath("/repo/a/config/prod.yaml", rules(["config/*.yaml"]), context).kind,
    "tracked",
  );
  // ** crosses folders; a name matches at any depth; a name also matches a folder.
  assert.equal(checkPath("/repo/a/b/gen/x.ts", rules(["**/gen/**"]), context).kind, "excluded");
  assert.equal(checkPath("/repo/a/b/vendor/x.ts", rules(["vendor"]), context).kind, "excluded");
  // An absolute rule still works for files inside the project.
  assert.equal(
    checkPath("/home/me/client-x/app.py", rules(["/home/me/client-x/"]), {
      cwd: "/home/me/client-x",
    }).kind,
    "excluded",
  );
  // Includes narrow tracking.
  const include = { include: ["src/**"], exclude: DEFAULT_EXCLUDES };
  assert.equal(checkPath("/repo/app.py", include, context).kind, "not_included");
  assert.equal(checkPath("/repo/src/app.py", include, context).kind, "tracked");
  assert.equal(checkPath("/repo/src/.env", include, context).kind, "excluded");
});

Deno.test("globToRegExp: the reference meaning of globs", () => {
  assert.ok(globToRegExp("*.pem").test("/a/b/key.pem"));
  assert.ok(!globToRegExp("*.pem").test("/a/b/key.pem.txt"));
  assert.ok(globToRegExp("*.pem").test("/a/x.pem/inside.txt"), "a name matches a folder too");
  assert.ok(globToRegExp(".env.*").test("/repo/.env.production"));
  assert.ok(!globToRegExp(".env.*").test("/repo/environment.py"));
  assert.ok(globToRegExp("secrets/").test("/deploy/secrets/prod.yaml"));
  assert.ok(!globToRegExp("secrets/").test("/deploy/secrets.py"));
  assert.ok(!globToRegExp("secrets/").test("/deploy/secrets"), "a folder rule needs a folder");
  assert.ok(globToRegExp("src/**/*.ts").test("/src/a/b/c.ts"));
  assert.ok(globToRegExp("src/**/*.ts").test("/src/c.ts"));
  assert.ok(!globToRegExp("src/**/*.ts").test("/lib/src/c.ts"));
  assert.ok(!globToRegExp("src/*.ts").test("/src/a/c.ts"));
  assert.ok(globToRegExp("file?.py").test("/x/file1.py"));
  assert.ok(globToRegExp("*.PEM").test("/x/a.pem"), "globs are lower-cased like paths");
});

Deno.test("globMatcher means exactly what globToRegExp means, on every default and generated globs", () => {
  // Fixed-seed generator: globs of every shape (string-matched and compiled) against tricky paths.
  const { next, pick } = seeded(7);
  const parts = [
    "",
    ".env",
    "env",
    ".",
    "a",
    "id_rsa",
    "secrets",
    ".ssh",
    "x.pem",
    "pem",
    "(",
    "$",
  ];
  const wild = ["", "*", "**", "?", "/"];
  const globs = [
    ...DEFAULT_EXCLUDES,
    "*",
    "*/",
    "**",
    "**/",
    "*a*",
    "*a*/",
    "a*b",
    "a*b/",
    "*.pem/",
  ];
  for (let i = 0; i < 500; i++) {
    globs.push(pick(wild) + pick(parts) + pick(wild) + pick(parts) + pick(wild) + pick(["", "/"]));
  }
  const segments = [
    ".env",
    ".env.local",
    "x.env",
    "a",
    "id_rsa.pub",
    "secrets",
    ".ssh",
    "x.pem",
    "ab",
  ];
  const paths = ["/a", "/secrets", "/x.pem"];
  for (let i = 0; i < 300; i++) {
    const depth = next(4);
    const path = Array.from(
      { length: depth + 1 },
      () => pick([...segments, ...parts.filter(Boolean)]),
    )
      .join("/");
    paths.push(`/${path}`.toLowerCase());
  }
  let checked = 0;
  for (const glob of globs) {
    const fast = globMatcher(glob);
    const reference = globToRegExp(glob);
    for (const path of paths) {
      assert.equal(fast(path), reference.test(path), `glob ${JSON.stringify(glob)} on ${path}`);
      checked++;
    }
  }
  assert.ok(checked > 100_000, `${checked} pairs`);
});
