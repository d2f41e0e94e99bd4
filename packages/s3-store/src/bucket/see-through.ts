import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutObjectCommand,
  type PutObjectCommandOutput,
  RestoreObjectCommand,
  type RestoreObjectCommandOutput,
} from '@aws-sdk/client-s3';
import type { ArchiveClient } from '../archive/types';
import type { ObjectReadClient } from '../download/types';
import type { ObjectClient } from '../object-store';
import type { RetryOptions } from '../retry';
import { isAccessDenied, isS3Error } from '../s3-errors';
import type { SendOptions } from '../upload/types';
import type { ChunkCheckClient } from './check-chunks';
import { listVersions } from './versions';

/** What the reads pass on, and the listing that finds a hidden key's version. An S3Client satisfies it. */
export interface SeeThroughClient {
  send(command: PutObjectCommand, options?: SendOptions): Promise<PutObjectCommandOutput>;
  send(command: GetObjectCommand, options?: SendOptions): Promise<GetObjectCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: RestoreObjectCommand, options?: SendOptions): Promise<RestoreObjectCommandOutput>;
  send(command: ListObjectVersionsCommand, options?: SendOptions): Promise<ListObjectVersionsCommandOutput>;
}

/**
 * Reads that see through delete markers, for a versioned bucket: in one, a plain
 * DeleteObject (anyone with the credentials can send it) only adds a delete marker; the
 * data stays as a noncurrent version, locked if Object Lock retains it, but a GET or HEAD
 * of the key answers 404. A GetObject, HeadObject or RestoreObject of a key a listing
 * found hidden names the newest data version (VersionId); one that meets a 404 looks
 * the key's versions up (ListObjectVersions) and asks again for the newest that is not
 * a delete marker. A key with no data version left stays a 404. PutObject passes through.
 */
export class DeleteMarkerReads implements ObjectClient, ObjectReadClient, ArchiveClient, ChunkCheckClient {
  /** Key -> the version id a GET without one cannot reach. */
  private readonly hidden = new Map<string, string>();
  private told = false;

  constructor(
    private readonly inner: SeeThroughClient,
    private readonly bucket: string,
    private readonly retry: Omit<RetryOptions, 'isRetryable'>,
    /** Called once, with the first hidden key read: the caller says so to its user. */
    private readonly onFirstHidden: (key: string) => void,
  ) {}

  /** Hidden keys a version listing found: their reads go to the version at once. */
  remember(hidden: ReadonlyMap<string, string>): void {
    for (const [key, versionId] of hidden) this.hidden.set(key, versionId);
  }

  send(command: PutObjectCommand, options?: SendOptions): Promise<PutObjectCommandOutput>;
  send(command: GetObjectCommand, options?: SendOptions): Promise<GetObjectCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: RestoreObjectCommand, options?: SendOptions): Promise<RestoreObjectCommandOutput>;
  send(
    command: PutObjectCommand | GetObjectCommand | HeadObjectCommand | RestoreObjectCommand,
    options?: SendOptions,
  ): Promise<PutObjectCommandOutput | GetObjectCommandOutput | HeadObjectCommandOutput | RestoreObjectCommandOutput> {
    if (command instanceof PutObjectCommand) return this.inner.send(command, options);
    const { input } = command;
    if (command instanceof GetObjectCommand)
      return this.read(
        input,
        () => this.inner.send(command, options),
        (VersionId) => this.inner.send(new GetObjectCommand({ ...input, VersionId }), options),
      );
    if (command instanceof HeadObjectCommand)
      return this.read(
        input,
        () => this.inner.send(command, options),
        (VersionId) => this.inner.send(new HeadObjectCommand({ ...input, VersionId }), options),
      );
    return this.read(
      input,
      () => this.inner.send(command, options),
      (VersionId) => this.inner.send(new RestoreObjectCommand({ ...input, VersionId }), options),
    );
  }

  private async read<T>(
    input: { readonly Key?: string; readonly VersionId?: string },
    plain: () => Promise<T>,
    version: (versionId: string) => Promise<T>,
  ): Promise<T> {
    const key = input.Key;
    if (key === undefined || input.VersionId !== undefined) return plain();
    const known = this.hidden.get(key);
    if (known !== undefined) return version(this.noted(key, known));
    try {
      return await plain();
    } catch (error) {
      // NoSuchKey (GET, RestoreObject) or NotFound (HEAD has no body); not NoSuchBucket.
      if (!isS3Error(error, 'NoSuchKey', 'NotFound')) throw error;
      const found = await this.lookUp(key, error);
      if (found === undefined) throw error;
      return version(this.noted(key, found));
    }
  }

  /** The newest data version of a key whose current version is a delete marker, if any. */
  private async lookUp(key: string, notFound: unknown): Promise<string | undefined> {
    try {
      // The key as a prefix also lists longer keys; the listing's `hidden` is by exact key.
      const listing = await listVersions(this.inner, this.bucket, key, this.retry);
      this.remember(listing.hidden);
      return listing.hidden.get(key);
    } catch (error) {
      // A credential without s3:ListBucketVersions reads as before: the key is not found.
      if (isAccessDenied(error)) throw notFound;
      throw error;
    }
  }

  private noted(key: string, versionId: string): string {
    this.hidden.set(key, versionId);
    if (!this.told) {
      this.told = true;
      this.onFirstHidden(key);
    }
    return versionId;
  }
}
