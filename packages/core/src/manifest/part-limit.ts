import type { RemoteConfig } from '../config/schema';
import { BtrfsToS3Error } from '../errors';
import { ExitCode } from '../exit-codes';
import type { Manifest } from './schema';

const MiB = 1024 * 1024;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

/**
 * A backup's parts are larger than a download here may hold. Found before any thaw
 * request or download. Exit 2: a setting, not damage, decides it.
 */
export class PartLimitError extends BtrfsToS3Error {
  constructor(message: string) {
    super(message, { exitCode: ExitCode.Usage });
  }
}

/**
 * The largest part a download may hold: `restore.max_part_size_bytes`, or
 * `s3.part_size_bytes` when larger, so a host restores what its current part size made.
 */
export function partMemoryLimit(config: Pick<RemoteConfig, 's3' | 'restore'>): number {
  return Math.max(config.restore.max_part_size_bytes, config.s3.part_size_bytes);
}

/**
 * Throws PartLimitError when a part of the manifest at `key` is larger than `limit`
 * (partMemoryLimit). A download verifies each part whole before passing any of it on
 * and holds two, so the limit, not a manifest from the bucket, bounds the memory.
 */
export function assertPartsWithin(key: string, manifest: Pick<Manifest, 'chunks'>, limit: number): void {
  for (const chunk of manifest.chunks) {
    const part = chunk.parts.find((each) => each.size > limit);
    if (part === undefined) continue;
    throw new PartLimitError(
      `manifest ${key}: part ${part.number} of ${chunk.key} is ${mib(part.size)}, larger than the ${mib(limit)} a download here may hold ` +
        `(restore.max_part_size_bytes, or s3.part_size_bytes if larger; each part is verified whole, two at a time); ` +
        `if the backup is yours, raise restore.max_part_size_bytes (or BTRFS_TO_S3__RESTORE__MAX_PART_SIZE_BYTES) to at least ${part.size} on a host with about twice that memory free`,
    );
  }
}
