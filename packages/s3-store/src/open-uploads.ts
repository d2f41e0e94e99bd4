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

/**
 * An open upload and when it last moved: its newest part's LastModified, or its start
 * when it has no part. Undefined when that cannot be known (the upload completed or was
 * aborted since it was listed, or a part carries no date): the caller must then take the
 * upload as active just now.
 */
export interface UploadActivity extends OpenUpload {
  readonly lastActivity: Date | undefined;
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
 * When each of `uploads` last moved (one ListParts listing per upload, every page): an
 * upload's start says nothing of a chunk still receiving parts hours later, its newest
 * part does. List the uploads before whatever they are compared with (objects), so one
 * that completes in between shows up as a fresh object or as `undefined` here.
 * Throws S3StoreError naming the key of the call that failed after retries.
 */
export async function uploadActivity(
  client: MultipartClient,
  bucket: string,
  uploads: readonly OpenUpload[],
  options: ListingOptions = {},
): Promise<UploadActivity[]> {
  const activity: UploadActivity[] = [];
  for (const upload of uploads) {
    const parts = await listPartTimes(client, bucket, upload, options);
    const known = parts?.every((time) => time !== undefined) === true;
    const newest = known ? Math.max(upload.initiated.getTime(), ...parts.map((time) => time?.getTime() ?? 0)) : undefined;
    activity.push({ ...upload, lastActivity: newest === undefined ? undefined : new Date(newest) });
  }
  return activity;
}

/** Each part's LastModified (undefined where a part has none), every page; undefined when the upload is gone. */
async function listPartTimes(
  client: MultipartClient,
  bucket: string,
  upload: OpenUpload,
  options: ListingOptions,
): Promise<Array<Date | undefined> | undefined> {
  const times: Array<Date | undefined> = [];
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
    for (const part of page.Parts ?? []) times.push(part.LastModified);
    marker = page.IsTruncated === true ? page.NextPartNumberMarker : undefined;
  } while (marker !== undefined);
  return times;
}
