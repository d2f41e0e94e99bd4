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
  HeadObjectCommand,
  HeadObjectCommandOutput,
  ListMultipartUploadsCommand,
  ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  ListObjectsV2CommandOutput,
  ListPartsCommand,
  ListPartsCommandOutput,
  PutObjectCommand,
  PutObjectCommandOutput,
  RestoreObjectCommand,
  RestoreObjectCommandOutput,
  UploadPartCommand,
  UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import type { Config, StoredChunk, RemoteObject } from '@org/btrfs-s3-core';
import type { Readable } from 'node:stream';
import { thawObjects } from './archive/thaw';
import type { ThawOptions, ThawResult } from './archive/types';
import { type BucketSettings, type ListingProbe, probeListing, readBucketSettings } from './bucket/bucket-settings';
import { type ChunkCheckOptions, type ChunkCheckResult, checkChunks } from './bucket/check-chunks';
import { deleteObjects } from './bucket/delete-objects';
import { listObjects } from './bucket/listing';
import { readTextIfExists } from './bucket/read-text';
import { downloadVerifiedStream } from './download/download-verified-stream';
import type { DownloadOptions, DownloadRequest } from './download/types';
import { type ObjectInfo, type PutOptions, S3ObjectStore } from './object-store';
import { type RetryConfig, retryPolicyFromConfig, type RetrySettings } from './retry';
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
}

/** The `[s3]` keys a bucket handle uses: the bucket, SSE, and the retry policy (`config.s3` fits). */
export type S3BucketConfig = Pick<Config['s3'], 'bucket' | 'sse'> & RetryConfig;

export interface S3BucketOptions {
  /**
   * The run's signal. Listing, deleting, the chunk check, the thaw, the stale-upload
   * cleanup, the upload and the download stop when it aborts. The whole-object calls
   * (put, get, exists, head, readTextIfExists) do not take it: they are small, and the
   * callers check the signal between them (a backup's last abort point is just before
   * its pointer PUT).
   */
  readonly signal?: AbortSignal;
  /** Test hooks (`sleep`, `random`) and overrides of the config's retry policy. */
  readonly retry?: RetrySettings;
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
  private readonly sse: Config['s3']['sse'];
  private readonly retry: RetrySettings;
  private readonly signal: AbortSignal | undefined;
  private readonly objects: S3ObjectStore;

  constructor(
    private readonly client: BucketClient,
    config: S3BucketConfig,
    options: S3BucketOptions = {},
  ) {
    this.bucket = config.bucket;
    this.sse = config.sse;
    this.retry = { ...retryPolicyFromConfig(config), ...options.retry };
    this.signal = options.signal;
    this.objects = new S3ObjectStore(client, config, this.retry);
  }

  /**
   * PUTs a whole object; every PUT carries SSE-S3 unless `s3.sse = "none"`. With a
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

  /** Every object under `prefix` with its size, LastModified and storage class, in key order (listObjects). */
  listObjects(prefix: string): Promise<RemoteObject[]> {
    return listObjects(this.client, this.bucket, prefix, this.requestOptions());
  }

  /** Deletes `keys` in batches of 1000; resolves with the number deleted (deleteObjects). */
  deleteObjects(keys: readonly string[], options: { readonly onProgress?: (deleted: number) => void } = {}): Promise<number> {
    return deleteObjects(this.client, this.bucket, keys, { ...options, ...this.requestOptions() });
  }

  /** Checks a manifest's chunk objects without a restore: present, sized, and re-hashed as `reads` asks (checkChunks). */
  checkChunks(chunks: readonly StoredChunk[], streamSha256: string | undefined, options: BucketCheckOptions): Promise<ChunkCheckResult> {
    return checkChunks(this.client, this.bucket, chunks, streamSha256, { ...options, ...this.runOptions() });
  }

  /** Makes archived objects readable, requesting and awaiting their thaw (thawObjects). */
  thawObjects(keys: readonly string[], options: BucketThawOptions = {}): Promise<ThawResult> {
    return thawObjects(this.client, this.bucket, keys, { ...options, ...this.runOptions() });
  }

  /** Aborts the incomplete multipart uploads under `prefix` that `stale` picks (abortStaleMultipartUploads). */
  abortStaleMultipartUploads(prefix: string, stale: Date | StaleUploadTest): Promise<AbortedUpload[]> {
    return abortStaleMultipartUploads(this.client, this.bucket, prefix, stale, this.requestOptions());
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

  /** Streams `request.source` into chunk objects with the bucket's SSE (uploadChunkedStream). */
  uploadChunkedStream(request: ChunkedUploadRequest, options: BucketUploadOptions = {}): Promise<ChunkedUploadResult> {
    return uploadChunkedStream(
      { ...request, client: this.client, bucket: this.bucket, sse: this.sse },
      { ...options, ...this.runOptions() },
    );
  }

  /** The stream a manifest's chunks describe, every byte verified before it is passed on (downloadVerifiedStream). */
  downloadVerifiedStream(request: DownloadRequest, options: BucketDownloadOptions = {}): Readable {
    return downloadVerifiedStream({ ...request, client: this.client, bucket: this.bucket }, { ...options, ...this.runOptions() });
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
