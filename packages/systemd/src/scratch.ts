import { errnoCode } from '@org/btrfs-s3-core';
import type { Stats } from 'node:fs';
import { stat, statfs } from 'node:fs/promises';
import { ScratchDirError } from './errors';
import { isWithin, type UnitConfig } from './paths';

/** statfs(2)'s f_type of a Btrfs file system. */
const BTRFS_SUPER_MAGIC = 0x9123683e;
/** The inode number of every Btrfs subvolume's top directory (and so of every Btrfs mount's root). */
const SUBVOLUME_ROOT_INODE = 256;

const KEY = 'drill.scratch_dir';

/**
 * The configured scratch directory of the drill, without looking at the file system: a
 * ScratchDirError (exit 2) when it is not set, or under /tmp or /var/tmp (the service
 * has private ones, where it would not exist).
 */
export function scratchDirOf(config: UnitConfig): string {
  const dir = config.drill?.scratch_dir;
  if (dir === undefined || dir === '') {
    throw new ScratchDirError(
      `${KEY} is not set: the drill timer restores every chain into it; set [drill] scratch_dir to an existing directory on Btrfs that is a subvolume of its own (btrfs subvolume create), with room for the largest chain`,
    );
  }
  if (isWithin(dir, '/tmp') || isWithin(dir, '/var/tmp')) {
    throw new ScratchDirError(
      `${KEY} ${dir} is under /tmp or /var/tmp, which the drill service sees only as its own empty private directories; use a directory on Btrfs elsewhere`,
    );
  }
  return dir;
}

/**
 * The scratch directory, checked as the drill service will find it: set, not under
 * /tmp or /var/tmp (see scratchDirOf), an existing directory, on Btrfs (`btrfs
 * receive` needs it), and a subvolume of its own (or the root of a Btrfs mount). The
 * service sees it through a bind mount (ReadWritePaths=), and from a bind mount of a
 * plain directory `btrfs receive` cannot open an incremental backup's parent (it
 * resolves the parent's path from the mounted subvolume's top). Throws a
 * ScratchDirError (exit 2) naming the key and the path otherwise.
 */
export async function checkScratchDir(config: UnitConfig): Promise<string> {
  const dir = scratchDirOf(config);
  let found: Stats;
  try {
    found = await stat(dir);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT')
      throw new ScratchDirError(
        `${KEY} ${dir} does not exist; create it as a subvolume on Btrfs (btrfs subvolume create ${dir}), with room for the largest chain`,
        error,
      );
    throw new ScratchDirError(`cannot check ${KEY} ${dir}: ${code ?? String(error)}`, error);
  }
  if (!found.isDirectory()) throw new ScratchDirError(`${KEY} ${dir} is not a directory; it must be a directory on Btrfs (a subvolume)`);
  if ((await statfs(dir)).type !== BTRFS_SUPER_MAGIC) {
    throw new ScratchDirError(`${KEY} ${dir} is not on Btrfs; btrfs receive needs a directory on a Btrfs file system`);
  }
  if (found.ino !== SUBVOLUME_ROOT_INODE) {
    throw new ScratchDirError(
      `${KEY} ${dir} is a plain directory on Btrfs, not a subvolume: through the drill service's bind mount of it, btrfs receive cannot find an incremental backup's parent; make it a subvolume (rmdir ${dir} && btrfs subvolume create ${dir})`,
    );
  }
  return dir;
}
