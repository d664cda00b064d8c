/**
 * Secrets recognised by their own shape: provider tokens with a fixed prefix, private key blocks,
 * webhook URLs, passwords in URLs, JWTs and Authorization headers. The formats follow those that
 * gitleaks and secretlint document; the rules are ours.
 *
 * One scan of the text for every literal anchor (a token's prefix, `://`, `-----BEGIN `) finds the
 * few places worth a closer look; each is then checked with a small expression anchored there. No
 * expression runs over the whole text except that scan and the Discord token's.
 *
 * @module
 */

import { MARK_PREFIX, type SecretKind } from "./secret_kinds.ts";

/** Receives one finding: the secret's span in the text, and its kind. */
export type AddSpan = (start: number, end: number, kind: SecretKind) => void;

/** A token format: where it may start relative to its anchor, and its exact shape there. */
interface TokenFormat {
  kind: SecretKind;
  anchors: readonly string[];
  /** A sticky expression for the whole token, tried where the token would start. */
  shape: RegExp;
  /** How many characters before the anchor the token may start (digits before `:AA`, …). */
  before?: (text: string, at: number) => number;
  /** A last check of the token (digits in it, …). */
  check?: (token: string) => boolean;
  /** After a hit: companion secrets nearby (the 40-character AWS secret near its key ID, …). */
  companions?: { re: RegExp; kind: SecretKind; check: (token: string) => boolean };
}

const ALNUM = /[A-Za-z0-9]/;
const hasDigit = (s: string) => /\d/.test(s);

/** 40 base64 characters, mixed case: an AWS secret access key. */
const AWS_SECRET = {
  re: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
  kind: "aws_secret_key",
  check: (s: string) => /[a-z]/.test(s) && /[A-Z]/.test(s) && /[\d/+]/.test(s),
} as const;

/** 32 letters and digits: a Twilio auth token or API key secret. */
const TWILIO_SECRET = {
  re: /(?<![A-Za-z0-9])[A-Za-z0-9]{32}(?![A-Za-z0-9])/g,
  kind: "twilio_auth_token",
  check: (s: string) => hasDigit(s) && /[a-zA-Z]/.test(s),
} as const;

const FORMATS: readonly TokenFormat[] = [
  {
    kind: "age_key",
    anchors: ["AGE-SECRET-KEY-1"],
    shape: /AGE-SECRET-KEY-1[0-9A-Z]{50,70}/y,
  },
  {
    kind: "aws_access_key",
    anchors: ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
    shape: /(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])/y,
    companions: AWS_SECRET,
  },
  { kind: "google_api_key", anchors: ["AIza"], shape: /AIza[0-9A-Za-z_-]{35}/y },
  { kind: "google_oauth_secret", anchors: ["GOCSPX-"], shape: /GOCSPX-[A-Za-z0-9_-]{24,40}/y },
  {
    kind: "azure_client_secret",
    anchors: ["Q~"],
    before: () => 4,
    shape: /[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])/y,
  },
  {
    kind: "github_token",
    anchors: ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
    shape: /gh[pousr]_[A-Za-z0-9]{30,255}/y,
  },
  { kind: "github_token", anchors: ["github_pat_"], shape: /github_pat_[A-Za-z0-9_]{22,255}/y },
  {
    kind: "gitlab_token",
    anchors: ["glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glcbt-", "glsoat-", "gloas-"],
    shape: /gl(?:pat|dt|rt|ptt|ft|cbt|soat|oas)-[A-Za-z0-9_.-]{20,300}/y,
  },
  { kind: "npm_token", anchors: ["npm_"], shape: /npm_[A-Za-z0-9]{36,40}(?![A-Za-z0-9])/y },
  { kind: "pypi_token", anchors: ["pypi-Ag"], shape: /pypi-Ag[A-Za-z0-9_-]{50,1000}/y },
  {
    kind: "slack_token",
    anchors: ["xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxr-", "xoxs-", "xoxe-", "xoxe.", "xapp-"],
    shape: /(?:xox[abposre]|xoxe\.xox[bp]|xapp)-[A-Za-z0-9-]{10,300}/y,
  },
  {
    kind: "telegram_token",
    anchors: [":A"],
    before: (text, at) => {
      let start = at;
      while (start > 0 && at - start < 16 && /\d/.test(text[start - 1] as string)) start--;
      return at - start;
    },
    shape: /(?<!\d)\d{5,16}:A[A-Za-z0-9_-]{34}(?![A-Za-z0-9_-])/y,
  },
  {
    kind: "sendgrid_key",
    anchors: ["SG."],
    shape: /SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}/y,
  },
  {
    kind: "twilio_key",
    anchors: ["SK", "AC"],
    shape: /(?:SK|AC)[0-9a-fA-F]{32}(?![A-Za-z0-9])/y,
    check: (s) => hasDigit(s.slice(2)),
    companions: TWILIO_SECRET,
  },
  { kind: "mailgun_key", anchors: ["key-"], shape: /key-[0-9a-f]{32}(?![A-Za-z0-9])/y },
  {
    kind: "stripe_key",
    anchors: ["sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"],
    shape: /[rs]k_(?:live|test|prod)_[A-Za-z0-9]{10,247}/y,
  },
  { kind: "stripe_key", anchors: ["whsec_"], shape: /whsec_[A-Za-z0-9+/=]{24,}/y },
  { kind: "anthropic_key", anchors: ["sk-ant-"], shape: /sk-ant-[A-Za-z0-9_-]{16,300}/y },
  {
    kind: "openai_key",
    anchors: ["sk-"],
    shape: /sk-(?!ant-)[A-Za-z0-9_-]{20,300}/y,
    check: (s) => hasDigit(s),
  },
  {
    kind: "huggingface_token",
    anchors: ["hf_", "api_org_"],
    shape: /(?:hf|api_org)_[A-Za-z0-9]{30,40}(?![A-Za-z0-9])/y,
  },
  { kind: "heroku_key", anchors: ["HRKU-"], shape: /HRKU-[A-Za-z0-9_-]{20,100}/y },
  {
    kind: "digitalocean_token",
    anchors: ["dop_v1_", "doo_v1_", "dor_v1_"],
    shape: /do[opr]_v1_[a-f0-9]{40,64}/y,
  },
  {
    kind: "vercel_token",
    anchors: ["vcp_", "vci_", "vca_", "vcr_", "vck_"],
    shape: /vc[pikar]_[A-Za-z0-9]{20,60}(?![A-Za-z0-9])/y,
  },
  {
    kind: "vault_token",
    anchors: ["hvs.", "hvb.", "hvr."],
    shape: /hv[sbr]\.[A-Za-z0-9_-]{20,300}/y,
  },
  {
    kind: "jwt",
    anchors: ["eyJ"],
    shape: /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/y,
  },
];

/** Anchors whose finder is not a simple shape. */
const SPECIAL_ANCHORS = {
  privateKey: "-----BEGIN ",
  putty: "PuTTY-User-Key-File-",
  url: "://",
  slackWebhook: "hooks.slack.com/",
  discordWebhook: "/api/webhooks/",
  bearer: "Bearer ",
  bearerLower: "bearer ",
  basic: "Basic ",
  sasParameter: "sig=",
  sasString: "SharedAccessSignature=",
} as const;

const FORMATS_BY_ANCHOR = new Map<string, TokenFormat[]>();
for (const format of FORMATS) {
  for (const anchor of format.anchors) {
    FORMATS_BY_ANCHOR.set(anchor, [...(FORMATS_BY_ANCHOR.get(anchor) ?? []), format]);
  }
}

const ANCHORS = new RegExp(
  [...FORMATS_BY_ANCHOR.keys(), ...Object.values(SPECIAL_ANCHORS)]
    .sort((a, b) => b.length - a.length)
    .map((a) => a.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("|"),
  "g",
);

/** Discord bot tokens have no prefix: base64 of a numeric user ID, a timestamp and an HMAC. */
const DISCORD_TOKEN =
  /(?<![A-Za-z0-9_-])[MNO][DTjz][A-Za-z0-9_-]{21,25}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,40}(?![A-Za-z0-9_-])/g;

/**
 * Finds every secret recognised by its shape and reports its span.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findShapedSecrets } from "./secret_formats.ts";
 * const found: string[] = [];
 * findShapedSecrets("t = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'", (s, e, k) => found.push(k));
 * assert.deepEqual(found, ["github_token"]);
 * ```
 */
export function findShapedSecrets(text: string, add: AddSpan): void {
  ANCHORS.lastIndex = 0;
  const cache: ScanCache = { keyEnd: { from: -1, found: null }, url: { end: -1 } };
  let match: RegExpExecArray | null;
  while ((match = ANCHORS.exec(text)) !== null) {
    const anchor = match[0];
    const at = match.index;
    const end = findAt(text, anchor, at, add, cache);
    ANCHORS.lastIndex = Math.max(end, at + 1);
  }
  if (text.includes(".")) {
    DISCORD_TOKEN.lastIndex = 0;
    while ((match = DISCORD_TOKEN.exec(text)) !== null) {
      if (hasDigit(match[0])) add(match.index, match.index + match[0].length, "discord_token");
    }
  }
}

/** Checks one anchor's place; returns where the anchor scan goes on. */
function findAt(
  text: string,
  anchor: string,
  at: number,
  add: AddSpan,
  cache: ScanCache,
): number {
  switch (anchor) {
    case SPECIAL_ANCHORS.privateKey:
      return privateKeyBlock(text, at, add, cache.keyEnd);
    case SPECIAL_ANCHORS.putty:
      return puttyKey(text, at, add);
    case SPECIAL_ANCHORS.url:
      return urlPassword(text, at, add, cache.url);
    case SPECIAL_ANCHORS.slackWebhook:
      return webhookPath(
        text,
        at,
        anchor,
        /(?:services|workflows|triggers)\//y,
        "slack_webhook",
        add,
      );
    case SPECIAL_ANCHORS.discordWebhook:
      return /discord(?:app)?\.com$/.test(text.slice(Math.max(0, at - 14), at))
        ? webhookPath(text, at, anchor, /(?=\d)/y, "discord_webhook", add)
        : at + anchor.length;
    case SPECIAL_ANCHORS.bearer:
    case SPECIAL_ANCHORS.bearerLower:
    case SPECIAL_ANCHORS.basic:
      return authorizationCredential(text, at + anchor.length, add);
    case SPECIAL_ANCHORS.sasParameter:
      return "?&".includes(text[at - 1] ?? "") || text[at - 1] === ";"
        ? valueUntil(text, at + anchor.length, /[&\s"'`;<>]/, "azure_sas", add)
        : at + anchor.length;
    case SPECIAL_ANCHORS.sasString:
      return valueUntil(text, at + anchor.length, /[;\s"'`<>]/, "azure_sas", add);
  }
  let next = at + anchor.length;
  for (const format of FORMATS_BY_ANCHOR.get(anchor) ?? []) {
    const start = at - (format.before?.(text, at) ?? 0);
    if (start < 0) continue;
    if (start > 0 && format.kind !== "telegram_token" && ALNUM.test(text[start - 1] as string)) {
      continue;
    }
    format.shape.lastIndex = start;
    const found = format.shape.exec(text);
    if (!found) continue;
    // A run that fails the check (no digit in it) has no anchor of this format that passes.
    if (format.check && !format.check(found[0])) return Math.max(next, start + found[0].length);
    const end = start + found[0].length;
    add(start, end, format.kind);
    if (format.companions) companions(text, start, end, format.companions, add);
    next = Math.max(next, end);
    break;
  }
  return next;
}

/** Companion secrets within a few lines of a key ID (the AWS secret beside its access key ID). */
function companions(
  text: string,
  start: number,
  end: number,
  companion: NonNullable<TokenFormat["companions"]>,
  add: AddSpan,
): void {
  const from = Math.max(0, start - 400);
  const window = text.slice(from, Math.min(text.length, end + 400));
  companion.re.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = companion.re.exec(window)) !== null) {
    const s = from + match.index;
    if (s >= start && s < end) continue;
    if (companion.check(match[0])) add(s, s + match[0].length, companion.kind);
  }
}

const PRIVATE_KEY_BEGIN = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/y;
const PRIVATE_KEY_END = /-----END ([A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----/g;
const KEY_HEADER_LINE = /[A-Za-z][A-Za-z-]{0,40}: [^\n\\]*/y;
const KEY_BASE64 = /[A-Za-z0-9+/=]+/y;
const KEY_MATERIAL = /[A-Za-z0-9+/=]{16}/;

/** What one scan remembers so that its cost stays linear. */
interface ScanCache {
  keyEnd: EndCache;
  url: UrlCache;
}

/** The END line looked up last in this scan (null: there is none after `from`). */
interface EndCache {
  from: number;
  found: { start: number; end: number } | null;
}

/**
 * A private key block, BEGIN to END; without an END line, BEGIN and the key body after it (base64
 * lines, `\n` escapes as in a service account's JSON, header lines such as `Proc-Type:`). The
 * next END line is looked up again only once the scan has passed it, so a text of many BEGIN lines
 * stays linear.
 */
function privateKeyBlock(text: string, at: number, add: AddSpan, cache: EndCache): number {
  PRIVATE_KEY_BEGIN.lastIndex = at;
  const begin = PRIVATE_KEY_BEGIN.exec(text);
  if (!begin) return at + 1;
  const bodyStart = at + begin[0].length;
  const stale = cache.from < 0 || (cache.found !== null && cache.found.start < bodyStart);
  if (stale) {
    PRIVATE_KEY_END.lastIndex = bodyStart;
    const end = PRIVATE_KEY_END.exec(text);
    cache.from = bodyStart;
    cache.found = end ? { start: end.index, end: end.index + end[0].length } : null;
  }
  const nextBegin = text.indexOf(SPECIAL_ANCHORS.privateKey, bodyStart);
  const end = cache.found;
  const blockEnd = end && (nextBegin < 0 || end.start < nextBegin) ? end.end : null;
  let bodyEnd = blockEnd ?? keyBodyEnd(text, bodyStart);
  while (bodyEnd > bodyStart && /\s/.test(text[bodyEnd - 1] as string)) bodyEnd--;
  // A header alone (`startswith("-----BEGIN RSA PRIVATE KEY-----")`) or a template's `XXXX` lines
  // hold no key: a key body has long runs of base64.
  if (!KEY_MATERIAL.test(text.slice(bodyStart, bodyEnd))) return bodyStart;
  add(at, bodyEnd, "private_key");
  return bodyEnd;
}

/** Where a key body without an END line stops: at the first text that is not part of a key. */
function keyBodyEnd(text: string, from: number): number {
  let at = from;
  for (;;) {
    const start = at;
    while (at < text.length) {
      const c = text[at] as string;
      if (c === " " || c === "\t" || c === "\n" || c === "\r") at++;
      else if (c === "\\" && (text[at + 1] === "n" || text[at + 1] === "r")) at += 2;
      else break;
    }
    KEY_HEADER_LINE.lastIndex = at;
    const lineStart = text[at - 1] === "\n" || (text[at - 1] === "n" && text[at - 2] === "\\");
    const header = lineStart ? KEY_HEADER_LINE.exec(text) : null;
    if (header) at += header[0].length;
    else {
      KEY_BASE64.lastIndex = at;
      const base64 = KEY_BASE64.exec(text);
      if (base64) at += base64[0].length;
    }
    if (at === start) return at;
  }
}

/** A PuTTY key file: its private lines and MAC. */
function puttyKey(text: string, at: number, add: AddSpan): number {
  if (!/^PuTTY-User-Key-File-\d+: /.test(text.slice(at, at + 30))) return at + 1;
  const start = text.indexOf("Private-Lines:", at);
  if (start < 0 || start - at > 8192) return at + 1;
  const mac = /Private-MAC: *[0-9a-fA-F]*/g;
  mac.lastIndex = start;
  const found = mac.exec(text);
  const end = found ? found.index + found[0].length : text.length;
  add(start, end, "private_key");
  return end;
}

/** Where the run of URL characters being read ends. */
interface UrlCache {
  end: number;
}

/** Characters that end a URL (and so its authority). */
const URL_END = /[\s"'`<>\\]/;

/** Placeholders that stand for a password rather than being one. */
const PASSWORD_PLACEHOLDER =
  /^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|\{\{[^}]*\}\}|<[^<>]*>|%\([A-Za-z0-9_]+\)s|%s|\{[A-Za-z_][A-Za-z0-9_]*\}|password|passwd|pass|pwd|secret|token|\*+)$/i;

/**
 * The password of `scheme://user:password@host`. People write `@`, `#` and `?` in passwords
 * unencoded, so the user part ends at the last `@` before the path, not at the first.
 */
function urlPassword(text: string, at: number, add: AddSpan, cache: UrlCache): number {
  const start = at + 3;
  // Every "://" inside one run of URL characters ends where that run ends: find it once.
  if (cache.end < start) {
    let end = start;
    while (end < text.length && end - start < 1024 && !URL_END.test(text[end] as string)) end++;
    cache.end = end;
  }
  const url = text.slice(start, Math.min(cache.end, start + 1024));
  const firstAt = url.indexOf("@");
  if (firstAt < 0) return start;
  const path = url.indexOf("/", firstAt);
  const lastAt = url.lastIndexOf("@", path < 0 ? url.length : path);
  const userinfo = url.slice(0, lastAt);
  const colon = userinfo.indexOf(":");
  if (colon < 0 || userinfo.includes("/")) return start;
  const password = userinfo.slice(colon + 1);
  if (password === "" || password.startsWith(MARK_PREFIX) || PASSWORD_PLACEHOLDER.test(password)) {
    return start;
  }
  add(start + colon + 1, start + lastAt, "connection_string");
  return start + lastAt;
}

/** A webhook URL's secret path, after its fixed part. */
function webhookPath(
  text: string,
  at: number,
  anchor: string,
  kindPart: RegExp,
  kind: SecretKind,
  add: AddSpan,
): number {
  kindPart.lastIndex = at + anchor.length;
  const found = kindPart.exec(text);
  if (!found) return at + anchor.length;
  const start = at + anchor.length + found[0].length;
  const path = /[A-Za-z0-9_/+-]{16,300}/y;
  path.lastIndex = start;
  const secret = path.exec(text);
  if (!secret) return start;
  add(start, start + secret[0].length, kind);
  return start + secret[0].length;
}

/** `Bearer <token>` / `Basic <base64>`: the credential when it looks like one, not a word. */
function authorizationCredential(text: string, start: number, add: AddSpan): number {
  const token = /[A-Za-z0-9._~+/-]{8,}=*/y;
  token.lastIndex = start;
  const found = token.exec(text);
  if (!found) return start;
  const value = found[0];
  // "Basic authentication" is prose; an issued credential has digits, symbols or mixed case.
  const issued = /[\d=+/]/.test(value) || /[A-Z].*[A-Z]/.test(value.slice(1)) ||
    value.length >= 24;
  if (!issued) return start;
  add(start, start + value.length, "bearer_token");
  return start + value.length;
}

/** A value up to its terminator (a shared access signature in a connection string or URL). */
function valueUntil(
  text: string,
  start: number,
  terminator: RegExp,
  kind: SecretKind,
  add: AddSpan,
): number {
  let end = start;
  while (end < text.length && end - start < 2048 && !terminator.test(text[end] as string)) end++;
  const value = text.slice(start, end);
  if (value.length < 8 || value.startsWith(MARK_PREFIX) || PASSWORD_PLACEHOLDER.test(value)) {
    return end;
  }
  add(start, end, kind);
  return end;
}
