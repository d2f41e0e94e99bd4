import { type GetObjectCommand, HeadObjectCommand, type HeadObjectCommandOutput, S3ServiceException } from '@aws-sdk/client-s3';
import { mapBounded } from '@org/btrfs-s3-core';
import type { StoredChunk } from '@org/btrfs-s3-core';
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { downloadVerifiedStream } from '../download/download-verified-stream';
import { DownloadError, ChecksumMismatchError, type VerificationSubject } from '../download/errors';
import type { RangedGetOutput } from '../download/types';
import { S3StoreError } from '../object-store';
import { type RetrySettings, withRetry } from '../retry';
import { isS3Error } from '../s3-errors';
import type { SendOptions } from '../upload/types';

/** The calls the check makes. An S3Client from createS3Client satisfies it; unit tests pass a fake. */
export interface ChunkCheckClient {
  send(command: HeadObjectCommand, options?: SendOptions): Promise<HeadObjectCommandOutput>;
  send(command: GetObjectCommand, options?: SendOptions): Promise<RangedGetOutput>;
}

/** Which chunks to download and re-hash: none (HeadObject only), all, or `count` chosen by `sampleChunks(seed, ...)`. */
export type ChunkReads = 'none' | 'all' | { readonly sample: number; readonly seed: string };

export interface ChunkCheckOptions {
  readonly reads: ChunkReads;
  /** HeadObjects at once, and ranged GETs at once within a chunk's download (default 4). */
  readonly concurrency?: number;
  readonly signal?: AbortSignal;
  readonly retry?: RetrySettings;
  /** Largest part a read accepts (DownloadOptions.maxPartSizeBytes): a larger one throws DownloadPlanError before its GET. */
  readonly maxPartSizeBytes?: number;
}

/**
 * One chunk object against its manifest entry:
 * - `ok`: present with the recorded size, and when `read`, every part's, the chunk's SHA-256 matched;
 * - `missing`, `size-mismatch`, `hash-mismatch`: damaged;
 * - `archived`: chosen for reading but in an archival class and not thawed: skipped, not damaged;
 * - `unreadable`: present, but its download failed for another reason (named in `message`).
 */
export type ChunkFinding =
  | { readonly key: string; readonly status: 'ok'; readonly size: number; readonly storageClass: string; readonly read: boolean }
  | { readonly key: string; readonly status: 'missing'; readonly expectedSize: number }
  | {
      readonly key: string;
      readonly status: 'size-mismatch';
      readonly expectedSize: number;
      readonly actualSize: number;
      readonly storageClass: string;
    }
  | {
      readonly key: string;
      readonly status: 'hash-mismatch';
      readonly subject: VerificationSubject;
      readonly partNumber: number | undefined;
      readonly expected: string;
      readonly actual: string;
      readonly storageClass: string;
    }
  | { readonly key: string; readonly status: 'archived'; readonly storageClass: string }
  | { readonly key: string; readonly status: 'unreadable'; readonly message: string; readonly storageClass: string };

export interface ChunkCheckResult {
  /** In stream order. */
  readonly chunks: readonly ChunkFinding[];
  /** The whole stream's SHA-256, checked only when every chunk was read and matched. */
  readonly stream: { readonly checked: false } | { readonly checked: true; readonly expected: string; readonly actual: string };
}

const DEFAULT_CONCURRENCY = 4;
const rank = (seed: string, key: string) => createHash('sha256').update(`${seed}\n${key}`).digest('hex');

/**
 * `count` chunks chosen by the SHA-256 of `seed` and each chunk's key (the lowest
 * hashes), in stream order: the same seed picks the same chunks on every run, and
 * different manifests (seeded by their key) spread the picks over the stream.
 */
export function sampleChunks<T extends Pick<StoredChunk, 'key'>>(seed: string, chunks: readonly T[], count: number): T[] {
  const chosen = new Set([...chunks].sort((a, b) => (rank(seed, a.key) < rank(seed, b.key) ? -1 : 1)).slice(0, count));
  return chunks.filter((chunk) => chosen.has(chunk));
}

/**
 * Checks a manifest's chunk objects without a restore: HeadObject for each (present,
 * recorded size), then for the chunks `reads` selects, a verified download (every
 * part's and the chunk's SHA-256, as a restore checks them) into a sink that keeps
 * nothing. A damaged chunk is a finding, not an error, so one run reports them all.
 *
 * Throws S3StoreError for S3 failures that say nothing about the chunks (access
 * denied, the store unreachable after retries), and the signal's reason when aborted.
 */
export async function checkChunks(
  client: ChunkCheckClient,
  bucket: string,
  chunks: readonly StoredChunk[],
  /** The stream the chunks hold, as stored; undefined when they are encoded (the stored stream has no recorded hash). */
  streamSha256: string | undefined,
  options: ChunkCheckOptions,
): Promise<ChunkCheckResult> {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const heads = await mapBounded(chunks, concurrency, (chunk) => headChunk(client, bucket, chunk, options));
  const toRead = new Set(
    options.reads === 'none' ? [] : options.reads === 'all' ? chunks : sampleChunks(options.reads.seed, chunks, options.reads.sample),
  );
  const streamHash = createHash('sha256');
  const findings: ChunkFinding[] = [];
  for (const [index, chunk] of chunks.entries()) {
    const head = heads[index];
    if (head === undefined || head.status !== 'ok' || !toRead.has(chunk)) {
      findings.push(head ?? { key: chunk.key, status: 'missing', expectedSize: chunk.size });
      continue;
    }
    options.signal?.throwIfAborted();
    findings.push(await readChunk(client, bucket, chunk, head.storageClass, streamHash, { ...options, concurrency }));
  }
  const allRead = findings.every((finding) => finding.status === 'ok' && finding.read);
  return {
    chunks: findings,
    stream:
      allRead && streamSha256 !== undefined
        ? { checked: true, expected: streamSha256, actual: streamHash.digest('hex') }
        : { checked: false },
  };
}

async function headChunk(client: ChunkCheckClient, bucket: string, chunk: StoredChunk, options: ChunkCheckOptions): Promise<ChunkFinding> {
  let head: HeadObjectCommandOutput;
  try {
    head = await withRetry(() => client.send(new HeadObjectCommand({ Bucket: bucket, Key: chunk.key }), { abortSignal: options.signal }), {
      ...options.retry,
      signal: options.signal,
    });
  } catch (error) {
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)
      return { key: chunk.key, status: 'missing', expectedSize: chunk.size };
    throw new S3StoreError('HeadObject', chunk.key, error);
  }
  const storageClass = head.StorageClass ?? 'STANDARD';
  const actualSize = head.ContentLength ?? 0;
  if (actualSize !== chunk.size) return { key: chunk.key, status: 'size-mismatch', expectedSize: chunk.size, actualSize, storageClass };
  return { key: chunk.key, status: 'ok', size: actualSize, storageClass, read: false };
}

/** Downloads one chunk verified, feeding `streamHash` (meaningful only while every chunk before it matched). */
async function readChunk(
  client: ChunkCheckClient,
  bucket: string,
  chunk: StoredChunk,
  storageClass: string,
  streamHash: ReturnType<typeof createHash>,
  options: ChunkCheckOptions & { concurrency: number },
): Promise<ChunkFinding> {
  // A one-chunk stream's hash is the chunk's: the downloader then checks every part and the chunk.
  const download = downloadVerifiedStream(
    { client, bucket, chunks: [chunk], streamSha256: chunk.sha256 },
    {
      concurrency: options.concurrency,
      signal: options.signal,
      retry: options.retry,
      ...(options.maxPartSizeBytes === undefined ? {} : { maxPartSizeBytes: options.maxPartSizeBytes }),
    },
  );
  const discard = new Writable({
    write(bytes: Buffer, _encoding, callback) {
      streamHash.update(bytes);
      callback();
    },
  });
  try {
    await pipeline(download, discard);
    return { key: chunk.key, status: 'ok', size: chunk.size, storageClass, read: true };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (error instanceof ChecksumMismatchError) {
      return {
        key: chunk.key,
        status: 'hash-mismatch',
        subject: error.subject,
        partNumber: error.partNumber,
        expected: error.expected,
        actual: error.actual,
        storageClass,
      };
    }
    if (error instanceof DownloadError && isS3Error(error.cause, 'InvalidObjectState'))
      return { key: chunk.key, status: 'archived', storageClass };
    if (error instanceof DownloadError) return { key: chunk.key, status: 'unreadable', message: error.message, storageClass };
    throw error;
  }
}
