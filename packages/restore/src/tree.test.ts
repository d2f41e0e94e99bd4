import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstDifference, walkTree } from './tree';

const MiB = 1024 * 1024;
let base = '';
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'tree-'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

/** Two files in the test directory with these contents; their paths. */
async function pair(name: string, a: Buffer, b: Buffer): Promise<[string, string]> {
  const paths: [string, string] = [join(base, `${name}.a`), join(base, `${name}.b`)];
  await writeFile(paths[0], a);
  await writeFile(paths[1], b);
  return paths;
}

/** Bytes that differ from their neighbours, so an offset found is the one changed. */
function pattern(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let index = 0; index < size; index += 1) bytes[index] = (index * 7 + 3) & 0xff;
  return bytes;
}

describe('firstDifference', () => {
  it('finds no difference between equal files, empty, small, and a whole number of read steps', async () => {
    for (const size of [0, 1, 4096, 2 * MiB, 2 * MiB + 5]) {
      const [a, b] = await pair(`equal-${size}`, pattern(size), pattern(size));
      await expect(firstDifference(a, b, size)).resolves.toBeUndefined();
    }
  });

  it('names the first differing byte, past the first read step', async () => {
    const changed = pattern(3 * MiB);
    const at = 2 * MiB + 12_345;
    changed[at] = (changed[at] ?? 0) ^ 0xff;
    changed[at + 100] = (changed[at + 100] ?? 0) ^ 0xff;
    const [a, b] = await pair('changed', pattern(3 * MiB), changed);
    await expect(firstDifference(a, b, 3 * MiB)).resolves.toBe(at);
  });

  it('names the end of the shorter file when one is a prefix of the other, whatever size was expected', async () => {
    const [a, b] = await pair('prefix', pattern(MiB + 10), pattern(MiB + 10).subarray(0, MiB + 3));
    await expect(firstDifference(a, b, MiB + 10)).resolves.toBe(MiB + 3);
    await expect(firstDifference(b, a, 100)).resolves.toBe(MiB + 3);
  });

  it('reads on in full steps when the files are larger than the size expected (grown since the stat)', async () => {
    const changed = pattern(3 * MiB);
    changed[MiB + 7] = (changed[MiB + 7] ?? 0) ^ 0xff;
    const [a, b] = await pair('grown', pattern(3 * MiB), changed);
    await expect(firstDifference(a, b, 0)).resolves.toBe(MiB + 7);
    const [c, d] = await pair('grown-equal', pattern(3 * MiB), pattern(3 * MiB));
    await expect(firstDifference(c, d, 10)).resolves.toBeUndefined();
  });

  it('rejects when a file cannot be opened', async () => {
    const [a] = await pair('lonely', pattern(10), pattern(10));
    await expect(firstDifference(a, join(base, 'absent'), 10)).rejects.toThrow(/ENOENT/);
    await expect(firstDifference(join(base, 'absent'), a, 10)).rejects.toThrow(/ENOENT/);
  });

  it('stops at its signal', async () => {
    const [a, b] = await pair('stopped', pattern(10), pattern(10));
    await expect(firstDifference(a, b, 10, AbortSignal.abort(new Error('stop')))).rejects.toThrow('stop');
  });
});

describe('walkTree', () => {
  it('lists a directory of many entries in name order, depth first', async () => {
    const root = join(base, 'walk');
    await mkdir(join(root, 'b/inner'), { recursive: true });
    const names = Array.from({ length: 100 }, (_, index) => `f${String(index).padStart(3, '0')}`);
    await Promise.all(names.map((name) => writeFile(join(root, name), name)));
    await writeFile(join(root, 'b/inner/x'), 'x');
    const tree = await walkTree(root);
    expect([...tree.keys()]).toEqual(['b', 'b/inner', 'b/inner/x', ...names]);
    expect(tree.get('f042')).toMatchObject({ type: 'file', size: 4 });
  });
});
