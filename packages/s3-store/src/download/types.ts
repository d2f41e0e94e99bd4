import type { GetObjectCommand } from '@aws-sdk/client-s3';
import type { StoredChunk } from '@org/btrfs-s3-core';
import type { RetryEvent, RetrySettings } from '../retry';
import type { SendOptions } from '../upload/types';

/**
 * What a ranged GET answers with, as far as the download reads it. In Node the SDK's
 * `Body` is an `http.IncomingMessage` (a Readable); anything else is refused.
 */
export interface RangedGetOutput {
  readonly Body?: unknown;
  readonly ContentLength?: number;
  /** `bytes <first>-<last>/<object size>` on a 206 answer. */
  readonly ContentRange?: string;
}

/** The one call the download makes. An S3Client from createS3Client satisfies it; unit tests pass a fake. */
export interface ObjectReadClient {
  send(command: GetObjectCommand, options?: SendOptions): Promise<RangedGetOutput>;
}

/** What is downloaded: required, kept apart from the tuning knobs (as the uploader does). */
export interface DownloadRequest {
  /** A manifest's `chunks`, in stream order, each with its parts' sizes and SHA-256. */
  readonly chunks: readonly StoredChunk[];
  /**
   * SHA-256 of the chunks' bytes concatenated (the send stream, when not encoded): the
   * whole is checked against it before its last part is passed on. Undefined for
   * encoded chunks, whose decoder checks the send stream instead.
   */
  readonly streamSha256: string | undefined;
  /**
   * Check each chunk's SHA-256 too (default true). The parts' hashes already cover every
   * byte; where a decoder checks the plaintext behind the chunks, the chunks' own is one
   * more pass over every byte for nothing.
   */
  readonly checkChunkSha256?: boolean;
}

/** What is downloaded and from where; S3Bucket supplies the where. */
export interface DownloadParams extends DownloadRequest {
  readonly client: ObjectReadClient;
  readonly bucket: string;
}

/** A retry of one ranged GET, with what it was for. */
export interface DownloadRetryEvent extends RetryEvent {
  readonly key: string;
  readonly partNumber: number;
}

/**
 * Tuning knobs. Memory cost: about two parts (the part being handed over and the next,
 * being fetched), or `concurrency x rangeSizeBytes` if more, plus what the consumer buffers.
 */
export interface DownloadOptions {
  /** Ranged GETs at once (default 4, `s3.concurrency`). */
  readonly concurrency?: number;
  /** Destroys the stream with an AbortError and aborts in-flight GETs. */
  readonly signal?: AbortSignal;
  /** Attempts and backoff of every ranged GET (defaults: 5 attempts, 1 s base, 30 s cap), plus test hooks. */
  readonly retry?: RetrySettings;
  /** Called after each part is verified and passed on, with the bytes passed on so far. */
  readonly onProgress?: (bytesVerified: number) => void;
  readonly onRetry?: (event: DownloadRetryEvent) => void;
  /**
   * Largest ranged GET (default 16 MiB). A part is fetched in consecutive ranges of
   * this size, started in stream order and each retried on its own, so the first part
   * is whole early and a dropped connection re-fetches at most this much. A part is
   * still verified whole before any of it is passed on.
   */
  readonly rangeSizeBytes?: number;
  /**
   * Largest part the download accepts (default S3's 5 GiB). Each part is verified whole
   * before any of it is passed on, and two are held, so a chunk list with a larger part
   * is refused (DownloadPlanError) before any GET: the caller's limit, not the manifest,
   * bounds the memory.
   */
  readonly maxPartSizeBytes?: number;
}
