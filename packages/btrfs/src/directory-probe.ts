import { lstat, readdir, statfs } from 'node:fs/promises';
import { join } from 'node:path';

/** statfs(2) f_type of Btrfs (BTRFS_SUPER_MAGIC in linux/magic.h). */
export const BTRFS_SUPER_MAGIC = 0x9123683e;

/** Every subvolume's root directory has this inode number (BTRFS_FIRST_FREE_OBJECTID). */
export const SUBVOLUME_ROOT_INODE = 256;

export interface ChildDirectory {
  readonly name: string;
  readonly inode: number;
}

/**
 * The few filesystem facts the adapters need besides btrfs-progs, injected so
 * listing and receive cleanup are unit-tested without a real Btrfs.
 * Both methods reject with Node's filesystem errors (ENOENT, ENOTDIR, ...).
 */
export interface DirectoryProbe {
  /** statfs(2) f_type of the filesystem holding `path`. */
  filesystemType(path: string): Promise<number>;
  /** The direct child directories of `dir` (not following symlinks), with their inode numbers. */
  childDirectories(dir: string): Promise<ChildDirectory[]>;
}

export const nodeDirectoryProbe: DirectoryProbe = {
  async filesystemType(path) {
    return (await statfs(path)).type;
  },
  async childDirectories(dir) {
    const entries = await readdir(dir, { withFileTypes: true });
    const directories = entries.filter((entry) => entry.isDirectory());
    return Promise.all(directories.map(async ({ name }) => ({ name, inode: (await lstat(join(dir, name))).ino })));
  },
};
