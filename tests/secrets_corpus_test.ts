import assert from "node:assert/strict";
import { redactSecrets } from "../src/record/secrets.ts";
import { NEUTRAL_NAME, randomSource, REFERENCE_FORMATS, SYNTAXES } from "./secret_fixtures.ts";

/** Names under which the generated secrets are also written: a secret name must not hide them. */
const NAMES = [NEUTRAL_NAME, "API_TOKEN", "db_password", "cacheKey"];
const SAMPLES_PER_FORMAT = 25;

Deno.test("differential: no secret of any reference format survives, in any syntax, under any name", () => {
  let checked = 0;
  const survivors: string[] = [];
  for (const [i, format] of REFERENCE_FORMATS.entries()) {
    const { int } = randomSource(1000 + i);
    for (let n = 0; n < SAMPLES_PER_FORMAT; n++) {
      const secret = format.generate(int);
      assert.match(secret, format.reference, `${format.source}: generated ${secret}`);
      for (const syntax of SYNTAXES) {
        if (syntax.quote !== "none" && secret.includes(syntax.quote)) continue;
        for (const name of NAMES) {
          const code = syntax.template.replaceAll("NAME", name).replace("VALUE", secret);
          const { text } = redactSecrets(code);
          checked++;
          if (format.reference.test(text) || text.includes(secret)) {
            survivors.push(`${format.source} in ${syntax.name} as ${name}:\n${code}→\n${text}`);
          }
        }
      }
    }
  }
  assert.deepEqual(survivors.slice(0, 5), [], `${survivors.length} of ${checked} survived`);
  assert.ok(checked > 15_000, `${checked} samples`);
});

Deno.test("differential: many secrets in one file, mixed with code, all go", () => {
  const { int } = randomSource(77);
  const lines: string[] = [];
  const secrets: { secret: string; reference: RegExp }[] = [];
  for (let n = 0; n < 400; n++) {
    const format = REFERENCE_FORMATS[int(REFERENCE_FORMATS.length)]!;
    const syntax = SYNTAXES[int(SYNTAXES.length)]!;
    const secret = format.generate(int);
    if (syntax.quote !== "none" && secret.includes(syntax.quote)) continue;
    secrets.push({ secret, reference: format.reference });
    lines.push(syntax.template.replaceAll("NAME", `setting_${n}`).replace("VALUE", secret));
    lines.push(`def helper_${n}(value):\n    return value * ${n}\n`);
  }
  const { text } = redactSecrets(lines.join("\n"));
  for (const { secret, reference } of secrets) {
    assert.ok(!text.includes(secret), secret);
    assert.ok(!reference.test(text), `${reference} still matches`);
  }
  for (let n = 0; n < 400; n += 37) assert.ok(text.includes(`return value * ${n}\n`));
});
