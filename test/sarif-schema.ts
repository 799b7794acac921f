// The official SARIF 2.1.0 JSON schema (OASIS SARIF TC, test/fixtures/sarif/) as a validator, for the
// unit and the integration test of `audit --output sarif`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const SCHEMA = new URL('./fixtures/sarif/sarif-schema-2.1.0.json', import.meta.url);

/**
 * A validator for the schema file as published, with its two defects worked around in memory (the file
 * stays byte-for-byte): `region` lists its anyOf under `properties` (the OASIS-published schema has it on
 * `region` itself, where it is moved here), and two `pattern`s open with `(?i)`, which JavaScript regular
 * expressions do not know (compiled here with the `i` flag instead).
 */
let validator: ((log: unknown) => ErrorObject[]) | undefined;
export function sarifValidator(): (log: unknown) => ErrorObject[] {
  if (validator) return validator;
  const schema = JSON.parse(readFileSync(SCHEMA, 'utf8'));
  const region = schema.definitions.region;
  assert.ok(Array.isArray(region.properties.anyOf), 'the schema no longer has the misplaced region anyOf: drop this workaround');
  region.anyOf = region.properties.anyOf;
  delete region.properties.anyOf;
  const regExp = Object.assign(
    (pattern: string, flags: string) => (pattern.startsWith('^(?i)') ? new RegExp(`^${pattern.slice(5)}`, `${flags}i`) : new RegExp(pattern, flags)),
    { code: 'sarifRegExp' },
  );
  // Ajv's default strictness (unknown keywords and formats are errors), and the schema checked against its meta-schema.
  const ajv = new Ajv2020.default({ allErrors: true, code: { regExp } });
  addFormats.default(ajv);
  const validate = ajv.compile(schema);
  validator = (log: unknown) => (validate(log) ? [] : structuredClone(validate.errors ?? []));
  return validator;
}

export const explainSarif = (errors: ErrorObject[]) => errors.map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n');
