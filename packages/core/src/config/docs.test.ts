import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_SECTIONS } from './schema';

/** The configuration reference must not drift from the schema. */
describe('docs/configuration.md', () => {
  const doc = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'configuration.md'), 'utf8');

  it.each(Object.entries(CONFIG_SECTIONS).flatMap(([section, schema]) => Object.keys(schema.entries).map((key) => [section, key])))(
    'documents %s.%s in its section',
    (section, key) => {
      const start = doc.indexOf(`### \`[${section}]\``);
      expect(start).toBeGreaterThanOrEqual(0);
      const end = doc.indexOf('\n### ', start + 1);
      expect(doc.slice(start, end === -1 ? undefined : end)).toContain(`| \`${key}\` |`);
    },
  );
});
