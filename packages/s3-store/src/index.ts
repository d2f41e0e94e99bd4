/**
 * S3 access for btrfs-to-s3: one bucket handle (S3Bucket) for object reads and writes,
 * listing, deleting, the chunk check, the archive thaw, the stale-upload cleanup, the
 * streaming chunked uploader and the verified streaming download, all with the config's
 * retry policy and the run's signal; in a versioned bucket, version listings and deletes,
 * reads through delete markers, and Object Lock retention; and the client a library call
 * makes for itself.
 */
export { connectionsFor, createS3Client, withS3Client } from './client';
export { describeS3Error, isAccessDenied } from './s3-errors';
export type { S3ClientTuning, S3ConnectionConfig } from './client';
export { S3Bucket } from './s3-bucket';
export type {
  BucketCheckOptions,
  BucketClient,
  BucketDownloadOptions,
  BucketThawOptions,
  BucketUploadOptions,
  LockedVersion,
  S3BucketConfig,
  S3BucketOptions,
  VersionDeletion,
} from './s3-bucket';
export type { ObjectVersion, VersionListing } from './bucket/versions';
export { ObjectLockUnavailableError, objectLockProblem } from './lock/bucket-lock';
export type { RetentionExtension } from './lock/bucket-lock';
export type { ObjectLockConfig } from './lock/retention';
export { ConditionalWriteError } from './object-store';
export type { ObjectInfo, PutOptions, WriteCondition } from './object-store';
export type { RetryConfig, RetryEvent, RetryOptions, RetryPolicy, RetrySettings } from './retry';
export { uploadOptionsFromConfig } from './upload/limits';
export { ChunkUploadError, ResumeMismatchError } from './upload/errors';
export type {
  AcknowledgedPart,
  AcknowledgedPartRecord,
  UploadResume,
  ChunkedUploadOptions,
  ChunkedUploadRequest,
  ChunkEncoder,
  EncodedBoundary,
  ChunkedUploadResult,
  SendOptions,
  SpoolOptions,
  UploadedChunk,
  UploadedPart,
  UploadLimits,
  UploadProgress,
  UploadRetryEvent,
} from './upload/types';
export type { AbortedUpload, StaleUploadTest } from './stale-multipart';
export type { OpenUpload, UploadActivity } from './open-uploads';
export type { VerificationSubject } from './download/errors';
export type { DownloadOptions, DownloadRequest, DownloadRetryEvent } from './download/types';
export type { RestoreTier, ThawOptions, ThawPolling, ThawProgress, ThawResult, ThawRetryEvent } from './archive/types';
export type { BucketSettings, DefaultRetention, ListingProbe, SettingRead } from './bucket/bucket-settings';
export { sampleChunks } from './bucket/check-chunks';
export type { ChunkCheckOptions, ChunkCheckResult, ChunkFinding, ChunkReads } from './bucket/check-chunks';
