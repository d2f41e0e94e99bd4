// Writes docs/schema/*.json from the valibot manifest and pointer schemas (run after build).
// src/manifest/json-schema.test.ts fails when the committed files drift from the schemas.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { formatJsonSchemas } = require('../dist/manifest/json-schema.js');

for (const [name, schema] of Object.entries(formatJsonSchemas())) {
  writeFileSync(join(__dirname, '..', '..', '..', 'docs', 'schema', name), `${JSON.stringify(schema, null, 2)}\n`);
}
