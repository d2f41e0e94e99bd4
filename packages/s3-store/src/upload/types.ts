import type {
  AbortMultipartUploadCommand,
  AbortMultipartUploadCommandOutput,
  CompleteMultipartUploadCommand,
  CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  CreateMultipartUploadCommandOutput,
  HeadObjectCommand,
  HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  ListMultipartUploadsCommandOutput,
  ListPartsCommand,
  ListPartsCommandOutput,
  PutObjectCommand,
  PutObjectCommandOutput,
  PutObjectRetentionCommand,
  PutObjectRetentionCommandOutput,
  StorageClass,
  UploadPartCommand,
  UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';
import type { Readable } from 'node:stream';
import type { ObjectLockConfig } from '../lock/retention';
import type { RetryEvent, RetrySettings } from '../retry';

export interface SendOptions {
  readonly abortSignal?: AbortSignal;
}

/**
 * The calls the uploader and the stale-upload cleanup make. An S3Client from
 * createS3Client satisfies it; unit tests pass a fake at this SDK boundary.
 */
export interface MultipartClient {
  send(command: CreateMultipartUploadCommand, options?: SendOptions): Promise<CreateMultipartUploadCommandOutput>;
  send(command: UploadPartCommand, options?: SendOptions): Promise<UploadPartCommandOutput>;
  /** A chunk of one part. */
  send(command: PutObjectCommand, options?: SendOptions): Promise<PutObjectCommandOutput>;
  send(command: ListPartsCommand, options?: SendOptions): Promise<ListPartsCommandOutput>;
  send(command: CompleteMultipartUploadCommand, options?: SendOptions): Promise<CompleteMultipartUploadCommandOutput>;
  send(command: AbortMultipartUploadCommand, options?: SendOptions): Promise<AbortMultipartUploadCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: ListMultipartUploadsCommand, options?: SendOptions): Promise<ListMultipartUploadsCommandOutput>;
  send(command: PutObjectRetentionCommand, options?: SendOptions): Promise<PutObjectRetentionCommandOutput>;
}

/** Marks in an encoded source: a chunk object's bytes end here, or the whole stream does, with what they held of the send stream. */
export interface EncodedBoundary {
  readonly kind: 'chunk-end' | 'stream-end';
  /** Bytes of the send stream in the chunk (or the stream). */
  readonly plainSize: number;
  readonly plainSha256: string;
}

/**
 * Turns the source into chunk objects' bytes with a boundary after each chunk and one
 * at the end (the codec package's encodeChunks: zstd and age per chunk).
 */
export type ChunkEncoder = (source: Readable) => AsyncIterable<Buffer | EncodedBoundary>;

/** What is uploaded: required, kept apart from the tuning knobs (as lib-storage does). */
export interface ChunkedUploadRequest {
  /** Read exactly once; destroyed when the upload fails, so a producer such as `btrfs send` stops. */
  readonly source: Readable;
  /** The object key of the chunk with this 0-based index, e.g. `.../chunks/part-00000.bin`. */
  readonly keyForChunk: (index: number) => string;
  readonly storageClass: StorageClass;
  /**
   * When set, chunk objects hold what it makes of the source and end where it says;
   * otherwise each holds `chunkSizeBytes` of the source as it is. Its chunks may be a
   * little larger than `chunkSizeBytes` (encryption adds 16 bytes per 64 KiB).
   */
  readonly encode?: ChunkEncoder;
  /** Backup data: when `s3.object_lock` is set, every chunk object gets its retention (S3Bucket fills in `objectLock`). */
  readonly locked?: boolean;
}

/** What is uploaded and where; S3Bucket supplies the where, and `objectLock` for a `locked` request. */
export interface ChunkedUploadParams extends Omit<ChunkedUploadRequest, 'locked'> {
  readonly client: MultipartClient;
  readonly bucket: string;
  /** Every CreateMultipartUpload carries it: `AES256` (SSE-S3), `aws:kms` (SSE-KMS) or nothing for `none`. */
  readonly sse: Config['s3']['sse'];
  /** With `sse = "aws:kms"`: the key every CreateMultipartUpload names; absent, the bucket's default key. */
  readonly sseKmsKeyId?: string;
  /** Set: every chunk object is locked with this retention (`s3.object_lock`) from its CreateMultipartUpload on. */
  readonly objectLock?: ObjectLockConfig;
}

/** Disk spool: parts wait for upload in files instead of memory. */
export interface SpoolOptions {
  /** `global.spool_dir`; created (mode 0700) if missing. Part files are 0600: they hold plaintext snapshot data. */
  readonly dir: string;
  /** `global.spool_size_bytes`: bytes of part files at once; at least one part. Reading stops while it is full. */
  readonly maxBytes: number;
}

/**
 * S3 limits; the defaults are AWS's. Tests pass smaller ones instead of patching
 * statics, as lib-storage's own tests shrink the minimum part size.
 */
export interface UploadLimits {
  /** Default 5 MiB. */
  readonly minPartSizeBytes?: number;
  /** Default 5 GiB. */
  readonly maxPartSizeBytes?: number;
  /** Default 10,000. */
  readonly maxPartsPerObject?: number;
}

export interface UploadProgress {
  /** Bytes whose parts S3 has acknowledged. */
  readonly bytesUploaded: number;
  /** Bytes read from the source so far (uploaded, in flight or spooled). */
  readonly bytesRead: number;
}

/** A retry of one S3 call, with what it was for. */
export interface UploadRetryEvent extends RetryEvent {
  readonly operation: string;
  readonly key: string;
  readonly partNumber?: number;
}

/** Tuning knobs. Memory cost: about `concurrency x partSizeBytes` without a spool. */
export interface ChunkedUploadOptions {
  /** Bytes per chunk object, the last one shorter (default 200 GiB, `s3.chunk_size_bytes`). */
  readonly chunkSizeBytes?: number;
  /** Bytes per part (default 128 MiB, `s3.part_size_bytes`); each part in flight holds this much memory. */
  readonly partSizeBytes?: number;
  /** Parts in flight across the whole run (default 4, `s3.concurrency`). */
  readonly concurrency?: number;
  /** Largest object the store accepts (default 5 TiB, `s3.max_object_size_bytes`). */
  readonly maxObjectSizeBytes?: number;
  /** A cap on the bytes sent per second over all parts in flight (`s3.max_upload_rate`); none when absent. */
  readonly maxUploadBytesPerSecond?: number;
  readonly limits?: UploadLimits;
  /** Attempts and backoff of every S3 call (defaults: 5 attempts, 1 s base, 30 s cap), plus test hooks. */
  readonly retry?: RetrySettings;
  /** Aborting fails the upload at once, aborting the multipart uploads it started. */
  readonly signal?: AbortSignal;
  readonly spool?: SpoolOptions;
  readonly contentType?: string;
  /**
   * Every chunk as a multipart upload. By default a chunk the stream ends inside the first
   * part of is one PutObject (two round trips fewer); doctor's probe sets this to try the
   * path a large chunk takes (CreateMultipartUpload's storage class, SSE and permissions).
   */
  readonly alwaysMultipart?: boolean;
  /** Called after every acknowledged part. */
  readonly onProgress?: (progress: UploadProgress) => void;
  /** Called once per chunk object, right after S3 completed it; awaited, so a resume record can be written first. */
  readonly onChunkComplete?: (chunk: UploadedChunk, index: number) => void | Promise<void>;
  /** Called after every part S3 acknowledged, with what a resume needs of it; awaited like onChunkComplete. */
  readonly onPartComplete?: (part: AcknowledgedPart) => void | Promise<void>;
  readonly onRetry?: (event: UploadRetryEvent) => void;
  /** Continue an interrupted upload (docs/failure-model.md, "Resume"). */
  readonly resume?: UploadResume;
  /**
   * On failure, leave open the multipart upload of the first incomplete chunk when it
   * has acknowledged parts (a resume record names it) instead of aborting it.
   */
  readonly keepOpenUpload?: boolean;
  /**
   * How long a failed or stopped upload lets the calls it does not cut at once still take
   * (default 60 s): CreateMultipartUpload, CompleteMultipartUpload and the checks after
   * it, and the aborts of its open multipart uploads. An upload not aborted by then is
   * listed in the error's `cleanupErrors`; a later run's stale-upload cleanup removes it.
   */
  readonly stopGraceMs?: number;
}

/** A part S3 acknowledged, with the upload it belongs to. */
export interface AcknowledgedPart extends UploadedPart {
  readonly chunkIndex: number;
  readonly key: string;
  readonly uploadId: string;
  readonly etag: string;
}

/** What an interrupted upload of the same source left: proven by re-reading the source, not uploaded again. */
export interface UploadResume {
  /** The chunks it completed, from the first, in order. */
  readonly chunks: readonly UploadedChunk[];
  /**
   * The next chunk's open multipart upload and its acknowledged parts (unencoded only).
   * Checked with ListParts before reading: if the store no longer holds them, the upload
   * is aborted and that chunk starts over (`onResumeNotice` says why).
   */
  readonly openUpload?: { readonly key: string; readonly uploadId: string; readonly parts: readonly AcknowledgedPartRecord[] };
  readonly onResumeNotice?: (message: string) => void;
}

export type AcknowledgedPartRecord = UploadedPart & { readonly etag: string };

export interface UploadedPart {
  /** 1-based, within its chunk object. */
  readonly number: number;
  readonly size: number;
  /** Hex SHA-256 of the part's bytes. */
  readonly sha256: string;
}

export interface UploadedChunk {
  readonly key: string;
  /** Bytes stored. */
  readonly size: number;
  /** Hex SHA-256 of the chunk object's bytes. */
  readonly sha256: string;
  /** Bytes of the send stream the chunk holds, and their SHA-256: `size` and `sha256` unless encoded. */
  readonly plainSize: number;
  readonly plainSha256: string;
  /** The ETag CompleteMultipartUpload returned, without quotes (`<md5 of part md5s>-<parts>` on AWS). */
  readonly etag: string;
  readonly parts: readonly UploadedPart[];
}

export interface ChunkedUploadResult {
  /** In stream order. Empty when the source was empty: no object is written then. */
  readonly chunks: readonly UploadedChunk[];
  /** Bytes of the source (the send stream). */
  readonly totalBytes: number;
  /** Bytes stored: chunk sizes summed (totalBytes unless encoded). */
  readonly storedBytes: number;
  /** Hex SHA-256 of the whole source. */
  readonly streamSha256: string;
  readonly partCount: number;
  /** Retried S3 calls, summed over the run. */
  readonly retries: number;
  /** Bytes of the source a resume proved already stored (whole chunks and open-upload parts) and did not send. */
  readonly resumedBytes: number;
}
