import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';
import { describeS3Error, isS3Error } from '../s3-errors';

/** A HeadObject or RestoreObject of the thaw failed permanently or ran out of retries. Names the key. */
export class ArchiveThawError extends BtrfsToS3Error {
  readonly key: string;
  readonly operation: 'HeadObject' | 'RestoreObject';

  constructor(operation: 'HeadObject' | 'RestoreObject', key: string, cause: unknown) {
    const missing = isS3Error(cause, 'NotFound', 'NoSuchKey') ? '; the object is missing from the bucket' : '';
    super(`thaw of s3://…/${key} failed in ${operation}: ${describeS3Error(cause)}${missing}`, { exitCode: ExitCode.Fatal, cause });
    this.key = key;
    this.operation = operation;
  }
}

/** The configured restore tier cannot thaw some of the objects; nothing was requested. */
export class ThawTierError extends BtrfsToS3Error {
  readonly keys: readonly string[];

  constructor(tier: string, keys: readonly string[]) {
    super(
      `restore.restore_tier ${tier} is not offered for DEEP_ARCHIVE objects (${keys.length}, first s3://…/${keys[0] ?? '?'}); use Standard or Bulk. No thaw was requested`,
      { exitCode: ExitCode.Usage },
    );
    this.keys = keys;
  }
}
