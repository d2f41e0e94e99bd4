// The generated dataset: 80% of the bytes in large random files (64-256 MiB), 20% in small
// random files (1-64 KiB), split into groups a (25%), b (25%) and c (50%) so that the
// scaling check can reflink a quarter (a) and a half (a + b) of it into their own subvolumes.
// Content comes from AES-256-CTR over zeros with a random key: incompressible, and far
// faster than /dev/urandom.
import { createCipheriv, type Cipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

const KiB = 1024;
const MiB = 1024 * KiB;

export const LARGE_MIN = 64 * MiB;
export const LARGE_MAX = 256 * MiB;
export const SMALL_MIN = 1 * KiB;
export const SMALL_MAX = 64 * KiB;
export const LARGE_SHARE = 0.8;
export const SMALL_FILES_PER_DIR = 500;

export interface GroupPlan {
  readonly name: string;
  readonly fraction: number;
  readonly large: readonly number[];
  readonly small: readonly number[];
}

export interface DatasetPlan {
  readonly groups: readonly GroupPlan[];
}

export const GROUPS = [
  { name: 'a', fraction: 0.25 },
  { name: 'b', fraction: 0.25 },
  { name: 'c', fraction: 0.5 },
] as const;

/** A small seeded generator (mulberry32), so a size always gives the same layout. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sizes between min and max adding up to exactly total; the last one takes the remainder. */
export function fill(total: number, min: number, max: number, random: () => number, align = 1): number[] {
  const sizes: number[] = [];
  let left = total;
  while (left > 0) {
    const size = Math.floor((min + random() * (max - min)) / align) * align;
    // A remainder below the minimum joins the last file rather than making a tiny one.
    if (left - size < min) {
      if (left > max && left - min >= min) {
        sizes.push(left - min, min);
      } else {
        sizes.push(left);
      }
      break;
    }
    sizes.push(size);
    left -= size;
  }
  return sizes;
}

export function planDataset(sizeBytes: number, seed = 8): DatasetPlan {
  const random = seededRandom(seed);
  return {
    groups: GROUPS.map(({ name, fraction }) => {
      const bytes = Math.round(sizeBytes * fraction);
      const largeBytes = Math.round((bytes * LARGE_SHARE) / MiB) * MiB;
      return {
        name,
        fraction,
        large: fill(largeBytes, LARGE_MIN, LARGE_MAX, random, MiB),
        small: fill(bytes - largeBytes, SMALL_MIN, SMALL_MAX, random),
      };
    }),
  };
}

export function planTotals(plan: DatasetPlan): {
  bytes: number;
  largeFiles: number;
  largeBytes: number;
  smallFiles: number;
  smallBytes: number;
} {
  const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
  const large = plan.groups.flatMap((group) => group.large);
  const small = plan.groups.flatMap((group) => group.small);
  return {
    bytes: sum(large) + sum(small),
    largeFiles: large.length,
    largeBytes: sum(large),
    smallFiles: small.length,
    smallBytes: sum(small),
  };
}

/** An endless random byte source. */
export class RandomSource {
  private readonly cipher: Cipheriv = createCipheriv('aes-256-ctr', randomBytes(32), randomBytes(16));
  private readonly zeros = Buffer.alloc(4 * MiB);

  /** The next `length` random bytes (at most 4 MiB per call). */
  take(length: number): Buffer {
    return this.cipher.update(this.zeros.subarray(0, Math.min(length, this.zeros.length)));
  }
}

async function writeRandom(path: string, size: number, source: RandomSource, flags = 'w', position?: number): Promise<void> {
  const file = await open(path, flags);
  try {
    let written = 0;
    while (written < size) {
      const chunk = source.take(size - written);
      await file.write(chunk, 0, chunk.length, position === undefined ? null : position + written);
      written += chunk.length;
    }
  } finally {
    await file.close();
  }
}

export function groupDir(root: string, group: string): string {
  return join(root, group);
}

/** Writes the planned files under root (root/a, root/b, root/c). */
export async function writeDataset(root: string, plan: DatasetPlan, source = new RandomSource(), signal?: AbortSignal): Promise<void> {
  for (const group of plan.groups) {
    const dir = groupDir(root, group.name);
    await mkdir(join(dir, 'large'), { recursive: true });
    for (const [index, size] of group.large.entries()) {
      signal?.throwIfAborted();
      await writeRandom(join(dir, 'large', `large-${String(index).padStart(3, '0')}.bin`), size, source);
    }
    for (const [index, size] of group.small.entries()) {
      signal?.throwIfAborted();
      const sub = join(dir, 'small', String(Math.floor(index / SMALL_FILES_PER_DIR)).padStart(3, '0'));
      if (index % SMALL_FILES_PER_DIR === 0) await mkdir(sub, { recursive: true });
      await writeRandom(join(sub, `small-${String(index).padStart(5, '0')}.bin`), size, source);
    }
  }
}

interface FileEntry {
  readonly path: string;
  readonly size: number;
}

async function listFiles(dir: string): Promise<FileEntry[]> {
  const entries: FileEntry[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    entries.push({ path, size: (await stat(path)).size });
  }
  return entries.sort((a, b) => a.path.localeCompare(b.path));
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

export interface ChangeSummary {
  readonly changedBytes: number;
  readonly largeFilesChanged: number;
  readonly smallFilesChanged: number;
  readonly appendedBytes: number;
}

/**
 * Changes about `fraction` of the dataset's bytes in place, the way data changes between
 * backups: 80% of it rewrites a range in each of a few large files (the last one is
 * appended to instead), 20% rewrites whole small files (every tenth of them grows).
 */
export async function changeDataset(root: string, fraction: number, seed: number, source = new RandomSource()): Promise<ChangeSummary> {
  const random = seededRandom(seed);
  const files = await listFiles(root);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  const large = shuffled(
    files.filter((file) => file.size > SMALL_MAX),
    random,
  );
  const small = shuffled(
    files.filter((file) => file.size <= SMALL_MAX),
    random,
  );
  let largeLeft = Math.round(total * fraction * (small.length === 0 ? 1 : LARGE_SHARE));
  let smallLeft = Math.round(total * fraction) - largeLeft;
  let changed = 0;
  let appended = 0;
  let largeChanged = 0;
  let smallChanged = 0;

  for (const [index, file] of large.entries()) {
    if (largeLeft <= 0) break;
    // At most half of a file, so the change spreads over several of them.
    const length = Math.min(largeLeft, Math.floor(file.size / 2));
    const last = largeLeft - length <= 0 || index === large.length - 1;
    if (last && largeChanged > 0) {
      await writeRandom(file.path, length, source, 'a');
      appended += length;
    } else {
      const offset = Math.floor((random() * (file.size - length)) / 4096) * 4096;
      await writeRandom(file.path, length, source, 'r+', offset);
    }
    largeLeft -= length;
    changed += length;
    largeChanged++;
  }
  for (const [index, file] of small.entries()) {
    if (smallLeft <= 0) break;
    const grow = index % 10 === 9 ? Math.min(file.size, 4 * KiB) : 0;
    await writeRandom(file.path, file.size + grow, source, 'r+', 0);
    smallLeft -= file.size + grow;
    changed += file.size + grow;
    appended += grow;
    smallChanged++;
  }
  return { changedBytes: changed, largeFilesChanged: largeChanged, smallFilesChanged: smallChanged, appendedBytes: appended };
}
