/**
 * Secret fixtures for the redaction tests: the token formats that gitleaks (config/gitleaks.toml)
 * and secretlint (secretlint-rule-* presets) document, written here as a reference expression and
 * a generator of realistic samples; and the syntaxes people embed secrets in. Every secret here is
 * made up.
 *
 * @module
 */

import type { SecretKind } from "../src/record/secrets.ts";

/** A deterministic random source (so a failure names a sample that can be reproduced). */
export function randomSource(seed: number): { int: (n: number) => number } {
  let state = seed >>> 0;
  return {
    int: (n) => {
      // xorshift32
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state % n;
    },
  };
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = "0123456789abcdef";
const B64 = ALNUM + "+/";
const B64URL = ALNUM + "-_";

type Part = string | [chars: string, min: number, max?: number];

function build(parts: Part[], int: (n: number) => number): string {
  return parts.map((part) => {
    if (typeof part === "string") return part;
    const [chars, min, max = min] = part;
    const length = min + int(max - min + 1);
    return Array.from({ length }, () => chars[int(chars.length)]).join("");
  }).join("");
}

/** One documented token format: its reference expression and a generator of samples. */
export interface ReferenceFormat {
  /** The rule it comes from (gitleaks id or secretlint rule). */
  source: string;
  kind: SecretKind;
  reference: RegExp;
  generate: (int: (n: number) => number) => string;
}

function base64url(text: string): string {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function pemBody(int: (n: number) => number, lines: number, width = 64): string {
  return Array.from({ length: lines }, () => build([[B64, width]], int)).join("\n");
}

/** Every reference format, with samples that the reference expression matches. */
export const REFERENCE_FORMATS: readonly ReferenceFormat[] = [
  {
    source: "gitleaks aws-access-token",
    kind: "aws_access_key",
    reference: /\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/,
    generate: (int) =>
      build(
        ["AKIA ASIA ABIA ACCA".split(" ")[int(4)]!, ["ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16]],
        int,
      ),
  },
  {
    source: "gitleaks gcp-api-key",
    kind: "google_api_key",
    reference: /AIza[\w-]{35}/,
    generate: (int) => build(["AIza", [ALNUM + "_-", 35]], int),
  },
  {
    source: "GitHub secret scanning: google_oauth_client_secret",
    kind: "google_oauth_secret",
    reference: /GOCSPX-[A-Za-z0-9_-]{28}/,
    generate: (int) => build(["GOCSPX-", [B64URL, 28]], int),
  },
  {
    source: "gitleaks azure-ad-client-secret",
    kind: "azure_client_secret",
    reference: /[a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34}/,
    generate: (int) => build([[ALNUM, 3], [DIGITS, 1], "Q~", [ALNUM + "_~.-", 31, 34]], int),
  },
  {
    source: "gitleaks github-pat / secretlint-rule-github",
    kind: "github_token",
    reference: /gh[pousr]_[0-9a-zA-Z]{36}/,
    generate: (int) => build(["gh", ["pousr", 1], "_", [ALNUM, 36]], int),
  },
  {
    source: "gitleaks github-fine-grained-pat",
    kind: "github_token",
    reference: /github_pat_\w{82}/,
    generate: (int) => build(["github_pat_", [ALNUM, 22], "_", [ALNUM + "_", 59]], int),
  },
  {
    source: "gitleaks gitlab-pat / secretlint-rule-gitlab",
    kind: "gitlab_token",
    reference: /glpat-[\w-]{20}/,
    generate: (int) => build(["glpat-", [ALNUM + "_-", 20, 40]], int),
  },
  {
    source: "gitleaks gitlab-deploy-token, gitlab-runner-authentication-token",
    kind: "gitlab_token",
    reference: /gl(?:dt|rt)-[0-9a-zA-Z_-]{20}/,
    generate: (int) => build(["gl", "dt rt".split(" ")[int(2)]!, "-", [ALNUM + "_-", 20]], int),
  },
  {
    source: "gitleaks npm-access-token / secretlint-rule-npm",
    kind: "npm_token",
    reference: /npm_[A-Za-z0-9]{36}/,
    generate: (int) => build(["npm_", [ALNUM, 36]], int),
  },
  {
    source: "gitleaks pypi-upload-token",
    kind: "pypi_token",
    reference: /pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}/,
    generate: (int) => build(["pypi-AgEIcHlwaS5vcmc", [B64URL, 60, 180]], int),
  },
  {
    source: "gitleaks slack-bot-token",
    kind: "slack_token",
    reference: /xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*/,
    generate: (int) =>
      build(["xoxb-", [DIGITS, 10, 13], "-", [DIGITS, 10, 13], "-", [ALNUM, 24]], int),
  },
  {
    source: "gitleaks slack-user-token",
    kind: "slack_token",
    reference: /xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34}/,
    generate: (int) =>
      build(["xoxp-", [DIGITS, 10, 13], "-", [DIGITS, 10, 13], "-", [DIGITS, 10, 13], "-", [
        HEX,
        32,
      ]], int),
  },
  {
    source: "gitleaks slack-app-token",
    kind: "slack_token",
    reference: /xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+/i,
    generate: (int) =>
      build(["xapp-1-A", [UPPER + DIGITS, 10], "-", [DIGITS, 13], "-", [HEX, 64]], int),
  },
  {
    source: "secretlint-rule-slack (incoming webhook)",
    kind: "slack_webhook",
    reference:
      /https:\/\/hooks\.slack\.com\/services\/T[a-zA-Z0-9]{1,40}\/B[a-zA-Z0-9]{1,40}\/[a-zA-Z0-9]{1,40}/,
    generate: (int) =>
      build([
        "https://hooks.slack.com/services/T",
        [UPPER + DIGITS, 8, 10],
        "/B",
        [UPPER + DIGITS, 8, 10],
        "/",
        [ALNUM, 24],
      ], int),
  },
  {
    source: "Discord bot token (base64 user ID . timestamp . HMAC)",
    kind: "discord_token",
    reference: /[MNO][a-zA-Z\d_-]{23,25}\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27,38}/,
    generate: (int) =>
      base64url(build([["123456789", 1], [DIGITS, 17]], int)) +
      build([".", [B64URL, 6], ".", [B64URL, 27, 38]], int),
  },
  {
    source: "Discord webhook URL",
    kind: "discord_webhook",
    reference: /https:\/\/(?:ptb\.|canary\.)?discord(?:app)?\.com\/api\/webhooks\/\d+\/[\w-]+/,
    generate: (int) =>
      build([
        "https://",
        "discord.com discordapp.com ptb.discord.com".split(" ")[int(3)]!,
        "/api/webhooks/",
        [DIGITS, 18],
        "/",
        [B64URL, 68],
      ], int),
  },
  {
    source: "gitleaks telegram-bot-api-token",
    kind: "telegram_token",
    reference: /[0-9]{5,16}:A[a-zA-Z0-9_-]{34}/,
    generate: (int) => build([["123456789", 1], [DIGITS, 7, 9], ":A", [B64URL, 34]], int),
  },
  {
    source: "gitleaks sendgrid-api-token / secretlint-rule-sendgrid",
    kind: "sendgrid_key",
    reference: /SG\.[\w-]{22}\.[\w-]{43}/,
    generate: (int) => build(["SG.", [B64URL, 22], ".", [B64URL, 43]], int),
  },
  {
    source: "gitleaks twilio-api-key",
    kind: "twilio_key",
    reference: /SK[0-9a-fA-F]{32}/,
    generate: (int) => build(["SK", [HEX, 32]], int),
  },
  {
    source: "gitleaks mailgun-private-api-token",
    kind: "mailgun_key",
    reference: /key-[a-f0-9]{32}/,
    generate: (int) => build(["key-", [HEX, 32]], int),
  },
  {
    source: "gitleaks stripe-access-token",
    kind: "stripe_key",
    reference: /(?:sk|rk)_(?:test|live|prod)_[a-zA-Z0-9]{10,99}/,
    generate: (int) =>
      build([["sr", 1], "k_", "live test".split(" ")[int(2)]!, "_", [ALNUM, 24, 99]], int),
  },
  {
    source: "gitleaks openai-api-key / secretlint-rule-openai",
    kind: "openai_key",
    reference:
      /sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{58,74}T3BlbkFJ[A-Za-z0-9_-]{58,74}|sk-[a-zA-Z0-9]{20}T3BlbkFJ[a-zA-Z0-9]{20}/,
    generate: (int) =>
      int(2) === 0
        ? build(["sk-", "proj svcacct admin".split(" ")[int(3)]!, "-", [B64URL, 74], "T3BlbkFJ", [
          B64URL,
          74,
        ]], int)
        : build(["sk-", [ALNUM, 20], "T3BlbkFJ", [ALNUM, 20]], int),
  },
  {
    source: "gitleaks anthropic-api-key / secretlint-rule-anthropic",
    kind: "anthropic_key",
    reference: /sk-ant-(?:api03|admin01)-[a-zA-Z0-9_-]{93}AA/,
    generate: (int) =>
      build(["sk-ant-", "api03 admin01".split(" ")[int(2)]!, "-", [B64URL, 93], "AA"], int),
  },
  {
    source: "gitleaks huggingface-access-token / secretlint-rule-huggingface",
    kind: "huggingface_token",
    reference: /(?:hf|api_org)_[a-zA-Z]{34}/,
    generate: (int) => build(["hf api_org".split(" ")[int(2)]!, "_", [UPPER + LOWER, 34]], int),
  },
  {
    source: "gitleaks heroku-api-key-v2",
    kind: "heroku_key",
    reference: /HRKU-AA[0-9a-zA-Z_-]{58}/,
    generate: (int) => build(["HRKU-AA", [B64URL, 58]], int),
  },
  {
    source: "gitleaks digitalocean-pat, -access-token, -refresh-token",
    kind: "digitalocean_token",
    reference: /do[opr]_v1_[a-f0-9]{64}/,
    generate: (int) => build(["do", ["opr", 1], "_v1_", [HEX, 64]], int),
  },
  {
    source: "secretlint-rule-vercel",
    kind: "vercel_token",
    reference: /vc[pikar]_[A-Za-z0-9]{20,60}/,
    generate: (int) => build(["vc", ["pikar", 1], "_", [ALNUM, 24, 60]], int),
  },
  {
    source: "gitleaks vault-service-token, vault-batch-token / secretlint-rule-hashicorp-vault",
    kind: "vault_token",
    reference: /hvs\.[\w-]{90,120}|hvb\.[\w-]{138,300}/,
    generate: (int) =>
      int(2) === 0
        ? build(["hvs.", [B64URL, 90, 120]], int)
        : build(["hvb.", [B64URL, 138, 200]], int),
  },
  {
    source: "gitleaks jwt",
    kind: "jwt",
    reference: /ey[a-zA-Z0-9]{17,}\.ey[a-zA-Z0-9\/\\_-]{17,}\.(?:[a-zA-Z0-9\/\\_-]{10,}={0,2})?/,
    generate: (int) =>
      [
        base64url(JSON.stringify({ alg: "HS256", typ: "JWT" })),
        base64url(
          JSON.stringify({
            sub: build([[DIGITS, 10]], int),
            name: build([[LOWER, 8]], int),
            iat: 1516239022,
          }),
        ),
        build([[B64URL, 43]], int),
      ].join("."),
  },
  {
    source: "gitleaks private-key / secretlint-rule-privatekey",
    kind: "private_key",
    reference:
      /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----[\s\S-]{64,}?KEY(?: BLOCK)?-----/,
    generate: (int) => {
      const label = ["RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", ""][int(6)]!;
      return `-----BEGIN ${label}PRIVATE KEY-----\n${pemBody(int, 4 + int(20))}\n${
        build([[B64, 12]], int)
      }==\n-----END ${label}PRIVATE KEY-----`;
    },
  },
  {
    source: "gitleaks private-key (PGP block)",
    kind: "private_key",
    reference: /-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S-]{64,}?KEY BLOCK-----/,
    generate: (int) =>
      `-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\nComment: made up\n\n${
        pemBody(int, 6)
      }\n=${build([[B64, 4]], int)}\n-----END PGP PRIVATE KEY BLOCK-----`,
  },
  {
    source: "secretlint-rule-database-connection-string (postgres, mysql, mongodb)",
    kind: "connection_string",
    reference:
      /(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|redis):\/\/[^:\/\s]{1,100}:(?!\[REDACTED)[^\s]{1,200}@[\w.-]+/,
    generate: (int) => {
      const scheme = [
        "postgres",
        "postgresql",
        "mysql",
        "mongodb",
        "mongodb+srv",
        "redis",
      ][int(6)]!;
      const password = build([[ALNUM + "!@#%^*~-_", 8, 24]], int);
      return `${scheme}://${build([[LOWER, 3, 10]], int)}:${password}@db${
        int(9)
      }.internal:5432/app`;
    },
  },
  {
    source: "age secret key (AGE-SECRET-KEY-1, gitleaks age-secret-key)",
    kind: "age_key",
    reference: /AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}/,
    generate: (int) => build(["AGE-SECRET-KEY-1", ["QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58]], int),
  },
];

/** One way people write a value: a template with `NAME` and `VALUE`, and how it quotes. */
export interface Syntax {
  name: string;
  template: string;
  /** The quote around the value (none: unquoted, up to the end of the line or a space). */
  quote: '"' | "'" | "`" | "none";
}

/** The syntaxes of the tests: each holds `NAME` and `VALUE`. */
export const SYNTAXES: readonly Syntax[] = [
  { name: "python", template: 'NAME = "VALUE"\nprint(NAME)\n', quote: '"' },
  { name: "python typed", template: 'class Settings:\n    NAME: str = "VALUE"\n', quote: '"' },
  { name: "javascript", template: "const NAME = 'VALUE';\nexport default NAME;\n", quote: "'" },
  {
    name: "typescript object",
    template: "export const config = {\n  NAME: `VALUE`,\n};\n",
    quote: "`",
  },
  { name: "json", template: '{\n  "NAME": "VALUE",\n  "region": "eu-west-1"\n}\n', quote: '"' },
  { name: "yaml", template: "service:\n  NAME: VALUE\n  region: eu-west-1\n", quote: "none" },
  { name: "yaml quoted", template: 'service:\n  NAME: "VALUE"\n', quote: '"' },
  { name: "yaml list", template: "env:\n  - NAME: VALUE\n", quote: "none" },
  { name: "toml", template: '[service]\nNAME = "VALUE"\n', quote: '"' },
  { name: "properties", template: "app.url=https://example.com\nNAME=VALUE\n", quote: "none" },
  { name: ".env", template: "DEBUG=1\nNAME=VALUE\n", quote: "none" },
  { name: ".env quoted", template: "NAME='VALUE'\n", quote: "'" },
  { name: "shell export", template: "#!/bin/sh\nexport NAME=VALUE\n./run.sh\n", quote: "none" },
  { name: ".envrc", template: 'export NAME="VALUE"\nlayout python\n', quote: '"' },
  { name: "terraform", template: 'resource "x" "y" {\n  NAME = "VALUE"\n}\n', quote: '"' },
  { name: "go", template: 'func main() {\n\tNAME := "VALUE"\n\tuse(NAME)\n}\n', quote: '"' },
  { name: "dockerfile", template: "FROM alpine\nENV NAME=VALUE\n", quote: "none" },
  { name: "xml", template: "<config>\n  <NAME>VALUE</NAME>\n</config>\n", quote: "none" },
  { name: "php", template: "<?php\ndefine('NAME', 'VALUE');\n", quote: "'" },
];

/** Names that say nothing of a secret: token formats must be found by their shape alone. */
export const NEUTRAL_NAME = "value";
