import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatJsonSchemas } from './json-schema';

describe('docs/schema', () => {
  it.each(Object.entries(formatJsonSchemas()))(
    '%s matches the valibot schema (regenerate with `pnpm --filter @org/btrfs-s3-core generate`)',
    (name, schema) => {
      const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'schema', name), 'utf8'));
      expect(committed).toEqual(schema);
    },
  );
});
