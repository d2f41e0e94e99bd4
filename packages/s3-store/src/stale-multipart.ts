import { AbortMultipartUploadCommand } from '@aws-sdk/client-s3';
import { withRetry } from './retry';
import { isS3Error } from './s3-errors';
import { S3StoreError } from './object-store';
import { type ListingOptions, listOpenUploads, type OpenUpload } from './open-uploads';
import type { MultipartClient } from './upload/types';

export type AbortedUpload = OpenUpload;

/** Retry settings for the list and abort calls (defaults as withRetry). */
export type StaleUploadOptions = ListingOptions;

/** Decides, for one listed upload, whether it is to be aborted. */
export type StaleUploadTest = (upload: AbortedUpload) => boolean;

/**
 * Aborts every incomplete multipart upload under `prefix` that was initiated before
 * `stale` (a Date) or that `stale` (a function) picks. Incomplete uploads are billed
 * until aborted, and a failed run leaves them behind if its own abort could not reach
 * S3. Pass the current run's start time: uploads started since then may belong to this
 * run (the host lock keeps other runs out). One listing serves any number of rules,
 * through the function form.
 *
 * Returns what was aborted; an upload that vanished meanwhile is skipped, not an error.
 * Throws S3StoreError naming the prefix or key of the first call that failed after retries.
 */
export async function abortStaleMultipartUploads(
  client: MultipartClient,
  bucket: string,
  prefix: string,
  stale: Date | StaleUploadTest,
  options: StaleUploadOptions = {},
  /** The uploads under `prefix` as the caller just listed them (listOpenUploads); listed here when absent. */
  listed?: readonly OpenUpload[],
): Promise<AbortedUpload[]> {
  const isStale: StaleUploadTest = stale instanceof Date ? (upload) => upload.initiated.getTime() < stale.getTime() : stale;
  const picked = (listed ?? (await listOpenUploads(client, bucket, prefix, options))).filter(
    (upload) => upload.key.startsWith(prefix) && isStale(upload),
  );

  const aborted: AbortedUpload[] = [];
  for (const upload of picked) {
    const gone = await withRetry(async () => {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }));
        return false;
      } catch (error) {
        if (isS3Error(error, 'NoSuchUpload')) return true;
        throw error;
      }
    }, options).catch((error: unknown) => {
      throw new S3StoreError('AbortMultipartUpload', upload.key, error);
    });
    if (!gone) aborted.push(upload);
  }
  return aborted;
}
