import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';

/** Installing or removing the units failed: a file could not be written or systemctl failed. */
export class SystemdError extends BtrfsToS3Error {
  constructor(message: string, cause?: unknown) {
    super(message, { exitCode: ExitCode.Fatal, cause });
  }
}

/** `systemd install --drill` cannot use `drill.scratch_dir`: unset, missing, or not a directory on Btrfs. Nothing was written. */
export class ScratchDirError extends BtrfsToS3Error {
  constructor(message: string, cause?: unknown) {
    super(message, { exitCode: ExitCode.Usage, cause });
  }
}
