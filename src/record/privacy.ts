/**
 * Privacy rules, all pure: which paths are tracked ({@link ./path_rules.ts}) and secret redaction
 * applied to code before anything is stored or sent ({@link ./secrets.ts}). This module gathers
 * both for the callers that use them together.
 *
 * @module
 */

export {
  checkPath,
  DEFAULT_EXCLUDES,
  globMatcher,
  globToRegExp,
  isPathTracked,
  type PathContext,
  type PathDecision,
  type PathRules,
  PROJECT_DIR_ENV,
  projectDirFromEnv,
} from "./path_rules.ts";
export { type Redaction, redactSecrets, SECRET_KINDS, type SecretKind } from "./secrets.ts";
