import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  changeDataset,
  fill,
  LARGE_MAX,
  LARGE_MIN,
  planDataset,
  planTotals,
  RandomSource,
  seededRandom,
  SMALL_MAX,
  SMALL_MIN,
  writeDataset,
} from './dataset';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('planDataset', () => {
  const plan = planDataset(2 * GiB);
  const totals = planTotals(plan);

  it('adds up to the size asked for, 80% of it in large files', () => {
    expect(totals.bytes).toBe(2 * GiB);
    expect(totals.largeBytes / totals.bytes).toBeCloseTo(0.8, 2);
    expect(totals.smallFiles).toBeGreaterThan(5000);
  });

  it('keeps sizes within 64-256 MiB and 1-64 KiB', () => {
    for (const group of plan.groups) {
      for (const size of group.large) {
        expect(size).toBeGreaterThanOrEqual(LARGE_MIN);
        expect(size).toBeLessThanOrEqual(LARGE_MAX);
      }
      for (const size of group.small) {
        expect(size).toBeGreaterThanOrEqual(SMALL_MIN);
        expect(size).toBeLessThanOrEqual(SMALL_MAX);
      }
    }
  });

  it('splits into a quarter, a quarter and a half, for the scaling check', () => {
    const groupBytes = plan.groups.map((group) => [...group.large, ...group.small].reduce((a, b) => a + b, 0));
    expect(groupBytes).toEqual([GiB / 2, GiB / 2, GiB]);
  });

  it('is the same for the same size', () => {
    expect(planDataset(2 * GiB)).toEqual(plan);
  });
});

describe('fill', () => {
  it('hits the total exactly, within the bounds when the total allows', () => {
    const random = seededRandom(1);
    for (const total of [300, 1000, 12345]) {
      const sizes = fill(total, 10, 100, random);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
      for (const size of sizes) expect(size >= 10 && size <= 100).toBe(true);
    }
  });

  it('makes one smaller file for a total below the minimum', () => {
    expect(fill(5, 10, 100, seededRandom(1))).toEqual([5]);
  });
});

describe('writeDataset and changeDataset', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'bench-dataset-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes the planned files with random content', async () => {
    const plan = { groups: [{ name: 'a', fraction: 1, large: [2 * MiB], small: [1024, 2048, 4096] }] };
    await writeDataset(root, plan);
    expect((await stat(join(root, 'a/large/large-000.bin'))).size).toBe(2 * MiB);
    expect(await readdir(join(root, 'a/small/000'))).toEqual(['small-00000.bin', 'small-00001.bin', 'small-00002.bin']);
    const bytes = await readFile(join(root, 'a/large/large-000.bin'));
    expect(bytes.subarray(0, 4096).equals(Buffer.alloc(4096))).toBe(false);
  });

  it('changes about the fraction asked for, in place', async () => {
    const large = [8 * MiB, 8 * MiB, 8 * MiB, 8 * MiB];
    const small = Array.from({ length: 200 }, () => 8 * 1024);
    await writeDataset(root, { groups: [{ name: 'a', fraction: 1, large, small }] });
    const total = 32 * MiB + 200 * 8 * 1024;
    const smallDir = join(root, 'a/small/000');
    const read = async () => Promise.all((await readdir(smallDir)).sort().map((name) => readFile(join(smallDir, name))));
    const before = await read();
    const change = await changeDataset(root, 0.05, 7);
    expect(change.changedBytes / total).toBeGreaterThan(0.045);
    expect(change.changedBytes / total).toBeLessThan(0.06);
    expect(change.largeFilesChanged).toBeGreaterThanOrEqual(1);
    expect(change.smallFilesChanged).toBeGreaterThan(1);
    // Rewritten in place: the same 200 files, as many of them different as reported.
    const after = await read();
    expect(after).toHaveLength(200);
    expect(after.filter((content, index) => !content.equals(before[index] as Buffer))).toHaveLength(change.smallFilesChanged);
  });

  it('random bytes do not repeat', () => {
    const source = new RandomSource();
    expect(source.take(1024).equals(source.take(1024))).toBe(false);
  });

  it('leaves files it did not pick alone', async () => {
    await writeFile(join(root, 'big.bin'), Buffer.alloc(4 * MiB, 1));
    const change = await changeDataset(root, 0.01, 1);
    expect(change.smallFilesChanged).toBe(0);
    expect(change.largeFilesChanged).toBe(1);
  });
});
