import { BtrfsToS3Error, errnoCode, ExitCode } from '@org/btrfs-s3-core';
import { readdir, stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';

/** The restore target cannot be used; nothing was downloaded or received. */
export class RestoreTargetError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Usage });
  }
}

/**
 * A restore goes into a new path (or an existing empty directory) whose parent
 * exists; an existing non-empty target is refused so nothing is ever overwritten.
 */
export async function assertRestoreTarget(target: string): Promise<void> {
  if (!isAbsolute(target)) throw new RestoreTargetError(`--target must be an absolute path, got ${JSON.stringify(target)}`);
  try {
    const info = await stat(target);
    if (!info.isDirectory()) throw new RestoreTargetError(`--target ${target} exists and is not a directory`);
    if ((await readdir(target)).length > 0) throw new RestoreTargetError(`--target ${target} exists and is not empty; restore into a new path`);
    return;
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
  }
  try {
    if (!(await stat(dirname(target))).isDirectory()) throw new RestoreTargetError(`--target parent ${dirname(target)} is not a directory`);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new RestoreTargetError(`--target parent ${dirname(target)} does not exist`);
    throw error;
  }
}
