/**
 * S3 access for btrfs-to-s3: the one S3 client factory, the retry helper, object reads/writes,
 * the streaming chunked uploader, the verified streaming download and the archive thaw.
 */
export { createS3Client, withS3Client } from './client';
export type { S3ConnectionConfig, S3ClientTuning } from './client';
export { S3ObjectStore, S3StoreError } from './object-store';
export type { ObjectInfo, S3StoreConfig } from './object-store';
export { withRetry, isRetryableS3Error, backoffDelayMs, abortableSleep, DEFAULT_RETRY_POLICY, retryPolicyFromConfig } from './retry';
export type { RetryConfig, RetryEvent, RetryOptions, RetryPolicy, RetrySettings } from './retry';
export { uploadChunkedStream } from './upload/upload-chunked-stream';
export { resolveLayout, uploadOptionsFromConfig } from './upload/limits';
export type { UploadLayout } from './upload/limits';
export { ChunkUploadError, PartMismatchError, SpoolFullError, UploadLimitError } from './upload/errors';
export type { ChunkUploadErrorDetails } from './upload/errors';
export type { FailurePoint } from './upload/errors';
export type {
  ChunkedUploadOptions,
  ChunkedUploadParams,
  ChunkedUploadResult,
  MultipartClient,
  SendOptions,
  SpoolOptions,
  UploadedChunk,
  UploadedPart,
  UploadLimits,
  UploadProgress,
  UploadRetryEvent,
} from './upload/types';
export { abortStaleMultipartUploads } from './stale-multipart';
export type { AbortedUpload, StaleUploadOptions, StaleUploadTest } from './stale-multipart';
export { downloadVerifiedStream } from './download/download-verified-stream';
export { DownloadError, DownloadPlanError, DownloadVerificationError } from './download/errors';
export type { VerificationFailure, VerificationSubject } from './download/errors';
export type { DownloadOptions, DownloadParams, DownloadRetryEvent, ObjectReadClient, RangedGetOutput } from './download/types';
export { parseRestoreHeader } from './archive/restore-header';
export type { RestoreHeaderState } from './archive/restore-header';
export { classifyArchiveState, RestoreHeaderError } from './archive/classify';
export type { ArchiveClassification, ArchiveHead, ArchiveState } from './archive/classify';
export { thawObjects } from './archive/thaw';
export { ArchiveThawError, RestoreTierError } from './archive/errors';
export type { ArchiveClient, RestoreTier, ThawOptions, ThawPolling, ThawProgress, ThawResult, ThawRetryEvent } from './archive/types';
export { listObjects } from './bucket/listing';
export type { ListingClient, ListingOptions } from './bucket/listing';
export { deleteObjects, DeleteObjectsError, DELETE_BATCH_SIZE } from './bucket/delete-objects';
export type { DeleteClient, DeleteOptions, KeyFailure } from './bucket/delete-objects';
export { checkChunks, sampleChunks } from './bucket/check-chunks';
export type { ChunkCheckClient, ChunkCheckOptions, ChunkCheckResult, ChunkFinding, ChunkReads } from './bucket/check-chunks';
export { readTextIfExists } from './bucket/read-text';
