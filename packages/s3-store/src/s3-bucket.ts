import type {
  AbortMultipartUploadCommand,
  AbortMultipartUploadCommandOutput,
  CompleteMultipartUploadCommand,
  CompleteMultipartUploadCommandOutput,
  CreateMultipartUploadCommand,
  CreateMultipartUploadCommandOutput,
  DeleteObjectsCommand,
  DeleteObjectsCommandOutput,
  GetBucketVersioningCommand,
  GetBucketVersioningCommandOutput,
  GetObjectCommand,
  GetObjectCommandOutput,
  GetObjectLockConfigurationCommand,
  GetObjectLockConfigurationCommandOutput,
  GetObjectRetentionCommand,
  GetObjectRetentionCommandOutput,
  HeadObjectCommand,
  HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  ListObjectVersionsCommandOutput,
  ListPartsCommand,
  ListPartsCommandOutput,
  PutObjectCommand,
  PutObjectCommandOutput,
  PutObjectRetentionCommand,
  PutObjectRetentionCommandOutput,
  RestoreObjectCommand,
  RestoreObjectCommandOutput,
  UploadPartCommand,
  UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import { mapBounded } from '@org/btrfs-s3-core';
import type { Config, StoredChunk, RemoteObject } from '@org/btrfs-s3-core';
import type { Readable } from 'node:stream';
import { thawObjects } from './archive/thaw';
import type { ArchiveClient, ThawOptions, ThawResult } from './archive/types';
import { type BucketSettings, type ListingProbe, probeListing, readBucketSettings, readVersioning } from './bucket/bucket-settings';
import { type ChunkCheckClient, type ChunkCheckOptions, type ChunkCheckResult, checkChunks } from './bucket/check-chunks';
import { deleteObjects, deleteVersions, type KeyFailure, DeleteObjectsError } from './bucket/delete-objects';
import { listObjects } from './bucket/listing';
import { readTextIfExists } from './bucket/read-text';
import { DeleteMarkerReads } from './bucket/see-through';
import { listVersions, type ObjectVersion, type VersionListing } from './bucket/versions';
import { downloadVerifiedStream } from './download/download-verified-stream';
import type { DownloadOptions, DownloadRequest, ObjectReadClient } from './download/types';
import { extendRetention, objectLockProblem, ObjectLockUnavailableError, readRetention, type RetentionExtension } from './lock/bucket-lock';
import { type ObjectClient, type ObjectInfo, type PutOptions, S3ObjectStore } from './object-store';
import { type RetryConfig, retryPolicyFromConfig, type RetrySettings } from './retry';
import { graceAfter, STOP_GRACE_MS } from './stop-grace';
import { type AbortedUpload, abortStaleMultipartUploads, type StaleUploadTest } from './stale-multipart';
import { listOpenUploads, type OpenUpload, type UploadActivity, uploadActivity } from './open-uploads';
import type { ChunkedUploadOptions, ChunkedUploadRequest, ChunkedUploadResult, SendOptions } from './upload/types';
import { uploadChunkedStream } from './upload/upload-chunked-stream';

/**
 * Every S3 call the project makes, typed as the narrow client interfaces of each
 * operation type them. An S3Client from createS3Client satisfies it, and so does the
 * FakeS3Bucket of `./testing`.
 */
export interface BucketClient {
  send(command: PutObjectCommand, options?: SendOptions): Promise<PutObjectCommandOutput>;
  send(command: GetObjectCommand, options?: SendOptions): Promise<GetObjectCommandOutput>;
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: ListObjectsV2Command, options?: SendOptions): Promise<ListObjectsV2CommandOutput>;
  send(command: DeleteObjectsCommand, options?: SendOptions): Promise<DeleteObjectsCommandOutput>;
  send(command: RestoreObjectCommand, options?: SendOptions): Promise<RestoreObjectCommandOutput>;
  send(command: CreateMultipartUploadCommand, options?: SendOptions): Promise<CreateMultipartUploadCommandOutput>;
  send(command: UploadPartCommand, options?: SendOptions): Promise<UploadPartCommandOutput>;
  send(command: ListPartsCommand, options?: SendOptions): Promise<ListPartsCommandOutput>;
  send(command: CompleteMultipartUploadCommand, options?: SendOptions): Promise<CompleteMultipartUploadCommandOutput>;
  send(command: AbortMultipartUploadCommand, options?: SendOptions): Promise<AbortMultipartUploadCommandOutput>;
  send(command: ListMultipartUploadsCommand, options?: SendOptions): Promise<ListMultipartUploadsCommandOutput>;
  send(command: GetBucketVersioningCommand, options?: SendOptions): Promise<GetBucketVersioningCommandOutput>;
  send(command: GetObjectLockConfigurationCommand, options?: SendOptions): Promise<GetObjectLockConfigurationCommandOutput>;
  send(command: ListObjectVersionsCommand, options?: SendOptions): Promise<ListObjectVersionsCommandOutput>;
  send(command: GetObjectRetentionCommand, options?: SendOptions): Promise<GetObjectRetentionCommandOutput>;
  send(command: PutObjectRetentionCommand, options?: SendOptions): Promise<PutObjectRetentionCommandOutput>;
}

/** The `[s3]` keys a bucket handle uses: the bucket, SSE, Object Lock and the retry policy (`config.s3` fits). */
export type S3BucketConfig = Pick<Config['s3'], 'bucket' | 'sse' | 'sse_kms_key_id' | 'object_lock'> & RetryConfig;

/** The reads of a handle: the client itself, or DeleteMarkerReads over it. */
type BucketReads = ObjectClient & ObjectReadClient & ArchiveClient & ChunkCheckClient;

/** One object version that Object Lock kept from a delete. */
export interface LockedVersion {
  readonly key: string;
  readonly versionId: string;
  readonly retainUntil: Date;
}

/** What deleteVersions did. */
export interface VersionDeletion {
  /** Versions and delete markers deleted. */
  readonly deleted: number;
  /** Versions the store refused to delete because Object Lock retains them: left, not failed. */
  readonly locked: readonly LockedVersion[];
}

export interface S3BucketOptions {
  /**
   * The run's signal. Listing, deleting, the chunk check, the thaw, the stale-upload
   * cleanup, the upload and the download stop when it aborts. The whole-object calls
   * (put, get, exists, head, readTextIfExists) are let finish: they are small, and the
   * callers check the signal between them (a backup's last abort point is just before
   * its pointer PUT); but only for `stopGraceMs`, so a store that stopped answering
   * cannot hold a stopped run for the minutes its timeouts and retries would take.
   */
  readonly signal?: AbortSignal;
  /** How long a whole-object call in flight may still take once `signal` aborted (default 60 s). */
  readonly stopGraceMs?: number;
  /** Test hooks (`sleep`, `random`) and overrides of the config's retry policy. */
  readonly retry?: RetrySettings;
  /**
   * Set: reads and listings see through delete markers (a versioned bucket's answer to a
   * plain DeleteObject): a key whose current version is a delete marker reads as its
   * newest data version. Called once, with the first key read so. throughDeleteMarkers
   * sets it for a bucket whose versioning is on.
   */
  readonly onHiddenVersion?: (key: string) => void;
}

/** The uploader's tuning knobs; the bucket supplies the retry policy and the signal. */
export type BucketUploadOptions = Omit<ChunkedUploadOptions, 'retry' | 'signal'>;
/** The download's tuning knobs; the bucket supplies the retry policy and the signal. */
export type BucketDownloadOptions = Omit<DownloadOptions, 'retry' | 'signal'>;
/** The thaw's settings; the bucket supplies the retry policy and the signal. */
export type BucketThawOptions = Omit<ThawOptions, 'retry' | 'signal'>;
/** What the chunk check reads; the bucket supplies the retry policy and the signal. */
export type BucketCheckOptions = Omit<ChunkCheckOptions, 'retry' | 'signal'>;

/**
 * One bucket, as a run uses it: the client, the bucket name, the SSE mode, the retry
 * policy of `[s3]` and the run's signal, made once and passed everywhere, so no call
 * site rebuilds the retry policy or forgets the signal. Each method is one of the
 * package's operations, whose doc comment states its contract (what is retried, what
 * it throws); the client and the narrow interfaces behind it stay injectable, so the
 * same handle runs on the in-memory FakeS3Bucket in unit tests.
 */
export class S3Bucket {
  private readonly bucket: string;
  private readonly retry: RetrySettings;
  private readonly signal: AbortSignal | undefined;
  private readonly objects: S3ObjectStore;
  /** What every read goes through: the client, or one that sees through delete markers. */
  private readonly reads: BucketReads;
  private readonly seeThrough: DeleteMarkerReads | undefined;
  /** throughDeleteMarkers already read versioning as off: this handle is the answer (an unreadable setting is asked again). */
  private versioningOff = false;

  constructor(
    private readonly client: BucketClient,
    private readonly config: S3BucketConfig,
    private readonly options: S3BucketOptions = {},
  ) {
    this.bucket = config.bucket;
    this.retry = { ...retryPolicyFromConfig(config), ...options.retry };
    this.signal = options.signal;
    const onHidden = options.onHiddenVersion;
    this.seeThrough = onHidden === undefined ? undefined : new DeleteMarkerReads(client, this.bucket, this.requestOptions(), onHidden);
    this.reads = this.seeThrough ?? client;
    this.objects = new S3ObjectStore(this.reads, config, this.retry, graceAfter(this.signal, options.stopGraceMs ?? STOP_GRACE_MS));
  }

  /** Whether reads and listings see through delete markers (onHiddenVersion). */
  get seesThroughDeleteMarkers(): boolean {
    return this.seeThrough !== undefined;
  }

  /**
   * This handle, or, when the bucket's versioning is on (or suspended, with versions
   * left from before), one like it whose reads and listings see through delete markers
   * (onHiddenVersion): what list, verify, restore and prune read with. `say` gets one
   * line the first time a key is read so. A credential that may not read the versioning
   * setting (s3:GetBucketVersioning) gets this handle: it reads as before. Versioning read
   * as off is remembered: asked again (a prune given the run's handle), it answers at once.
   */
  async throughDeleteMarkers(say: (message: string) => void): Promise<S3Bucket> {
    if (this.seeThrough !== undefined || this.versioningOff) return this;
    const versioning = await readVersioning(this.client, this.bucket, this.requestOptions());
    if ('unreadable' in versioning) return this;
    if (versioning.value === 'Off') {
      this.versioningOff = true;
      return this;
    }
    const onHiddenVersion = (key: string) =>
      say(
        `s3://${this.bucket}/${key}: its current version is a delete marker (deleted with this bucket's credentials?); reading its newest version that is not one, here and for every other such object`,
      );
    return new S3Bucket(this.client, this.config, { ...this.options, onHiddenVersion });
  }

  /**
   * PUTs a whole object; every PUT carries the SSE of `s3.sse`, and a `locked` one the
   * retention of `s3.object_lock` (with a Content-MD5) when it is set. With a
   * `condition` it writes only if the key is absent or still has the given ETag; a
   * refusal that is not the store's quirk or this writer's own earlier success is a
   * ConditionalWriteError. Throws S3StoreError otherwise.
   */
  putObject(key: string, body: Buffer | string, options: PutOptions): Promise<void> {
    return this.objects.putObject(key, body, options);
  }

  /** A small object's text and ETag (for a later conditional write), or undefined when it does not exist. */
  async readTextWithEtag(key: string): Promise<{ readonly text: string; readonly etag: string } | undefined> {
    const found = await this.objects.readWithEtag(key);
    return found === undefined ? undefined : { text: found.bytes.toString('utf8'), etag: found.etag };
  }

  /** Streams an object's bytes; only the request is retried. Throws S3StoreError. */
  getObject(key: string): Promise<Readable> {
    return this.objects.getObject(key);
  }

  /** Whether an object exists; a 404 is "no", any other failure is an S3StoreError. */
  objectExists(key: string): Promise<boolean> {
    return this.objects.objectExists(key);
  }

  /** An object's size and storage class. Throws S3StoreError. */
  headObject(key: string): Promise<ObjectInfo> {
    return this.objects.headObject(key);
  }

  /** A small object's content as text (manifests, pointers), or undefined when it does not exist. */
  readTextIfExists(key: string): Promise<string | undefined> {
    return readTextIfExists(this.objects, key);
  }

  /**
   * Several small objects' texts, in the order of `keys` (undefined where absent), read
   * `concurrency` at a time: a listing's manifests cost a round trip per batch rather
   * than one each.
   */
  readTextsIfExist(keys: readonly string[], concurrency: number): Promise<(string | undefined)[]> {
    return mapBounded(keys, concurrency, (key) => readTextIfExists(this.objects, key));
  }

  /**
   * Every object under `prefix` with its size, LastModified and storage class, in key order
   * (listObjects). Seeing through delete markers, the newest data version of every key,
   * hidden ones included (listVersions).
   */
  async listObjects(prefix: string): Promise<RemoteObject[]> {
    if (this.seeThrough === undefined) return listObjects(this.client, this.bucket, prefix, this.requestOptions());
    return [...(await this.listVersions(prefix)).objects];
  }

  /**
   * Every version and delete marker under `prefix`, and the newest data version of each
   * key (listVersions); later reads of the hidden ones go straight to their version.
   */
  async listVersions(prefix: string): Promise<VersionListing> {
    const listing = await listVersions(this.client, this.bucket, prefix, this.requestOptions());
    this.seeThrough?.remember(listing.hidden);
    return listing;
  }

  /** Deletes `keys` in batches of 1000; resolves with the number deleted (deleteObjects). In a versioned bucket this only hides them: see deleteVersions. */
  deleteObjects(keys: readonly string[], options: { readonly onProgress?: (deleted: number) => void } = {}): Promise<number> {
    return deleteObjects(this.client, this.bucket, keys, { ...options, ...this.requestOptions() });
  }

  /**
   * Deletes these versions and delete markers for good, in batches of 1000, in order.
   * A version the store refuses (AccessDenied) whose retention (GetObjectRetention) lasts
   * beyond now is reported in `locked`, not thrown: Object Lock doing its job. Any other
   * refusal, such as a credential without s3:DeleteObjectVersion, throws DeleteObjectsError.
   */
  async deleteVersions(versions: readonly Pick<ObjectVersion, 'key' | 'versionId' | 'deleteMarker'>[]): Promise<VersionDeletion> {
    const { deleted, refused } = await deleteVersions(this.client, this.bucket, versions, this.requestOptions());
    const locked: LockedVersion[] = [];
    const failed: KeyFailure[] = [];
    const now = Date.now();
    for (const failure of refused) {
      const version = versions.find((entry) => entry.key === failure.key && (failure.versionId ?? entry.versionId) === entry.versionId);
      const retention =
        version === undefined || version.deleteMarker
          ? undefined
          : await readRetention(this.client, this.bucket, version.key, version.versionId, this.requestOptions());
      if (version !== undefined && retention !== undefined && retention.retainUntil.getTime() > now)
        locked.push({ key: version.key, versionId: version.versionId, retainUntil: retention.retainUntil });
      else failed.push(failure);
    }
    if (failed.length > 0) throw new DeleteObjectsError(failed);
    return { deleted, locked };
  }

  /**
   * Refuses `s3.object_lock` on a bucket that cannot hold locked objects (or whose
   * settings the credential may not read), with ObjectLockUnavailableError (exit 2);
   * without `s3.object_lock`, does nothing and sends nothing. Before a run's first write.
   */
  async assertObjectLockReady(): Promise<void> {
    if (this.config.object_lock === undefined) return;
    const problem = objectLockProblem(await this.readSettings());
    if (problem !== undefined) throw new ObjectLockUnavailableError(this.bucket, problem);
  }

  /**
   * Keeps `keys` locked until `s3.object_lock.days` after now, setting the retention only
   * where it ends sooner (extendRetention); without `s3.object_lock`, sends nothing.
   */
  extendRetention(keys: readonly string[], now: Date = new Date()): Promise<RetentionExtension> {
    const lock = this.config.object_lock;
    if (lock === undefined) return Promise.resolve({ checked: 0, extended: 0 });
    return extendRetention(this.client, this.bucket, keys, lock, now, this.requestOptions());
  }

  /** Checks a manifest's chunk objects without a restore: present, sized, and re-hashed as `reads` asks (checkChunks). */
  checkChunks(chunks: readonly StoredChunk[], streamSha256: string | undefined, options: BucketCheckOptions): Promise<ChunkCheckResult> {
    return checkChunks(this.reads, this.bucket, chunks, streamSha256, { ...options, ...this.runOptions() });
  }

  /** Makes archived objects readable, requesting and awaiting their thaw (thawObjects). */
  thawObjects(keys: readonly string[], options: BucketThawOptions = {}): Promise<ThawResult> {
    return thawObjects(this.reads, this.bucket, keys, { ...options, ...this.runOptions() });
  }

  /**
   * Aborts the incomplete multipart uploads under `prefix` that `stale` picks
   * (abortStaleMultipartUploads), from `listed` when the caller listed them already.
   */
  abortStaleMultipartUploads(prefix: string, stale: Date | StaleUploadTest, listed?: readonly OpenUpload[]): Promise<AbortedUpload[]> {
    return abortStaleMultipartUploads(this.client, this.bucket, prefix, stale, this.requestOptions(), listed);
  }

  /** The incomplete multipart uploads under `prefix`, every page (listOpenUploads). */
  listOpenUploads(prefix: string): Promise<OpenUpload[]> {
    return listOpenUploads(this.client, this.bucket, prefix, this.requestOptions());
  }

  /** When each of `uploads` last received a part (uploadActivity; undefined: unknown, take it as now). */
  uploadActivity(uploads: readonly OpenUpload[]): Promise<UploadActivity[]> {
    return uploadActivity(this.client, this.bucket, uploads, this.requestOptions());
  }

  /** Versioning and Object Lock, each as read or why it could not be (readBucketSettings). */
  readSettings(): Promise<BucketSettings> {
    return readBucketSettings(this.client, this.bucket, this.requestOptions());
  }

  /** Lists at most one key under `prefix`, timing the request and reading the store's clock (probeListing). */
  probeListing(prefix: string): Promise<ListingProbe> {
    return probeListing(this.client, this.bucket, prefix, this.requestOptions());
  }

  /**
   * Streams `request.source` into chunk objects with the bucket's SSE, and for a `locked`
   * request the retention of `s3.object_lock` when it is set (uploadChunkedStream).
   */
  uploadChunkedStream(request: ChunkedUploadRequest, options: BucketUploadOptions = {}): Promise<ChunkedUploadResult> {
    const { locked, ...what } = request;
    const { sse, sse_kms_key_id: sseKmsKeyId, object_lock: objectLock } = this.config;
    return uploadChunkedStream(
      {
        ...what,
        client: this.client,
        bucket: this.bucket,
        sse,
        ...(sseKmsKeyId === undefined ? {} : { sseKmsKeyId }),
        ...(locked === true && objectLock !== undefined ? { objectLock } : {}),
      },
      { ...options, ...this.runOptions() },
    );
  }

  /** The stream a manifest's chunks describe, every byte verified before it is passed on (downloadVerifiedStream). */
  downloadVerifiedStream(request: DownloadRequest, options: BucketDownloadOptions = {}): Readable {
    return downloadVerifiedStream({ ...request, client: this.reads, bucket: this.bucket }, { ...options, ...this.runOptions() });
  }

  /** For the operations that retry each request with withRetry's options directly. */
  private requestOptions(): RetrySettings & { signal?: AbortSignal } {
    return { ...this.retry, ...this.signalOption() };
  }

  /** For the operations that take the retry settings and the signal as two options. */
  private runOptions(): { retry: RetrySettings; signal?: AbortSignal } {
    return { retry: this.retry, ...this.signalOption() };
  }

  private signalOption(): { signal?: AbortSignal } {
    return this.signal === undefined ? {} : { signal: this.signal };
  }
}
