import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';

/** The command needs root and runs as another user: nothing was done. */
export class NotRootError extends BtrfsToS3Error {
  constructor(command: string, uid: number) {
    super(`${command} must run as root: btrfs snapshot, send and receive need it (running as uid ${uid}); nothing was done`, {
      exitCode: ExitCode.Usage,
    });
  }
}

/**
 * Checked before anything else, so a non-root run fails with this one line
 * instead of whichever permission error it would meet first (the lock, a snapshot).
 */
export function requireRoot(command: string, uid: number | undefined = process.geteuid?.()): void {
  if (uid !== undefined && uid !== 0) throw new NotRootError(command, uid);
}
