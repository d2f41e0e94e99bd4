import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

const README = join(__dirname, '..', '..', '..', 'README.md');
const EXAMPLE = join(__dirname, '..', 'examples', 'backup-and-restore.js');

describe("the README's library example", () => {
  it('shows only verbatim parts of examples/backup-and-restore.js, which examples.test.ts runs', async () => {
    const readme = await readFile(README, 'utf8');
    const section = readme.split(/^## /m).find((part) => part.startsWith('Use as a library\n'));
    if (section === undefined) throw new Error('README.md has no "## Use as a library" section');
    const shown = [...section.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((match) => match[1] ?? '');
    expect(shown.join('')).toContain('runBackup({');
    expect(shown.join('')).toContain('runRestore({');
    const example = await readFile(EXAMPLE, 'utf8');
    for (const block of shown) expect(example).toContain(block);
  });
});
