import assert from "node:assert/strict";
import { redactSecrets, SECRET_KINDS } from "../src/record/secrets.ts";
import { nameStrength } from "../src/record/secret_assignments.ts";
import { NEUTRAL_NAME, randomSource, REFERENCE_FORMATS, SYNTAXES } from "./secret_fixtures.ts";

function fill(template: string, name: string, value: string): string {
  return template.replaceAll("NAME", name).replace("VALUE", value);
}

// Every token format in every syntax, under a name that says nothing: found by its shape alone.
const byKind = Map.groupBy(REFERENCE_FORMATS, (f) => f.kind);
for (const [kind, formats] of byKind) {
  Deno.test(`${kind}: a realistic sample in every syntax is redacted by its shape`, () => {
    const { int } = randomSource(kind.length * 7919);
    for (const format of formats) {
      const secret = format.generate(int);
      assert.match(secret, format.reference, `${format.source}: the sample fits its reference`);
      for (const syntax of SYNTAXES) {
        if (syntax.quote !== "none" && secret.includes(syntax.quote)) continue;
        const code = fill(syntax.template, NEUTRAL_NAME, secret);
        const { text, counts } = redactSecrets(code);
        const where = `${format.source} in ${syntax.name}:\n${code}\n→\n${text}`;
        assert.ok(!format.reference.test(text), `still matches the reference: ${where}`);
        assert.ok(kind in counts, `expected kind ${kind}, got ${JSON.stringify(counts)}: ${where}`);
        assert.ok(text.includes(`[REDACTED:${kind}]`), where);
      }
    }
  });
}

const SECRET_NAMES = [
  "POSTGRES_PASSWORD",
  "db_password",
  "DB_PASS",
  "smtpPass",
  "client_secret",
  "GITHUB_TOKEN",
  "auth_token",
  "api_key",
  "apiKey",
  "AWS_SECRET_ACCESS_KEY",
  "ENCRYPTION_KEY",
  "SIGNING_KEY",
  "SIGNING_SALT",
  "credential",
  "DB_CREDENTIALS",
  "passphrase",
];

const PASSWORDS = ["x", "hunter2", "Tr0ub4dor&3", "it's-a-s3cret", "correct horse battery staple"];

/** Syntaxes where a value may hold spaces without quotes (up to the end of the line). */
const SPACES_UNQUOTED = new Set(["yaml", "yaml list", "properties", ".env", "xml"]);

Deno.test("assignments to secret-sounding names: only the value is replaced, in every syntax", () => {
  let checked = 0;
  for (const syntax of SYNTAXES) {
    for (const name of SECRET_NAMES) {
      for (const value of PASSWORDS) {
        if (syntax.quote !== "none" && value.includes(syntax.quote)) continue;
        if (syntax.quote === "none" && value.includes(" ") && !SPACES_UNQUOTED.has(syntax.name)) {
          continue;
        }
        const code = fill(syntax.template, name, value);
        const expected = fill(syntax.template, name, "[REDACTED:assigned_secret]");
        assert.equal(redactSecrets(code).text, expected, `${syntax.name}: ${code}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 1000, `${checked} samples`);
});

Deno.test("the leaks of issue 11: unquoted YAML, an apostrophe, @ in a URL password, new names", () => {
  const cases: [string, string][] = [
    ["POSTGRES_PASSWORD: x\n", "POSTGRES_PASSWORD: [REDACTED:assigned_secret]\n"],
    ["api_key: x\n", "api_key: [REDACTED:assigned_secret]\n"],
    [`password = "it's mine"\n`, `password = "[REDACTED:assigned_secret]"\n`],
    ["password: 'it''s mine'\n", "password: '[REDACTED:assigned_secret]'\n"],
    [
      'DATABASE_URL = "postgres://app:p@ss@w0rd@db.internal:5432/app"',
      'DATABASE_URL = "postgres://app:[REDACTED:connection_string]@db.internal:5432/app"',
    ],
    ["DB_PASS=hunter2\n", "DB_PASS=[REDACTED:assigned_secret]\n"],
    ["ENCRYPTION_KEY=0123abcd\n", "ENCRYPTION_KEY=[REDACTED:assigned_secret]\n"],
    ["db.credential=s3cr3t\n", "db.credential=[REDACTED:assigned_secret]\n"],
    ['export SIGNING_KEY="k3y"\n', 'export SIGNING_KEY="[REDACTED:assigned_secret]"\n'],
  ];
  for (const [code, expected] of cases) assert.equal(redactSecrets(code).text, expected, code);
});

Deno.test("cloud keys: AWS credentials files and CSVs, GCP service accounts, Azure connection strings", () => {
  const aws = [
    "[default]",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "",
  ].join("\n");
  assert.equal(
    redactSecrets(aws).text,
    "[default]\naws_access_key_id = [REDACTED:aws_access_key]\naws_secret_access_key = [REDACTED:aws_secret_key]\n",
  );
  // The console's download: a bare secret beside its key ID, no name at all.
  const csv =
    "User name,Access key ID,Secret access key\nci,AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n";
  const csvOut = redactSecrets(csv);
  assert.equal(
    csvOut.text,
    "User name,Access key ID,Secret access key\nci,[REDACTED:aws_access_key],[REDACTED:aws_secret_key]\n",
  );
  const gcp = JSON.stringify(
    {
      type: "service_account",
      project_id: "demo",
      private_key_id: "0123456789abcdef0123456789abcdef01234567",
      private_key: `-----BEGIN PRIVATE KEY-----\n${
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7".repeat(3)
      }\n-----END PRIVATE KEY-----\n`,
      client_email: "ci@demo.iam.gserviceaccount.com",
    },
    null,
    2,
  );
  const gcpOut = redactSecrets(gcp).text;
  assert.ok(!gcpOut.includes("MIIEvQ"), gcpOut);
  assert.match(gcpOut, /"private_key": "\[REDACTED:private_key\]\\n"/);
  assert.ok(gcpOut.includes('"client_email": "ci@demo.iam.gserviceaccount.com"'));
  const azure = [
    'storage = "DefaultEndpointsProtocol=https;AccountName=demo;AccountKey=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmF6cXV4Zm9vYmFyYg==;EndpointSuffix=core.windows.net"',
    'sql = "Server=tcp:demo.database.windows.net,1433;Database=app;User ID=admin;Password=p@ss;Encrypt=true"',
    'bus = "Endpoint=sb://demo.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0PQ="',
    'sas = "https://demo.blob.core.windows.net/c/b?sv=2022-11-02&ss=b&sig=Zm9vYmFy%2BYmF6cXV4Zm9vYmFy%3D"',
  ].join("\n");
  const azureOut = redactSecrets(azure).text;
  for (const secret of ["Zm9vYmFyYmF6", "p@ss", "c2VjcmV0", "Zm9vYmFy%2B"]) {
    assert.ok(!azureOut.includes(secret), `${secret} in ${azureOut}`);
  }
  assert.ok(
    azureOut.includes("AccountName=demo;AccountKey=[REDACTED:assigned_secret];EndpointSuffix"),
  );
  assert.ok(azureOut.includes("&sig=[REDACTED:azure_sas]"), azureOut);
});

Deno.test("chat and mail: Twilio SIDs with their auth tokens, Mailgun, Slack and Discord webhooks", () => {
  const twilio =
    'client = Client("AC0123456789abcdef0123456789abcdef", "9f8e7d6c5b4a39281706f5e4d3c2b1a0")';
  assert.equal(
    redactSecrets(twilio).text,
    'client = Client("[REDACTED:twilio_key]", "[REDACTED:twilio_auth_token]")',
  );
  const env =
    "TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef\nTWILIO_AUTH_TOKEN=0a1b2c3d4e5f60718293a4b5c6d7e8f9\n";
  assert.ok(!redactSecrets(env).text.includes("0a1b2c3d4e5f"));
  const mailgun = "MAILGUN_SIGNING_KEY=0123456789abcdef0123456789abcdef-0a1b2c3d-4e5f6a7b\n";
  assert.equal(redactSecrets(mailgun).text, "MAILGUN_SIGNING_KEY=[REDACTED:assigned_secret]\n");
});

Deno.test("private keys with and without their END line, and PuTTY keys", () => {
  const body =
    "MIIEowIBAAKCAQEA7vbqajDw4o6gJy8UtmIbkcpnkO3Kwc4qsEnSZp/TR+fQi/IP\nd2jr3w9vFq9CrrP5hCJDXGlDg9jXmqTtVpFMLpGqvM9ydNzkh7Q0j4xYGD2s";
  const withoutEnd = `KEY = """-----BEGIN RSA PRIVATE KEY-----\n${body}\n"""\nprint(KEY)\n`;
  assert.equal(
    redactSecrets(withoutEnd).text,
    'KEY = """[REDACTED:private_key]\n"""\nprint(KEY)\n',
  );
  const encrypted =
    `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n${body}\n`;
  assert.equal(redactSecrets(encrypted).text, "[REDACTED:private_key]\n");
  const putty =
    `PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIM\nPrivate-Lines: 1\nAAAAIGq0nH2fS3vQ\nPrivate-MAC: 6a1f0c8b9e2d\n`;
  const puttyOut = redactSecrets(putty).text;
  assert.ok(
    !puttyOut.includes("AAAAIGq0nH2fS3vQ") && puttyOut.includes("Public-Lines: 2"),
    puttyOut,
  );
  // A header alone is code that looks for keys, not a key.
  const parser = 'if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):\n    kind = "rsa"\n';
  assert.equal(redactSecrets(parser).text, parser);
});

Deno.test("passwords in URLs: @, # and ? inside the password; placeholders and plain URLs stay", () => {
  const cases: [string, string][] = [
    ["redis://:p@ss#1?@cache:6379/0", "redis://:[REDACTED:connection_string]@cache:6379/0"],
    [
      "https://ci:ghs_token@github.com/o/r.git",
      "https://ci:[REDACTED:connection_string]@github.com/o/r.git",
    ],
    ["amqp://user:pa:ss@mq/", "amqp://user:[REDACTED:connection_string]@mq/"],
  ];
  for (const [code, expected] of cases) assert.equal(redactSecrets(code).text, expected);
  for (
    const code of [
      "postgres://app:${DB_PASSWORD}@db/app",
      "postgres://user:password@localhost/db",
      "https://example.com:8443/a@b",
      "http://example.com/path?email=a@b.com",
      "ssh://git@github.com/o/r.git",
    ]
  ) assert.equal(redactSecrets(code).text, code);
});

Deno.test("Authorization headers: Bearer and Basic credentials, not the prose around them", () => {
  assert.equal(
    redactSecrets("curl -H 'Authorization: Bearer abcdefghijklmnop1234567890' https://x").text,
    "curl -H 'Authorization: Bearer [REDACTED:bearer_token]' https://x",
  );
  assert.equal(
    redactSecrets('headers = {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}').text,
    'headers = {"Authorization": "Basic [REDACTED:bearer_token]"}',
  );
  for (
    const prose of ["# Basic authentication is disabled", "Bearer tokens expire", "Bearer ${token}"]
  ) {
    assert.equal(redactSecrets(prose).text, prose);
  }
});

Deno.test("references and placeholders are kept: they hold no secret", () => {
  const kept = [
    'password = os.environ["DB_PASSWORD"]',
    'password = os.getenv("DB_PASSWORD", "")',
    "const token = process.env.GITHUB_TOKEN;",
    "password=${DB_PASSWORD}",
    "PASSWORD=$DB_PASSWORD",
    "export TOKEN=$(cat /run/secrets/token)",
    "api_key: <your-key-here>",
    'api_key: "<API_KEY>"',
    "token: ${{ secrets.GITHUB_TOKEN }}",
    'password: "{{ vault_db_password }}"',
    "password: !secret db_password",
    "password: *default_password",
    "password = getpass.getpass()",
    "self.password = password",
    "token = request.headers.get('Authorization')",
    "  password: process.env.DB_PASSWORD,",
    'password: "XXXXXXXX"',
    'api_key = "your-api-key"',
    "master_password = var.db_password",
    "SECRET_KEY = get_random_secret_key()",
    'password = f"{user}:{pw}"',
    "password: str",
    "def connect(user: str, password: Optional[str] = None) -> None:",
    "  password?: string;",
    "function login(user, password) { return check(user, password); }",
    "const { password, ...rest } = form;",
    "if (password === confirmPassword) submit();",
    "max_tokens: 100000",
    "token_type: bearer",
    "PASSWORD_MIN_LENGTH = 12",
    'TOKEN_URL = "https://oauth2.googleapis.com/token"',
    'secretName: "db-credentials"',
    'label = "Password:"',
    'PASSWORD_HELP = "Use at least 12 characters"',
    'errors.password = "Invalid password"',
    'credentials: "include",',
    'const STORAGE_KEY = "pattern-tracker.settings";',
    'cache_key = f"user:{user_id}"',
    "public_key = load_key(path)",
    "primaryKey: true,",
  ];
  for (const code of kept) assert.deepEqual(redactSecrets(code), { text: code, counts: {} }, code);
});

Deno.test("redaction is idempotent: a second pass finds nothing and changes nothing", () => {
  const { int } = randomSource(42);
  const samples = REFERENCE_FORMATS.flatMap((f) =>
    SYNTAXES.map((s) => fill(s.template, "API_TOKEN", f.generate(int)))
  );
  samples.push(
    "POSTGRES_PASSWORD: |\n  one\n  two\n",
    "<password>x</password>",
    "a=1\npassword: x\n",
  );
  for (const code of samples) {
    const once = redactSecrets(code);
    const twice = redactSecrets(once.text);
    assert.equal(twice.text, once.text, code);
    assert.deepEqual(twice.counts, {}, once.text);
  }
});

Deno.test("YAML block scalars, heredocs, Terraform defaults, XML, flags, Dockerfiles", () => {
  const cases: [string, string][] = [
    [
      "db:\n  password: |\n    line-one\n    line-two\n  host: db\n",
      "db:\n  password: |\n    [REDACTED:assigned_secret]\n  host: db\n",
    ],
    [
      'variable "db_password" {\n  type      = string\n  sensitive = true\n  default   = "hunter2"\n}\n',
      'variable "db_password" {\n  type      = string\n  sensitive = true\n  default   = "[REDACTED:assigned_secret]"\n}\n',
    ],
    [
      'resource "x" "y" {\n  password = <<EOT\ns3cr3t\nEOT\n}\n',
      'resource "x" "y" {\n  password = <<EOT\n[REDACTED:assigned_secret]\nEOT\n}\n',
    ],
    ["mysql --password=hunter2 -u root", "mysql --password=[REDACTED:assigned_secret] -u root"],
    ["mysql --password hunter2 -u root", "mysql --password [REDACTED:assigned_secret] -u root"],
    ["ENV DB_PASSWORD hunter2\n", "ENV DB_PASSWORD [REDACTED:assigned_secret]\n"],
    [
      "docker run -e DB_PASSWORD=hunter2 img",
      "docker run -e DB_PASSWORD=[REDACTED:assigned_secret] img",
    ],
    [
      '<add key="x" /><password>hunter2</password>',
      '<add key="x" /><password>[REDACTED:assigned_secret]</password>',
    ],
    ['fetch("/api?token=abc123&page=2")', 'fetch("/api?token=[REDACTED:assigned_secret]&page=2")'],
    [
      'headers = {"X-Api-Key": "k3y-v4lue"}',
      'headers = {"X-Api-Key": "[REDACTED:assigned_secret]"}',
    ],
    [
      'os.environ["DB_PASSWORD"] = "hunter2"',
      'os.environ["DB_PASSWORD"] = "[REDACTED:assigned_secret]"',
    ],
    ["$db_password = 'hunter2';", "$db_password = '[REDACTED:assigned_secret]';"],
  ];
  for (const [code, expected] of cases) assert.equal(redactSecrets(code).text, expected, code);
});

Deno.test("names: strong, weak (random-looking values only) or not secret", () => {
  const expectations: [string, "strong" | "weak" | null][] = [
    ["POSTGRES_PASSWORD", "strong"],
    ["DB_PASS", "strong"],
    ["dbPwd", "strong"],
    ["pwd", null],
    ["bypass", null],
    ["client_secret", "strong"],
    ["ACCESSTOKEN", "strong"],
    ["SIGNING_SALT", "strong"],
    ["ENCRYPTION_IV", "strong"],
    ["x-api-key", "strong"],
    ["AWSSecretAccessKey", "strong"],
    ["cache_key", "weak"],
    ["auth", "weak"],
    ["public_key", null],
    ["password_length", null],
    ["token_url", null],
    ["max_tokens", null],
    ["tokenizer", null],
    ["secretary", null],
    ["spring.datasource.password", "strong"],
    ["password.length", null],
  ];
  for (const [name, strength] of expectations) assert.equal(nameStrength(name), strength, name);
  assert.equal(redactSecrets('CACHE_KEY = "users:list:v2"').text, 'CACHE_KEY = "users:list:v2"');
  assert.equal(
    redactSecrets('CACHE_KEY = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"').text,
    'CACHE_KEY = "[REDACTED:assigned_secret]"',
  );
});

Deno.test("redaction keeps the code readable: the secret only, in place, the rest byte for byte", () => {
  const code = [
    "import os",
    "",
    "DATABASE = {",
    '    "host": "db.internal",',
    '    "password": "hunter2",  # rotated monthly',
    '    "url": "postgres://app:s3cr3t@db.internal/app",',
    "}",
    'STRIPE = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"',
    "",
  ].join("\n");
  assert.equal(
    redactSecrets(code).text,
    [
      "import os",
      "",
      "DATABASE = {",
      '    "host": "db.internal",',
      '    "password": "[REDACTED:assigned_secret]",  # rotated monthly',
      '    "url": "postgres://app:[REDACTED:connection_string]@db.internal/app",',
      "}",
      'STRIPE = "[REDACTED:stripe_key]"',
      "",
    ].join("\n"),
  );
});

Deno.test("every kind is covered by a test sample and listed in the README", () => {
  const readme = Deno.readTextFileSync(new URL("../README.md", import.meta.url));
  const tested = new Set([
    ...REFERENCE_FORMATS.map((f) => f.kind),
    "aws_secret_key",
    "twilio_auth_token",
    "azure_sas",
    "bearer_token",
    "assigned_secret",
  ]);
  for (const kind of Object.keys(SECRET_KINDS)) {
    assert.ok(tested.has(kind as keyof typeof SECRET_KINDS), `no sample for ${kind}`);
    assert.ok(readme.includes(`\`${kind}\``), `README does not list ${kind}`);
  }
});

Deno.test("no catastrophic backtracking: adversarial long lines cost about what ordinary code costs", () => {
  const size = 400_000;
  const ordinary = Deno.readTextFileSync(new URL("../src/store/store.ts", import.meta.url));
  const baselineText = ordinary.repeat(Math.ceil(size / ordinary.length)).slice(0, size);
  const time = (text: string) => {
    const start = performance.now();
    redactSecrets(text);
    return performance.now() - start;
  };
  time(baselineText); // warm up
  const baseline = Math.max(time(baselineText), 2);
  const adversarial: Record<string, string> = {
    "one long word": "a".repeat(size),
    "password= repeated": "password=".repeat(size / 9),
    "BEGIN without END": "-----BEGIN RSA PRIVATE KEY-----\n".repeat(size / 32),
    "BEGIN and one base64 line": "-----BEGIN PRIVATE KEY-----" + "A".repeat(size),
    "://@ repeated": "http://a:b".repeat(size / 10) + "@",
    "unterminated quote": 'password = "' + "a".repeat(size),
    "backtick never closed": "token: `" + "a\n".repeat(size / 2),
    "long identifier with stems": "passwordtokensecretkey".repeat(size / 22) + " = 1",
    "sk- repeated": "sk-".repeat(size / 3),
    "digits and :A": "1234567:A".repeat(size / 9),
    "Q~ repeated": "abc1Q~".repeat(size / 6),
    "AKIA repeated": "AKIA".repeat(size / 4),
    "dots and base64": "MTIzNDU2Nzg5MDEyMzQ1Njc4.".repeat(size / 25),
    "Bearer repeated": "Bearer ".repeat(size / 7),
    "keys in one line": "key: ".repeat(size / 5),
    "yaml block of one line": "password: |\n" + " x".repeat(size / 2),
  };
  for (const [name, text] of Object.entries(adversarial)) {
    const ms = time(text);
    // Linear but dense in anchors costs tens of times more; super-linear costs seconds.
    assert.ok(
      ms < baseline * 100 + 300,
      `${name}: ${ms.toFixed(1)} ms against ${baseline.toFixed(1)} ms`,
    );
  }
});
