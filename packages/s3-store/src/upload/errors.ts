import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';
import { describeS3Error } from '../s3-errors';
import type { UploadedChunk } from './types';

/** Chunk, part or spool settings break an S3 limit; nothing was read or sent. */
export class UploadLimitError extends BtrfsToS3Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`upload settings break S3 limits:\n${problems.map((problem) => `  ${problem}`).join('\n')}`, { exitCode: ExitCode.Usage });
    this.problems = problems;
  }
}

/** What S3 holds for a multipart upload differs from what was sent; completing it would store a corrupt chunk. */
export class PartMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartMismatchError';
  }
}

/** The spool directory ran out of space (ENOSPC/EDQUOT). */
export class SpoolFullError extends BtrfsToS3Error {
  constructor(dir: string, cause: unknown) {
    super(
      `spool directory ${dir} is full (global.spool_dir); free space there, lower global.spool_size_bytes or disable s3.spool_enabled`,
      { exitCode: ExitCode.Fatal, cause },
    );
  }
}

/** Where an upload failed: the S3 call (or `read` for the source) and the part it was for. */
export interface FailurePoint {
  readonly operation: string;
  readonly key: string;
  /** Absent for calls about the whole object (CreateMultipartUpload, CompleteMultipartUpload). */
  readonly partNumber?: number;
}

export interface ChunkUploadErrorDetails extends FailurePoint {
  readonly cause: unknown;
  /** A hint naming the setting to check (e.g. s3.sse), when the failure suggests one. */
  readonly hint?: string;
  /**
   * Chunks of this run that were completed before the failure. They stay in the
   * bucket: the caller deletes them or lets remote retention do so (no manifest refers to them).
   */
  readonly completedChunks: readonly UploadedChunk[];
  /** AbortMultipartUpload calls that failed too; stale-upload cleanup on the next run removes those uploads. */
  readonly cleanupErrors: readonly unknown[];
}

/**
 * The streamed upload failed and every multipart upload it had open was aborted
 * (or is listed in `cleanupErrors`). Names the chunk key, the part and the cause.
 */
export class ChunkUploadError extends BtrfsToS3Error {
  readonly key: string;
  readonly partNumber: number | undefined;
  readonly operation: string;
  readonly completedChunks: readonly UploadedChunk[];
  readonly cleanupErrors: readonly unknown[];

  constructor(details: ChunkUploadErrorDetails) {
    const part = details.partNumber === undefined ? '' : ` part ${details.partNumber}`;
    const hint = details.hint === undefined ? '' : `; ${details.hint}`;
    const cleanup =
      details.cleanupErrors.length === 0
        ? ''
        : `; ${details.cleanupErrors.length} multipart upload(s) could not be aborted: ${details.cleanupErrors.map(describeS3Error).join(', ')}`;
    super(
      `upload of chunk s3://…/${details.key}${part} failed in ${details.operation}: ${describeS3Error(details.cause)}${hint}${cleanup}`,
      {
        exitCode: ExitCode.Fatal,
        cause: details.cause,
      },
    );
    this.key = details.key;
    this.partNumber = details.partNumber;
    this.operation = details.operation;
    this.completedChunks = details.completedChunks;
    this.cleanupErrors = details.cleanupErrors;
  }
}

/**
 * A resumed upload's re-read of the source differs from what the interrupted run
 * recorded (another stream, a changed part): nothing of it may be published, and the
 * caller starts the backup afresh.
 */
export class ResumeMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ResumeMismatchError';
  }
}
