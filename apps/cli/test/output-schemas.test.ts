import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { outputJsonSchemas } from '../src/output-json-schema';

describe('docs/schema/*-output.schema.json', () => {
  it.each(Object.entries(outputJsonSchemas()))(
    '%s matches the valibot schema (regenerate with `pnpm --filter btrfs-to-s3 generate`)',
    (name, schema) => {
      const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'docs', 'schema', name), 'utf8'));
      expect(committed).toEqual(schema);
    },
  );
});
