import { BtrfsToS3Error, ExitCode } from '@org/btrfs-s3-core';
import { describeS3Error, isS3Error } from '../s3-errors';

/** What failed to verify: a part's or chunk's SHA-256, the whole stream's, or a size. */
export type VerificationSubject = 'part sha256' | 'chunk sha256' | 'stream sha256' | 'part size' | 'object size';

export interface VerificationFailure {
  readonly subject: VerificationSubject;
  /** The chunk object; absent for the whole stream. */
  readonly key?: string;
  /** The 1-based part of `key`; absent for a chunk's or the stream's hash. */
  readonly partNumber?: number;
  /** What the manifest says: a hex SHA-256, or a byte count for sizes. */
  readonly expected: string;
  /** What the bytes from S3 give. */
  readonly actual: string;
}

const WITHHELD: Record<VerificationSubject, string> = {
  'part sha256': 'none of the part was passed on',
  'part size': 'none of the part was passed on',
  'object size': 'none of the part was passed on',
  'chunk sha256': "the chunk's last part was not passed on",
  'stream sha256': "the stream's last part was not passed on",
};

function where(failure: Pick<VerificationFailure, 'key' | 'partNumber'>): string {
  if (failure.key === undefined) return 'the whole stream';
  return `s3://…/${failure.key}${failure.partNumber === undefined ? '' : ` part ${failure.partNumber}`}`;
}

/**
 * Bytes from S3 differ from what the manifest recorded. Nothing that failed was passed
 * on: a part's bytes are checked before any is emitted, and a chunk's or the stream's
 * hash before its last part is.
 */
export class ChecksumMismatchError extends BtrfsToS3Error {
  readonly subject: VerificationSubject;
  readonly key: string | undefined;
  readonly partNumber: number | undefined;
  readonly expected: string;
  readonly actual: string;

  constructor(failure: VerificationFailure) {
    const unit = failure.subject.endsWith('size') ? ' bytes' : '';
    super(
      `verification of ${where(failure)} failed: ${failure.subject} expected ${failure.expected}${unit}, got ${failure.actual}${unit}; ${WITHHELD[failure.subject]}`,
      {
        exitCode: ExitCode.Fatal,
      },
    );
    this.subject = failure.subject;
    this.key = failure.key;
    this.partNumber = failure.partNumber;
    this.expected = failure.expected;
    this.actual = failure.actual;
  }
}

function hintFor(cause: unknown): string | undefined {
  if (isS3Error(cause, 'NoSuchKey', 'NotFound')) return 'the object is missing from the bucket';
  if (isS3Error(cause, 'InvalidObjectState')) {
    return 'the object is in an archival storage class and not restored (thawed); run the restore so it requests the thaw (RestoreObject) and waits for it';
  }
  return undefined;
}

/** A ranged GET failed permanently or ran out of retries. Names the object key, the part and the S3 error. */
export class DownloadError extends BtrfsToS3Error {
  readonly key: string;
  readonly partNumber: number;

  constructor(key: string, partNumber: number, cause: unknown) {
    const hint = hintFor(cause);
    super(
      `download of s3://…/${key} part ${partNumber} failed in GetObject: ${describeS3Error(cause)}${hint === undefined ? '' : `; ${hint}`}`,
      {
        exitCode: ExitCode.Fatal,
        cause,
      },
    );
    this.key = key;
    this.partNumber = partNumber;
  }
}

/** The chunk list cannot be downloaded as given (parts missing, misnumbered or not adding up to the chunk). */
export class DownloadPlanError extends BtrfsToS3Error {
  constructor(problem: string) {
    super(`cannot download the manifest's chunks: ${problem}`, { exitCode: ExitCode.Fatal });
  }
}
