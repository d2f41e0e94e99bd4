import { S3ServiceException } from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';

/** A short reason for an S3 failure: the S3 error name and HTTP status, or the message. Never credentials. */
export function describeS3Error(cause: unknown): string {
  if (cause instanceof S3ServiceException) return `${cause.name} (HTTP ${cause.$metadata.httpStatusCode ?? '?'})`;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Whether `error` is an S3 error response with one of these names (e.g. NoSuchUpload). */
export function isS3Error(error: unknown, ...names: readonly string[]): boolean {
  return error instanceof S3ServiceException && names.includes(error.name);
}

/**
 * S3-compatible stores (Ceph RGW without TLS or a key source, for one) refuse SSE-S3
 * with 400 InvalidRequest/InvalidArgument; say which setting to look at.
 */
export function sseHint(sse: Config['s3']['sse'], error: unknown): string | undefined {
  return sse === 'AES256' && isS3Error(error, 'InvalidRequest', 'InvalidArgument')
    ? 'the store may refuse server-side encryption (x-amz-server-side-encryption: AES256); check its SSE support or the s3.sse setting'
    : undefined;
}
