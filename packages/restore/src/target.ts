import { BtrfsToS3Error, errnoCode, ExitCode } from '@org/btrfs-s3-core';
import type { Stats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';

/** The restore target cannot be used; nothing was downloaded or received. */
export class RestoreTargetError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Usage });
  }
}

/** stat(), or undefined when nothing is at `path`. */
async function statIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * A restore goes into a new path (or an existing empty directory) whose parent
 * exists; an existing non-empty target is refused so nothing is ever overwritten.
 */
export async function assertRestoreTarget(target: string): Promise<void> {
  if (!isAbsolute(target)) throw new RestoreTargetError(`--target must be an absolute path, got ${JSON.stringify(target)}`);
  const existing = await statIfExists(target);
  if (existing !== undefined) {
    if (!existing.isDirectory()) throw new RestoreTargetError(`--target ${target} exists and is not a directory`);
    if ((await readdir(target)).length > 0)
      throw new RestoreTargetError(`--target ${target} exists and is not empty; restore into a new path`);
    return;
  }
  const parent = await statIfExists(dirname(target));
  if (parent === undefined) throw new RestoreTargetError(`--target parent ${dirname(target)} does not exist`);
  if (!parent.isDirectory()) throw new RestoreTargetError(`--target parent ${dirname(target)} is not a directory`);
}
