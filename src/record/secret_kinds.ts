/**
 * The kinds of secret that redaction recognises, most specific first: where two findings overlap,
 * the merged redaction is labelled with the earlier kind.
 *
 * @module
 */

/** Every kind, in priority order, with what it covers (the README lists the same). */
export const SECRET_KINDS = {
  private_key: "PEM, OpenSSH, PGP and PuTTY private key blocks (with or without the END line)",
  age_key: "age secret keys (AGE-SECRET-KEY-1…)",
  aws_access_key: "AWS access key IDs (AKIA…, ASIA…, ABIA…, ACCA…)",
  aws_secret_key: "AWS secret access keys: 40 characters next to an access key ID",
  google_api_key: "Google API keys (AIza…)",
  google_oauth_secret: "Google OAuth client secrets (GOCSPX-…)",
  azure_client_secret: "Azure AD client secrets (…Q~…)",
  azure_sas: "Azure shared access signatures (sig=…, SharedAccessSignature=…)",
  github_token: "GitHub tokens (ghp_, gho_, ghu_, ghs_, ghr_, github_pat_)",
  gitlab_token: "GitLab tokens (glpat-, gldt-, glrt-, glptt-, …)",
  npm_token: "npm access tokens (npm_…)",
  pypi_token: "PyPI upload tokens (pypi-Ag…)",
  slack_token: "Slack tokens (xoxb-, xoxp-, xoxa-, xoxe-, xapp-…)",
  slack_webhook: "Slack webhook URLs (hooks.slack.com/services/…)",
  discord_token: "Discord bot tokens",
  discord_webhook: "Discord webhook URLs (discord.com/api/webhooks/…)",
  telegram_token: "Telegram bot tokens (123456789:AA…)",
  sendgrid_key: "SendGrid API keys (SG.….…)",
  twilio_key: "Twilio API key and account SIDs (SK…, AC…)",
  twilio_auth_token: "Twilio auth tokens and key secrets: 32 characters next to a SID",
  mailgun_key: "Mailgun API keys (key-…)",
  stripe_key: "Stripe secret and restricted keys, webhook secrets (sk_live_, rk_test_, whsec_)",
  anthropic_key: "Anthropic API keys (sk-ant-…)",
  openai_key: "OpenAI and other sk- API keys (sk-proj-, sk-svcacct-, sk-…)",
  huggingface_token: "Hugging Face tokens (hf_…, api_org_…)",
  heroku_key: "Heroku API keys (HRKU-…)",
  digitalocean_token: "DigitalOcean tokens (dop_v1_, doo_v1_, dor_v1_)",
  vercel_token: "Vercel tokens (vcp_, vci_, vca_, vcr_, vck_)",
  vault_token: "HashiCorp Vault tokens (hvs., hvb., hvr.)",
  jwt: "JSON Web Tokens (eyJ….eyJ….…)",
  bearer_token: "Bearer and Basic credentials in Authorization headers",
  connection_string: "passwords in URLs (scheme://user:password@host, @ inside the password too)",
  assigned_secret: "values assigned to secret-sounding names, in every common syntax",
} as const;

/** One kind of secret. */
export type SecretKind = keyof typeof SECRET_KINDS;

/** Priority of each kind: lower wins when findings overlap. */
export const KIND_RANK: Readonly<Record<SecretKind, number>> = Object.fromEntries(
  Object.keys(SECRET_KINDS).map((kind, i) => [kind, i]),
) as Record<SecretKind, number>;

/** What every redaction writes in place of a secret. */
export function redactionMark(kind: SecretKind): string {
  return `[REDACTED:${kind}]`;
}

/** The start of every mark: a value that already holds one is not redacted again. */
export const MARK_PREFIX = "[REDACTED:";
