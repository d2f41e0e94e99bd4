import { ListObjectVersionsCommand, type ListObjectVersionsCommandOutput } from '@aws-sdk/client-s3';
import type { RemoteObject } from '@org/btrfs-s3-core';
import { S3StoreError } from '../object-store';
import { type RetryOptions, withRetry } from '../retry';
import type { SendOptions } from '../upload/types';

/** The call the version listing makes. An S3Client satisfies it; unit tests pass a fake. */
export interface VersionListingClient {
  send(command: ListObjectVersionsCommand, options?: SendOptions): Promise<ListObjectVersionsCommandOutput>;
}

/** One version of a key in a versioned bucket: data, or a delete marker. */
export interface ObjectVersion {
  readonly key: string;
  /** `null` (the string) for an object written while versioning was off. */
  readonly versionId: string;
  /** A delete marker holds no data; a plain DeleteObject adds one, and GET then answers NoSuchKey. */
  readonly deleteMarker: boolean;
  /** The key's current version: what a GET without a version id reads. */
  readonly isLatest: boolean;
  /** 0 for a delete marker. */
  readonly size: number;
  readonly lastModified: Date;
  readonly storageClass: string;
}

/** What the bucket holds under a prefix, version by version. */
export interface VersionListing {
  /** Every version and delete marker, data versions of each key newest first. */
  readonly versions: readonly ObjectVersion[];
  /**
   * The newest data version of each key, in key order: what ListObjectsV2 shows, plus
   * the keys whose current version is a delete marker (their newest data version).
   */
  readonly objects: readonly RemoteObject[];
  /** Key -> version id of the `objects` that a GET without a version id cannot read (a delete marker is current). */
  readonly hidden: ReadonlyMap<string, string>;
}

/**
 * Every version and delete marker under `prefix` (ListObjectVersions, following
 * NextKeyMarker and NextVersionIdMarker), each page retried on its own. S3 lists a key's
 * versions newest first, and its data versions and delete markers in two lists; within
 * each list the order is kept. Throws S3StoreError naming the prefix.
 */
export async function listVersions(
  client: VersionListingClient,
  bucket: string,
  prefix: string,
  options: Omit<RetryOptions, 'isRetryable'> = {},
): Promise<VersionListing> {
  const versions: ObjectVersion[] = [];
  let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
  for (;;) {
    const input = { Bucket: bucket, Prefix: prefix, ...marker };
    const page = await withRetry(() => client.send(new ListObjectVersionsCommand(input), { abortSignal: options.signal }), options).catch(
      (error: unknown) => {
        throw new S3StoreError('ListObjectVersions', prefix, error);
      },
    );
    for (const entry of page.Versions ?? []) versions.push(versionOf(prefix, entry, false));
    for (const entry of page.DeleteMarkers ?? []) versions.push(versionOf(prefix, { ...entry, Size: 0 }, true));
    if (page.IsTruncated !== true) break;
    if (page.NextKeyMarker === undefined)
      throw new S3StoreError('ListObjectVersions', prefix, new Error('truncated listing without NextKeyMarker'));
    marker = {
      KeyMarker: page.NextKeyMarker,
      ...(page.NextVersionIdMarker === undefined ? {} : { VersionIdMarker: page.NextVersionIdMarker }),
    };
  }
  return { versions, ...newestReadable(versions) };
}

interface ListedEntry {
  readonly Key?: string;
  readonly VersionId?: string;
  readonly IsLatest?: boolean;
  readonly Size?: number;
  readonly LastModified?: Date;
  readonly StorageClass?: string;
}

function versionOf(prefix: string, entry: ListedEntry, deleteMarker: boolean): ObjectVersion {
  // Prune judges ages by LastModified and deletes by version id: neither is guessed.
  if (entry.Key === undefined || entry.VersionId === undefined || entry.LastModified === undefined)
    throw new S3StoreError(
      'ListObjectVersions',
      prefix,
      new Error(`a listed version of ${entry.Key ?? '?'} lacks its key, version id or date`),
    );
  return {
    key: entry.Key,
    versionId: entry.VersionId,
    deleteMarker,
    isLatest: entry.IsLatest === true,
    size: entry.Size ?? 0,
    lastModified: entry.LastModified,
    storageClass: entry.StorageClass ?? 'STANDARD',
  };
}

/** The newest data version of each key, and which of them a delete marker hides (pure). */
export function newestReadable(versions: readonly ObjectVersion[]): Pick<VersionListing, 'objects' | 'hidden'> {
  const objects: RemoteObject[] = [];
  const hidden = new Map<string, string>();
  const seen = new Set<string>();
  for (const version of versions) {
    if (version.deleteMarker || seen.has(version.key)) continue;
    seen.add(version.key);
    objects.push({ key: version.key, size: version.size, lastModified: version.lastModified, storageClass: version.storageClass });
    if (!version.isLatest) hidden.set(version.key, version.versionId);
  }
  return { objects, hidden };
}
