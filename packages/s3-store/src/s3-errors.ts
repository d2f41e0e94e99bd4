import { S3ServiceException } from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';

/** A short reason for an S3 failure: the S3 error name and HTTP status, or the message. Never credentials. */
export function describeS3Error(cause: unknown): string {
  if (cause instanceof S3ServiceException && isS3Error(cause, 'XAmzContentSHA256Mismatch', 'BadDigest'))
    return `${cause.name} (HTTP ${cause.$metadata.httpStatusCode ?? '?'}): the store refused bytes that do not match the SHA-256 recorded when they were read (damaged in memory, on the spool disk or on the way); nothing damaged was stored`;
  if (cause instanceof S3ServiceException) return `${cause.name} (HTTP ${cause.$metadata.httpStatusCode ?? '?'})`;
  return cause instanceof Error ? cause.message : String(cause);
}

/** Whether `error` is an S3 error response with one of these names (e.g. NoSuchUpload). */
export function isS3Error(error: unknown, ...names: readonly string[]): boolean {
  return error instanceof S3ServiceException && names.includes(error.name);
}

/**
 * S3-compatible stores (Ceph RGW without TLS or a key source, for one) refuse SSE-S3 and
 * SSE-KMS with 400 InvalidRequest/InvalidArgument (AWS refuses a KMS key the credential
 * may not use with 403 AccessDenied, which names KMS itself); say which setting to look at.
 */
export function sseHint(sse: Config['s3']['sse'], error: unknown): string | undefined {
  if (sse === 'none' || !isS3Error(error, 'InvalidRequest', 'InvalidArgument')) return undefined;
  const keyHint = sse === 'aws:kms' ? ' and s3.sse_kms_key_id' : '';
  return `the store may refuse server-side encryption (x-amz-server-side-encryption: ${sse}); check its SSE support or the s3.sse${keyHint} setting`;
}

/**
 * Whether the store refused a call for lack of permission (403 AccessDenied), on the
 * error itself, down its `cause` chain, or for every key of a DeleteObjects: what a
 * credential without `s3:DeleteObject` meets when it prunes.
 */
export function isAccessDenied(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; typeof current === 'object' && current !== null && depth < 10; depth += 1) {
    if (current instanceof Error && current.name === 'AccessDenied') return true;
    if ('$metadata' in current && typeof current.$metadata === 'object' && current.$metadata !== null) {
      if ('httpStatusCode' in current.$metadata && current.$metadata.httpStatusCode === 403) return true;
    }
    if ('failures' in current && Array.isArray(current.failures) && current.failures.length > 0) {
      return current.failures.every(
        (failure: unknown) => typeof failure === 'object' && failure !== null && 'code' in failure && failure.code === 'AccessDenied',
      );
    }
    current = 'cause' in current ? current.cause : undefined;
  }
  return false;
}
