import { type Config, GiB, MiB, S3_LIMITS } from '@org/btrfs-s3-core';
import type { BucketUploadOptions } from '../s3-bucket';
import { UploadLimitError } from './errors';
import type { ChunkedUploadOptions, SpoolOptions } from './types';

export interface UploadLayout {
  readonly chunkSizeBytes: number;
  readonly partSizeBytes: number;
  readonly concurrency: number;
  readonly spool?: SpoolOptions;
}

// The concurrency ceiling the config schema allows; more workers buy nothing on one uplink.
const MAX_CONCURRENCY = 64;

const isCount = (value: number) => Number.isSafeInteger(value) && value > 0;

/**
 * Checks every S3 limit before a byte is read or a request is made, and reports all
 * violations at once, each naming the config key that sets it.
 */
export function resolveLayout(options: ChunkedUploadOptions): UploadLayout {
  const chunkSizeBytes = options.chunkSizeBytes ?? 200 * GiB;
  const partSizeBytes = options.partSizeBytes ?? 128 * MiB;
  const concurrency = options.concurrency ?? 4;
  const maxObjectSizeBytes = options.maxObjectSizeBytes ?? S3_LIMITS.defaultMaxObjectSize;
  const minPart = options.limits?.minPartSizeBytes ?? S3_LIMITS.minPartSize;
  const maxPart = options.limits?.maxPartSizeBytes ?? S3_LIMITS.maxPartSize;
  const maxParts = options.limits?.maxPartsPerObject ?? S3_LIMITS.maxParts;

  const problems: string[] = [];
  if (!isCount(partSizeBytes) || partSizeBytes < minPart || partSizeBytes > maxPart) {
    problems.push(`s3.part_size_bytes must be an integer from ${minPart} to ${maxPart}, got ${partSizeBytes}`);
  }
  if (!isCount(chunkSizeBytes)) {
    problems.push(`s3.chunk_size_bytes must be a positive integer, got ${chunkSizeBytes}`);
  } else {
    if (chunkSizeBytes > maxObjectSizeBytes)
      problems.push(`s3.chunk_size_bytes (${chunkSizeBytes}) exceeds s3.max_object_size_bytes (${maxObjectSizeBytes})`);
    if (isCount(partSizeBytes) && Math.ceil(chunkSizeBytes / partSizeBytes) > maxParts) {
      problems.push(
        `s3.chunk_size_bytes (${chunkSizeBytes}) needs more than ${maxParts} parts of s3.part_size_bytes (${partSizeBytes}); raise the part size or lower the chunk size`,
      );
    }
  }
  if (!isCount(concurrency) || concurrency > MAX_CONCURRENCY)
    problems.push(`s3.concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${concurrency}`);
  // The spool must hold at least one whole part, or the reader could never start one.
  const spool = options.spool;
  if (spool !== undefined && (!isCount(spool.maxBytes) || spool.maxBytes < Math.min(partSizeBytes, chunkSizeBytes))) {
    problems.push(
      `global.spool_size_bytes must be at least one part (${Math.min(partSizeBytes, chunkSizeBytes)} bytes), got ${spool.maxBytes}`,
    );
  }
  if (problems.length > 0) throw new UploadLimitError(problems);
  return { chunkSizeBytes, partSizeBytes, concurrency, ...(spool === undefined ? {} : { spool }) };
}

/**
 * The uploader's options as the validated config sets them (`[s3]` and the spool keys
 * of `[global]`), for S3Bucket.uploadChunkedStream; the bucket adds the retry policy.
 */
export function uploadOptionsFromConfig(config: Pick<Config, 's3' | 'global'>): BucketUploadOptions {
  const { s3, global } = config;
  return {
    chunkSizeBytes: s3.chunk_size_bytes,
    partSizeBytes: s3.part_size_bytes,
    concurrency: s3.concurrency,
    maxObjectSizeBytes: s3.max_object_size_bytes,
    ...(s3.spool_enabled ? { spool: { dir: global.spool_dir, maxBytes: global.spool_size_bytes } } : {}),
  };
}
