import { mapBounded } from '@org/btrfs-s3-core';
import { type FileHandle, lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** lstat calls in flight at once while a directory is read: enough to keep libuv's 4 threads busy. */
const STAT_CONCURRENCY = 16;
/** Bytes read from each file per step of a content comparison (at most; a smaller file, its size). */
const COMPARE_READ_BYTES = 1024 * 1024;

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

/** One path of a tree, with what a restore must reproduce. */
export interface TreeEntry {
  readonly path: string;
  readonly type: EntryType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Files only. */
  readonly size: number;
  readonly target?: string;
  readonly inode: number;
  readonly nlink: number;
}

function typeOf(stats: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'dir';
  if (stats.isSymbolicLink()) return 'symlink';
  return 'other';
}

/**
 * Every path under `root` (relative, `/`-separated, root itself excluded), without
 * following symlinks. `signal` is checked per directory: a huge tree stops promptly.
 */
export async function walkTree(root: string, signal?: AbortSignal): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  async function visit(relative: string): Promise<void> {
    signal?.throwIfAborted();
    const names = (await readdir(join(root, relative))).sort();
    // Stat side by side (each lstat is a round trip to libuv's threads), entered in name order, depth first.
    const children = await mapBounded(names, STAT_CONCURRENCY, (name) => entryAt(root, relative === '' ? name : `${relative}/${name}`));
    for (const entry of children) {
      entries.set(entry.path, entry);
      if (entry.type === 'dir') await visit(entry.path);
    }
  }
  await visit('');
  return entries;
}

async function entryAt(root: string, path: string): Promise<TreeEntry> {
  const absolute = join(root, path);
  const stats = await lstat(absolute);
  const type = typeOf(stats);
  return {
    path,
    type,
    mode: stats.mode,
    uid: stats.uid,
    gid: stats.gid,
    size: type === 'file' ? stats.size : 0,
    ...(type === 'symlink' ? { target: await readlink(absolute) } : {}),
    inode: stats.ino,
    nlink: stats.nlink,
  };
}

/**
 * The offset of the first byte where two files' contents differ (a file that ends
 * first differs where it ends), or undefined when they are equal. Both are read side by
 * side in large steps and compared as bytes: a hash of each would cost a SHA-256 pass
 * over both trees and prove no more. `sizeHint` sizes the read buffers for small files.
 */
export async function firstDifference(a: string, b: string, sizeHint: number, signal?: AbortSignal): Promise<number | undefined> {
  const [fa, fb] = await openBoth(a, b);
  try {
    // One byte more than expected: a small file's end is seen in the first read. Full
    // steps after that, should the file have grown since it was stat'ed.
    const first = Math.min(COMPARE_READ_BYTES, sizeHint + 1);
    let bufferA = Buffer.allocUnsafe(first);
    let bufferB = Buffer.allocUnsafe(first);
    for (let offset = 0; ;) {
      signal?.throwIfAborted();
      const [readA, readB] = await Promise.all([readFully(fa, bufferA, offset), readFully(fb, bufferB, offset)]);
      const common = Math.min(readA, readB);
      if (!bufferA.subarray(0, common).equals(bufferB.subarray(0, common))) return offset + firstUnequal(bufferA, bufferB, common);
      if (readA !== readB) return offset + common;
      if (readA < bufferA.length) return undefined;
      offset += readA;
      if (bufferA.length < COMPARE_READ_BYTES) {
        bufferA = Buffer.allocUnsafe(COMPARE_READ_BYTES);
        bufferB = Buffer.allocUnsafe(COMPARE_READ_BYTES);
      }
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** Both files opened for reading, or neither (the one opened is closed again). */
async function openBoth(a: string, b: string): Promise<[FileHandle, FileHandle]> {
  const [fa, fb] = await Promise.allSettled([open(a, 'r'), open(b, 'r')]);
  if (fa.status === 'rejected' || fb.status === 'rejected') {
    await Promise.all([fa, fb].map((handle) => (handle.status === 'fulfilled' ? handle.value.close() : undefined)));
    throw fa.status === 'rejected' ? fa.reason : fb.status === 'rejected' ? fb.reason : undefined;
  }
  return [fa.value, fb.value];
}

/** Reads at `position` until `buffer` is full or the file ends; the bytes read. */
async function readFully(file: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

/** The first index below `length` where the buffers differ (they are known to). */
function firstUnequal(a: Buffer, b: Buffer, length: number): number {
  let index = 0;
  while (index < length && a[index] === b[index]) index += 1;
  return index;
}
