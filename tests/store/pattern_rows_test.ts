/** `src/store/pattern_rows.ts`: how a row becomes a stored pattern's code row. */
import assert from "node:assert/strict";
import { StoredCodeError, toCodeRow } from "../../src/store/pattern_rows.ts";

const ROW = {
  pattern_id: "aaaaaaaaaaaaaaaa",
  code_omitted: null,
  redacted_secrets: 0,
  byte_size: 6,
  first_seen_at: "2026-11-25T10:00:00.000Z",
};

Deno.test("a row written before schema v3 keeps its text in `code`: a legacy snapshot", () => {
  const row = toCodeRow({ ...ROW, code: "a = 1\n", code_format: null });
  assert.equal(row.legacy, true);
  assert.equal(row.stored?.format, "text");
});

Deno.test("a row without code and without a format has nothing stored", () => {
  assert.equal(toCodeRow({ ...ROW, code: null, code_format: null }).stored, null);
});

Deno.test("a code format this version does not know is refused with what to do", () => {
  assert.throws(
    () => toCodeRow({ ...ROW, code: null, code_format: "zstd" }),
    (e) => e instanceof StoredCodeError && /newer Pattern Tracker/.test(e.message),
  );
});
