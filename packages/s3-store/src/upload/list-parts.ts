import { ListPartsCommand, type Part } from '@aws-sdk/client-s3';
import { isS3Error } from '../s3-errors';
import type { FailurePoint } from './errors';
import type { MultipartClient, UploadedPart } from './types';

export interface UploadRef {
  readonly client: MultipartClient;
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly signal?: AbortSignal | undefined;
}

type Retry = <T>(point: FailurePoint, call: () => Promise<T>) => Promise<T>;

const unquote = (etag: string) => etag.replace(/^"|"$/g, '');

/** Every part the store holds of a multipart upload (ListParts, page by page). */
export async function listAllParts(upload: UploadRef, retry: Retry): Promise<Part[]> {
  const { client, bucket, key, uploadId, signal } = upload;
  const parts: Part[] = [];
  let marker: string | undefined;
  do {
    const response = await retry({ operation: 'ListParts', key }, () =>
      client.send(
        new ListPartsCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          ...(marker === undefined ? {} : { PartNumberMarker: marker }),
        }),
        signal === undefined ? {} : { abortSignal: signal },
      ),
    );
    parts.push(...(response.Parts ?? []));
    marker = response.IsTruncated === true ? response.NextPartNumberMarker : undefined;
  } while (marker !== undefined);
  return parts;
}

/**
 * Why an interrupted run's open upload cannot be continued, or undefined when the store
 * still holds every part the run recorded, with the recorded size and ETag. Parts beyond
 * the record (acknowledged after its last write) are allowed: they are sent again.
 */
export async function openUploadProblem(
  upload: UploadRef,
  recorded: ReadonlyArray<UploadedPart & { readonly etag: string }>,
  retry: Retry,
): Promise<string | undefined> {
  let stored: Part[];
  try {
    stored = await listAllParts(upload, retry);
  } catch (error) {
    if (isS3Error(error, 'NoSuchUpload') || isS3Error((error as { cause?: unknown }).cause, 'NoSuchUpload'))
      return `the store no longer has the upload of ${upload.key}`;
    throw error;
  }
  const byNumber = new Map(stored.map((part) => [part.PartNumber, part]));
  for (const part of recorded) {
    const held = byNumber.get(part.number);
    if (held === undefined) return `the store lacks part ${part.number} of ${upload.key}`;
    if (held.Size !== part.size || held.ETag === undefined || unquote(held.ETag) !== unquote(part.etag))
      return `the store's part ${part.number} of ${upload.key} is not the one recorded`;
  }
  return undefined;
}
