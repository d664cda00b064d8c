import assert from "node:assert/strict";
import { PatternTracker } from "../src/api.ts";
import { defaultConfig } from "../src/config/mod.ts";
import { runHook } from "../src/record/hooks.ts";
import { redactSecrets } from "../src/record/privacy.ts";
import { openStore } from "../src/store/mod.ts";
import { queuedEventBodies } from "../src/delivery/bodies.ts";

const SECRETS: { kind: string; code: string; secret: string }[] = [
  {
    kind: "private_key",
    code:
      "KEY = '''-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7v\nq2W+x==\n-----END RSA PRIVATE KEY-----'''",
    secret: "MIIEowIBAAKCAQEA7v",
  },
  {
    kind: "private_key",
    code:
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    secret: "b3BlbnNzaC1rZXktdjEAAAAA",
  },
  {
    kind: "aws_access_key",
    code: 'aws_id = "AKIAIOSFODNN7EXAMPLE"',
    secret: "AKIAIOSFODNN7EXAMPLE",
  },
  {
    kind: "github_token",
    code: "const t = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';",
    secret: "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
  },
  {
    kind: "anthropic_key",
    code: "client = Anthropic(api_key=os.environ.get('X', 'sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv'))",
    secret: "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv",
  },
  {
    kind: "openai_key",
    code: "OPENAI = sk-proj-abcdefghijklmnopqrstuvwx123",
    secret: "sk-proj-abcdefghijklmnopqrstuvwx123",
  },
  {
    kind: "slack_token",
    code: 'SLACK = "xoxb-123456789012-abcdefghijkl"',
    secret: "xoxb-123456789012-abcdefghijkl",
  },
  {
    kind: "google_api_key",
    code: "key: AIzaSyA1234567890abcdefghijklmnopqrstuv",
    secret: "AIzaSyA1234567890abcdefghijklmnopqrstuv",
  },
  {
    kind: "stripe_key",
    code: "stripe.api_key = sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    secret: "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
  },
  {
    kind: "jwt",
    code:
      "auth = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    secret: "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
  },
  {
    kind: "bearer_token",
    code: "curl -H 'X: Bearer abcdefghijklmnop1234567890'",
    secret: "abcdefghijklmnop1234567890",
  },
  {
    kind: "assigned_secret",
    code: 'password = "correct horse battery staple"',
    secret: "correct horse battery staple",
  },
  { kind: "assigned_secret", code: '{"db_password": "hunter2!"}', secret: "hunter2!" },
  { kind: "assigned_secret", code: "export API_TOKEN=abc123def456\n", secret: "abc123def456" },
  { kind: "assigned_secret", code: "client_secret: 'zzzz-yyyy-xxxx'", secret: "zzzz-yyyy-xxxx" },
  {
    kind: "connection_string",
    code: 'DATABASE_URL = "postgres://app:s3cr3t-pw@db.internal:5432/app"',
    secret: "s3cr3t-pw",
  },
  {
    kind: "connection_string",
    code: "mongodb+srv://admin:Pa55word@cluster0.mongodb.net/test",
    secret: "Pa55word",
  },
];

for (const { kind, code, secret } of SECRETS) {
  Deno.test(`redactSecrets removes a ${kind}: ${code.slice(0, 30).replaceAll("\n", " ")}…`, () => {
    const { text, counts } = redactSecrets(code);
    assert.ok(!text.includes(secret), `secret still present in ${text}`);
    assert.match(text, /\[REDACTED:[a-z_]+\]/);
    assert.ok(Object.values(counts).reduce((a, b) => a + b, 0) >= 1);
    assert.ok(kind in counts, `expected kind ${kind}, got ${JSON.stringify(counts)}`);
  });
}

Deno.test("redactSecrets leaves ordinary code alone", () => {
  const code = [
    "def login(user, password):",
    "    token = make_token(user)",
    "    password = read_password()",
    "    return check(password, user.password_hash)",
    'url = "https://example.com/api/v1"',
    "skip = 1",
  ].join("\n");
  assert.deepEqual(redactSecrets(code), { text: code, counts: {} });
});

function tempConfig(overrides = {}) {
  const dataDir = Deno.makeTempDirSync({ prefix: "pt-privacy-" });
  return {
    ...defaultConfig(dataDir),
    dataDir,
    logFile: `${dataDir}/log.jsonl`,
    autoFlush: false,
    ...overrides,
  };
}

Deno.test("secrets never reach the store or the outbox; the pattern ID is still the real content's", async () => {
  const config = tempConfig();
  const tracker = new PatternTracker(config);
  const code = 'API_KEY = "sk-ant-api03-SECRETSECRETSECRET12"\nprint("hi")\n';
  await tracker.trackCreation(code, { filePath: "/p/settings.py" });
  tracker.close();
  const store = openStore(config.dataDir);
  const [version] = store.fileHistory("/p/settings.py");
  const pattern = store.pattern(version!.patternId);
  const [event] = queuedEventBodies(store, config, 10);
  store.close();
  const { patternId } = await import("../src/record/pattern.ts");
  assert.equal(version!.patternId, await patternId(code));
  assert.ok(pattern?.code && !pattern.code.includes("SECRETSECRET"));
  assert.equal(pattern?.redactedSecrets, 1);
  assert.ok(!event!.includes("SECRETSECRET"));
  assert.equal(JSON.parse(event!).pattern_data.redacted_secrets, 1);
  const raw = Deno.readFileSync(`${config.dataDir}/patterns.db`);
  assert.ok(
    !new TextDecoder().decode(raw).includes("SECRETSECRET"),
    "the database file holds the secret",
  );
});

Deno.test("store_code: false keeps hashes, sizes and lineage only", async () => {
  const config = tempConfig({ storeCode: false });
  const tracker = new PatternTracker(config);
  await tracker.trackCreation("a = 1\n", { filePath: "/p/a.py" });
  await tracker.trackModification("a = 2\n", { filePath: "/p/a.py", parentCode: "a = 1\n" });
  tracker.close();
  const store = openStore(config.dataDir);
  const history = store.fileHistory("/p/a.py");
  const events = queuedEventBodies(store, config, 10).map((b) => JSON.parse(b));
  const patterns = history.map((v) => store.pattern(v.patternId));
  store.close();
  assert.equal(history.length, 2);
  assert.equal(history[1]?.parentPatternId, history[0]?.patternId);
  for (const p of patterns) {
    assert.equal(p?.code, null);
    assert.equal(p?.codeOmitted, "store_code_off");
    assert.equal(p?.byteSize, 6);
  }
  for (const e of events) {
    assert.equal("code" in e.pattern_data, false);
    assert.equal(e.pattern_data.code_omitted, "store_code_off");
  }
});

Deno.test("patterns above max_pattern_bytes keep no code", async () => {
  const config = tempConfig({ maxPatternBytes: 10 });
  const tracker = new PatternTracker(config);
  await tracker.trackCreation("x = 'a long line of code'\n", { filePath: "/p/big.py" });
  await tracker.trackCreation("y = 1\n", { filePath: "/p/small.py" });
  tracker.close();
  const store = openStore(config.dataDir);
  const big = store.pattern(store.fileHistory("/p/big.py")[0]!.patternId);
  const small = store.pattern(store.fileHistory("/p/small.py")[0]!.patternId);
  store.close();
  assert.equal(big?.code, null);
  assert.equal(big?.codeOmitted, "too_large");
  assert.equal(small?.code, "y = 1\n");
});

Deno.test("excluded paths are not recorded at all by the hooks", async () => {
  const config = tempConfig();
  Deno.env.set("PATTERN_TRACKER_DATA_DIR", config.dataDir);
  Deno.env.set("PATTERN_TRACKER_CONFIG", `${config.dataDir}/none.yaml`);
  Deno.env.set("PATTERN_TRACKER_AUTO_FLUSH", "false");
  try {
    const payload = (path: string) =>
      new TextEncoder().encode(JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "Write",
        tool_use_id: `toolu_${path.length}`,
        session_id: "s",
        tool_input: { file_path: path, content: "SECRET=1\n" },
        tool_response: {
          type: "create",
          filePath: path,
          content: "SECRET=1\n",
          structuredPatch: [],
          originalFile: null,
        },
      }));
    assert.equal((await runHook("post", payload("/repo/.env"))).outcome, "excluded");
    assert.equal((await runHook("post", payload("/repo/app/config.py"))).outcome, "recorded");
    const store = openStore(config.dataDir);
    const c = store.counts();
    store.close();
    assert.equal(c.versions, 1);
    assert.equal(c.executions, 1);
  } finally {
    for (
      const k of [
        "PATTERN_TRACKER_DATA_DIR",
        "PATTERN_TRACKER_CONFIG",
        "PATTERN_TRACKER_AUTO_FLUSH",
      ]
    ) Deno.env.delete(k);
  }
});

Deno.test("hooks: a project in a folder named like a rule is tracked, its .env is not; non-paths are logged", async () => {
  const config = tempConfig();
  const env = {
    PATTERN_TRACKER_DATA_DIR: config.dataDir,
    PATTERN_TRACKER_CONFIG: `${config.dataDir}/none.yaml`,
    PATTERN_TRACKER_AUTO_FLUSH: "false",
  };
  for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
  const projectDir = Deno.env.get("CLAUDE_PROJECT_DIR");
  Deno.env.delete("CLAUDE_PROJECT_DIR");
  try {
    let n = 0;
    const payload = (path: string) =>
      new TextEncoder().encode(JSON.stringify({
        hook_event_name: "PostToolUse",
        tool_name: "Write",
        tool_use_id: `toolu_rule_${n++}`,
        session_id: "s",
        cwd: "/home/dev/code/secrets",
        tool_input: { file_path: path, content: "SECRET=1\n" },
        tool_response: {
          type: "create",
          filePath: path,
          content: "SECRET=1\n",
          originalFile: null,
        },
      }));
    const post = (path: string) => runHook("post", payload(path));
    assert.equal((await post("/home/dev/code/secrets/app.py")).outcome, "recorded");
    assert.equal((await post("/home/dev/code/secrets/.ENV")).outcome, "excluded");
    assert.equal((await post("/home/dev/code/secrets/notes#1/.env")).outcome, "excluded");
    assert.equal((await post("/home/dev/code/secrets/deploy/secrets/k.yaml")).outcome, "excluded");
    const refused = await post("relative/app.py");
    assert.equal(refused.outcome, "invalid");
    assert.match(refused.detail ?? "", /relative/);
    const store = openStore(config.dataDir);
    const paths = store.fileHistory("/home/dev/code/secrets/app.py").length;
    const counts = store.counts();
    store.close();
    assert.equal(paths, 1);
    assert.equal(counts.versions, 1);
    const log = Deno.readTextFileSync(`${config.dataDir}/pattern-tracker.log.jsonl`);
    const line = log.split("\n").filter(Boolean).map((l) => JSON.parse(l))
      .find((r) => r.event === "path_refused");
    assert.equal(line?.tool_use_id, "toolu_rule_4");
    assert.match(line?.reason ?? "", /relative/);
  } finally {
    for (const k of Object.keys(env)) Deno.env.delete(k);
    if (projectDir !== undefined) Deno.env.set("CLAUDE_PROJECT_DIR", projectDir);
  }
});

Deno.test("data directory 0700, database and log 0600", async () => {
  const config = tempConfig();
  Deno.removeSync(config.dataDir, { recursive: true });
  const tracker = new PatternTracker(config);
  await tracker.trackCreation("a = 1\n", { filePath: "/p/a.py" });
  tracker.close();
  const { appendLog } = await import("../src/log.ts");
  appendLog(config.logFile, { level: "info", event: "test" });
  assert.equal(Deno.statSync(config.dataDir).mode! & 0o777, 0o700);
  assert.equal(Deno.statSync(`${config.dataDir}/patterns.db`).mode! & 0o777, 0o600);
  assert.equal(Deno.statSync(config.logFile).mode! & 0o777, 0o600);
});
