import { BtrfsToS3Error, errnoCode, ExitCode } from '@org/btrfs-s3-core';

/**
 * A Btrfs operation failed. For a btrfs-progs command the message names the
 * command, how it ended and its last meaningful stderr line (from ProcessError).
 */
export class BtrfsError extends BtrfsToS3Error {
  constructor(action: string, cause: unknown, note?: string) {
    const reason = messageOf(cause);
    super(`btrfs ${action} failed: ${reason}${note === undefined ? '' : `; ${note}`}`, { exitCode: ExitCode.Fatal, cause });
  }
}

/** A path that must be on Btrfs (a snapshot directory, a receive target) is on another filesystem. */
export class NotBtrfsError extends BtrfsError {
  constructor(
    action: string,
    readonly path: string,
    readonly filesystemType: number,
  ) {
    super(action, new Error(`${path} is not on a Btrfs filesystem (filesystem type 0x${filesystemType.toString(16)})`));
  }
}

/**
 * A filesystem error (ENOENT, ENOTDIR, EACCES...) as a BtrfsError for `action`; Node's
 * message already names the path. Anything else is a bug and is returned unchanged.
 */
export function fileSystemFailure(action: string, error: unknown): unknown {
  return errnoCode(error) === undefined ? error : new BtrfsError(action, error);
}

/** An error's message; duck-typed because errors from another realm (a jest sandbox) fail `instanceof Error`. */
export function messageOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string'
    ? error.message
    : String(error);
}
