import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

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
    for (const name of (await readdir(join(root, relative))).sort()) {
      const path = relative === '' ? name : `${relative}/${name}`;
      const absolute = join(root, path);
      const stats = await lstat(absolute);
      const type = typeOf(stats);
      entries.set(path, {
        path,
        type,
        mode: stats.mode,
        uid: stats.uid,
        gid: stats.gid,
        size: type === 'file' ? stats.size : 0,
        ...(type === 'symlink' ? { target: await readlink(absolute) } : {}),
        inode: stats.ino,
        nlink: stats.nlink,
      });
      if (type === 'dir') await visit(path);
    }
  }
  await visit('');
  return entries;
}

export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, signal === undefined ? {} : { signal });
  return hash.digest('hex');
}
