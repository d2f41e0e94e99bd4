import type { ServerSideEncryption } from '@aws-sdk/client-s3';
import type { Config } from '@org/btrfs-s3-core';

/** The `[s3]` keys that choose server-side encryption. */
export type SseConfig = Pick<Config['s3'], 'sse' | 'sse_kms_key_id'>;

/**
 * The SSE parameters of every PutObject and CreateMultipartUpload: SSE-S3 (`AES256`),
 * SSE-KMS (`aws:kms`, naming `s3.sse_kms_key_id` when set; without it the store uses the
 * bucket's default key), or none. UploadPart carries none: S3 takes a multipart upload's
 * encryption from its CreateMultipartUpload. Reads need none either, for both modes.
 */
export function sseParams(config: SseConfig): { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string } {
  if (config.sse === 'AES256') return { ServerSideEncryption: 'AES256' };
  if (config.sse === 'aws:kms')
    return { ServerSideEncryption: 'aws:kms', ...(config.sse_kms_key_id === undefined ? {} : { SSEKMSKeyId: config.sse_kms_key_id }) };
  return {};
}
