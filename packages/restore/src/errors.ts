import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';

/** The restored subvolume does not match what was backed up. The restored snapshots stay for inspection. */
export class RestoreVerificationError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Fatal });
  }
}

/** Options of a restore that contradict each other or cannot be read; nothing was requested. */
export class RestoreInputError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Usage });
  }
}

/** The subvolume to restore is not a name (it becomes part of S3 keys, so `..` or `a/b` must not reach a request). */
export class SubvolumeNameError extends BtrfsToS3Error {
  constructor(name: string) {
    super(`--subvolume: ${JSON.stringify(name)} is not a subvolume name (the last component of a configured path)`, {
      exitCode: ExitCode.Usage,
    });
  }
}

export function assertSubvolumeName(name: string): void {
  if (['', '.', '..'].includes(name) || name.includes('/')) throw new SubvolumeNameError(name);
}
