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
 * The most an encoded chunk can store for `chunkSizeBytes` of the stream: age adds 16
 * bytes per 64 KiB and a header, zstd a few bytes per 128 KiB block of incompressible
 * data and per frame. 1/2048 more plus 64 KiB bounds both with room to spare.
 */
export function storedChunkBound(chunkSizeBytes: number): number {
  return Math.ceil(chunkSizeBytes * (1 + 1 / 2048)) + 64 * 1024;
}

/**
 * Checks every S3 limit before a byte is read or a request is made, and reports all
 * violations at once, each naming the config key that sets it. `encoded` chunks are
 * checked at the most they can store (storedChunkBound).
 */
export function resolveLayout(options: ChunkedUploadOptions, encoded = false): UploadLayout {
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
    const stored = encoded ? storedChunkBound(chunkSizeBytes) : chunkSizeBytes;
    const encodedNote = encoded ? ' once compressed or encrypted (which can add 0.05%)' : '';
    if (stored > maxObjectSizeBytes)
      problems.push(`s3.chunk_size_bytes (${chunkSizeBytes}) exceeds s3.max_object_size_bytes (${maxObjectSizeBytes})${encodedNote}`);
    if (isCount(partSizeBytes) && Math.ceil(stored / partSizeBytes) > maxParts) {
      problems.push(
        `s3.chunk_size_bytes (${chunkSizeBytes}) needs more than ${maxParts} parts of s3.part_size_bytes (${partSizeBytes})${encodedNote}; raise the part size or lower the chunk size`,
      );
    }
  }
  if (!isCount(concurrency) || concurrency > MAX_CONCURRENCY)
    problems.push(`s3.concurrency must be an integer from 1 to ${MAX_CONCURRENCY}, got ${concurrency}`);
  // The spool must hold at least one whole part, or the reader could never start one.
  const spool = options.spool;
  const largestPart = largestPartBytes({ partSizeBytes, chunkSizeBytes }, encoded);
  if (spool !== undefined && (!isCount(spool.maxBytes) || spool.maxBytes < largestPart)) {
    problems.push(`global.spool_size_bytes must be at least one part (${largestPart} bytes), got ${spool.maxBytes}`);
  }
  if (problems.length > 0) throw new UploadLimitError(problems);
  return { chunkSizeBytes, partSizeBytes, concurrency, ...(spool === undefined ? {} : { spool }) };
}

/** The largest part the splitter cuts: a part, or a whole chunk when chunks are smaller; encoded chunks end where their bytes do. */
export function largestPartBytes(layout: Pick<UploadLayout, 'partSizeBytes' | 'chunkSizeBytes'>, encoded: boolean): number {
  return encoded ? layout.partSizeBytes : Math.min(layout.partSizeBytes, layout.chunkSizeBytes);
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
    ...(s3.max_upload_rate === undefined ? {} : { maxUploadBytesPerSecond: s3.max_upload_rate }),
    ...(s3.spool_enabled ? { spool: { dir: global.spool_dir, maxBytes: global.spool_size_bytes } } : {}),
  };
}
