import { ListMultipartUploadsCommand, ListPartsCommand } from '@aws-sdk/client-s3';
import { withRetry, type RetryOptions } from './retry';
import { isS3Error } from './s3-errors';
import { S3StoreError } from './object-store';
import type { MultipartClient } from './upload/types';

/** An incomplete multipart upload as ListMultipartUploads shows it. */
export interface OpenUpload {
  readonly key: string;
  readonly uploadId: string;
  readonly initiated: Date;
}

/** An open upload and when it last moved: its newest part's LastModified, or its start when it has no part. */
export interface UploadActivity extends OpenUpload {
  readonly lastActivity: Date;
  readonly parts: number;
}

/** Retry settings and signal of the list calls (defaults as withRetry). */
export type ListingOptions = Omit<RetryOptions, 'isRetryable'>;

/**
 * Every incomplete multipart upload under `prefix`, every page of the listing.
 * Throws S3StoreError naming the prefix when a page fails after retries.
 */
export async function listOpenUploads(
  client: MultipartClient,
  bucket: string,
  prefix: string,
  options: ListingOptions = {},
): Promise<OpenUpload[]> {
  const uploads: OpenUpload[] = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const markers = {
      ...(keyMarker === undefined ? {} : { KeyMarker: keyMarker }),
      ...(uploadIdMarker === undefined ? {} : { UploadIdMarker: uploadIdMarker }),
    };
    const page = await withRetry(
      () => client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, ...markers })),
      options,
    ).catch((error: unknown) => {
      throw new S3StoreError('ListMultipartUploads', prefix, error);
    });
    for (const upload of page.Uploads ?? []) {
      // An entry missing these can be neither aborted (that needs key and id) nor dated.
      if (upload.Key === undefined || upload.UploadId === undefined || upload.Initiated === undefined) continue;
      uploads.push({ key: upload.Key, uploadId: upload.UploadId, initiated: upload.Initiated });
    }
    if (page.IsTruncated !== true) return uploads;
    // Both markers: several uploads of one key may straddle a page boundary.
    keyMarker = page.NextKeyMarker;
    uploadIdMarker = page.NextUploadIdMarker;
    if (keyMarker === undefined)
      throw new S3StoreError('ListMultipartUploads', prefix, new Error('truncated listing without NextKeyMarker'));
  }
}

/**
 * The open uploads under `prefix` with when each last moved (one ListParts listing per
 * upload): an upload's start says nothing of a chunk still receiving parts hours later,
 * its newest part does. An upload that vanished meanwhile is left out.
 * Throws S3StoreError naming the prefix or key of the call that failed after retries.
 */
export async function uploadActivity(
  client: MultipartClient,
  bucket: string,
  prefix: string,
  options: ListingOptions = {},
): Promise<UploadActivity[]> {
  const activity: UploadActivity[] = [];
  for (const upload of await listOpenUploads(client, bucket, prefix, options)) {
    const parts = await listPartTimes(client, bucket, upload, options);
    if (parts === undefined) continue;
    const newest = Math.max(upload.initiated.getTime(), ...parts.map((time) => time.getTime()));
    activity.push({ ...upload, lastActivity: new Date(newest), parts: parts.length });
  }
  return activity;
}

/** Each part's LastModified, every page; undefined when the upload is gone (completed or aborted meanwhile). */
async function listPartTimes(
  client: MultipartClient,
  bucket: string,
  upload: OpenUpload,
  options: ListingOptions,
): Promise<Date[] | undefined> {
  const times: Date[] = [];
  let marker: string | undefined;
  do {
    const input = {
      Bucket: bucket,
      Key: upload.key,
      UploadId: upload.uploadId,
      ...(marker === undefined ? {} : { PartNumberMarker: marker }),
    };
    const page = await withRetry(async () => {
      try {
        return await client.send(new ListPartsCommand(input));
      } catch (error) {
        if (isS3Error(error, 'NoSuchUpload')) return undefined;
        throw error;
      }
    }, options).catch((error: unknown) => {
      throw new S3StoreError('ListParts', upload.key, error);
    });
    if (page === undefined) return undefined;
    for (const part of page.Parts ?? []) if (part.LastModified !== undefined) times.push(part.LastModified);
    marker = page.IsTruncated === true ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined);
  return times;
}
