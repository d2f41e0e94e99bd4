// Writes docs/schema/*-output.schema.json from the valibot schemas of the --json outputs (run after build).
// test/output-schemas.test.ts fails when the committed files drift from the schemas.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { outputJsonSchemas } = require('../dist/output-json-schema.js');

for (const [name, schema] of Object.entries(outputJsonSchemas())) {
  writeFileSync(join(__dirname, '..', '..', '..', 'docs', 'schema', name), `${JSON.stringify(schema, null, 2)}\n`);
}
