import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import type { RemoteObject } from '@org/btrfs-s3-core';
import { S3StoreError } from '../object-store';
import { type RetryOptions, withRetry } from '../retry';
import type { SendOptions } from '../upload/types';

/** The call the listing makes. An S3Client from createS3Client satisfies it; unit tests pass a fake. */
export interface ListingClient {
  send(command: ListObjectsV2Command, options?: SendOptions): Promise<ListObjectsV2CommandOutput>;
}

/** Retry settings and the signal for each page (defaults as withRetry). */
export type ListingOptions = Omit<RetryOptions, 'isRetryable'>;

/**
 * Every object under `prefix`, following ListObjectsV2's continuation tokens, in key
 * order, with its size, LastModified and storage class (STANDARD when the store leaves
 * it out, as S3 does for STANDARD). Each page is retried on its own.
 *
 * Throws S3StoreError naming the prefix when a page fails after retries, or when an
 * entry lacks its size or LastModified (prune judges ages by it, so it is not guessed).
 */
export async function listObjects(
  client: ListingClient,
  bucket: string,
  prefix: string,
  options: ListingOptions = {},
): Promise<RemoteObject[]> {
  const objects: RemoteObject[] = [];
  let token: string | undefined;
  do {
    const input = { Bucket: bucket, Prefix: prefix, ...(token === undefined ? {} : { ContinuationToken: token }) };
    const page = await withRetry(() => client.send(new ListObjectsV2Command(input), { abortSignal: options.signal }), options).catch(
      (error: unknown) => {
        throw new S3StoreError('ListObjectsV2', prefix, error);
      },
    );
    for (const entry of page.Contents ?? []) {
      if (entry.Key === undefined) continue;
      if (entry.Size === undefined || entry.LastModified === undefined) {
        throw new S3StoreError(
          'ListObjectsV2',
          prefix,
          new Error(`the listing of ${entry.Key} has no ${entry.Size === undefined ? 'Size' : 'LastModified'}`),
        );
      }
      objects.push({ key: entry.Key, size: entry.Size, lastModified: entry.LastModified, storageClass: entry.StorageClass ?? 'STANDARD' });
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    if (page.IsTruncated === true && token === undefined)
      throw new S3StoreError('ListObjectsV2', prefix, new Error('truncated listing without NextContinuationToken'));
  } while (token !== undefined);
  return objects;
}
