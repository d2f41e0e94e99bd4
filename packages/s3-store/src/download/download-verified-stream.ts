import { S3_LIMITS } from '@org/btrfs-s3-core';
import { createHash, type Hash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { addAbortSignal, Readable } from 'node:stream';
import { withRetry } from '../retry';
import { DownloadError, ChecksumMismatchError, DownloadPlanError } from './errors';
import type { FetchContext } from './fetch-slice';
import { type PartRange, planDownload } from './plan';
import { SliceWindow } from './slice-window';
import type { DownloadOptions, DownloadParams } from './types';

const DEFAULT_CONCURRENCY = 4;
/** Ranged GETs of 16 MiB: small enough that the first part is whole early, large enough that requests cost nothing. */
const DEFAULT_RANGE_BYTES = 16 * 1024 * 1024;

/**
 * The stream described by a manifest's chunks, fetched with parallel ranged GETs
 * (slices of at most `rangeSizeBytes` of a part, started in stream order, up to
 * `concurrency` at once; see SliceWindow) and emitted in order, for piping into
 * `btrfs receive`. No byte that fails verification is emitted: each part is checked
 * against its SHA-256 before any of it is pushed, each chunk's hash before its last
 * part is pushed, and the whole stream's hash before the final part is; a mismatch
 * errors the stream (ChecksumMismatchError) instead of ending it.
 *
 * Fetching follows the consumer: at most two parts' worth of bytes (or `concurrency`
 * slices, if more) are in flight or held, the part being handed over included, and
 * nothing more is fetched while the consumer does not read. Failures surface in
 * stream order, after every byte before them. Transient GET failures are retried
 * (withRetry); others fail the stream with DownloadError naming the key and part.
 * Destroying the stream or aborting `options.signal` aborts the GETs in flight.
 *
 * Throws DownloadPlanError at once when the chunk list is inconsistent or a part is
 * larger than `maxPartSizeBytes`, and RangeError for invalid options.
 */
export function downloadVerifiedStream(params: DownloadParams, options: DownloadOptions = {}): Readable {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError(`download concurrency must be a positive integer, got ${concurrency}`);
  const { rangeSizeBytes } = options;
  if (rangeSizeBytes !== undefined && (!Number.isInteger(rangeSizeBytes) || rangeSizeBytes < 1)) {
    throw new RangeError(`rangeSizeBytes must be a positive integer, got ${rangeSizeBytes}`);
  }
  const plan = planDownload(params.chunks);
  const limit = options.maxPartSizeBytes ?? S3_LIMITS.maxPartSize;
  const oversized = plan.find((part) => part.size > limit);
  if (oversized !== undefined)
    throw new DownloadPlanError(
      `part ${oversized.partNumber} of ${oversized.key} is ${oversized.size} bytes, more than the ${limit} this download may hold`,
    );
  return new VerifiedDownload(params, options, plan, concurrency);
}

class VerifiedDownload extends Readable {
  private readonly controller = new AbortController();
  private readonly parts: AsyncGenerator<Buffer[], void, undefined>;
  /** The verified part being handed over, piece by piece, and the next piece to push. */
  private handing: Buffer[] = [];
  private handed = 0;
  private reading = false;
  private bytesVerified = 0;

  constructor(
    params: DownloadParams,
    private readonly options: DownloadOptions,
    plan: readonly PartRange[],
    concurrency: number,
  ) {
    // No read-ahead inside the stream: it asks for the next part only once the last one
    // was taken, so the parts in the fetch window are all it holds.
    super({ highWaterMark: 0 });
    // Each GET in flight and its body listen on the signal; keep Node's leak warning for real leaks.
    setMaxListeners(4 * concurrency + 10, this.controller.signal);
    const ctx: FetchContext = {
      client: params.client,
      bucket: params.bucket,
      signal: this.controller.signal,
      retry: (part, operation) => this.retry(part, operation),
    };
    const window = new SliceWindow(ctx, plan, concurrency, options.rangeSizeBytes ?? DEFAULT_RANGE_BYTES);
    this.parts = verifiedParts(window, plan, params.streamSha256, params.checkChunkSha256 ?? true);
    if (options.signal !== undefined) addAbortSignal(options.signal, this);
  }

  override _read(): void {
    if (this.reading) return;
    this.reading = true;
    void this.pump();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.controller.abort(error ?? new Error('download stream destroyed'));
    // Ends a generator parked at a yield; one still running ends on the aborted fetch it awaits.
    this.parts.return().catch(() => undefined);
    callback(error);
  }

  /** Hands over verified parts, piece by piece, while the consumer wants more, as Readable.from does. */
  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.handed === this.handing.length) {
          const next = await this.parts.next();
          if (this.destroyed) return;
          if (next.done === true) {
            this.push(null);
            return;
          }
          this.handing = next.value;
          this.handed = 0;
        }
        const piece = this.handing[this.handed] ?? Buffer.alloc(0);
        this.handed += 1;
        this.bytesVerified += piece.length;
        const wantsMore = this.push(piece);
        if (this.handed === this.handing.length) this.options.onProgress?.(this.bytesVerified);
        if (!wantsMore) break;
      }
      this.reading = false;
    } catch (error) {
      if (!this.destroyed) this.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private async retry<T>(part: PartRange, operation: () => Promise<T>): Promise<T> {
    const { onRetry } = this.options;
    const signal = this.controller.signal;
    try {
      return await withRetry(operation, {
        ...this.options.retry,
        signal,
        onRetry: (event) => onRetry?.({ ...event, key: part.key, partNumber: part.partNumber }),
      });
    } catch (error) {
      if (error instanceof ChecksumMismatchError || signal.aborted) throw error;
      throw new DownloadError(part.key, part.partNumber, error);
    }
  }
}

/**
 * Verified parts in stream order, each as the pieces its GETs delivered. Each part, its
 * chunk and the stream are hashed as the part's slices come in, in order; the part is
 * checked once its last slice is in, before any of it is handed over, and its chunk's
 * and the stream's hashes before the part that ends them is.
 */
async function* verifiedParts(
  window: SliceWindow,
  plan: readonly PartRange[],
  streamSha256: string | undefined,
  checkChunks: boolean,
): AsyncGenerator<Buffer[], void, undefined> {
  // As in the upload's splitter, no prefix is hashed twice: while the first chunk is
  // read its hash state is also the stream's; the stream continues from a copy.
  // Without chunk hashes there is no state to continue from: hash the stream on its own, if it is checked at all.
  let streamHash: Hash | undefined = !checkChunks && streamSha256 !== undefined ? createHash('sha256') : undefined;
  let chunkHash = createHash('sha256');
  let chunkStarts = true;
  for (const [index, part] of plan.entries()) {
    // A chunk's first part: the part's hash state is also the chunk's, continued from a copy.
    const sharesChunkHash = checkChunks && chunkStarts;
    const partHash = sharesChunkHash ? chunkHash : createHash('sha256');
    const pieces: Buffer[] = [];
    for (let slice = window.slicesIn(part); slice > 0; slice -= 1) {
      // Every hash is fed as each slice arrives, not in a burst once the part is whole: the
      // sockets keep being read meanwhile. Only the part's check decides what is handed over.
      for (const piece of await window.take()) {
        partHash.update(piece);
        if (checkChunks && !sharesChunkHash) chunkHash.update(piece);
        streamHash?.update(piece);
        pieces.push(piece);
      }
    }
    const actual = (sharesChunkHash ? partHash.copy() : partHash).digest('hex');
    if (actual !== part.sha256)
      throw new ChecksumMismatchError({
        subject: 'part sha256',
        key: part.key,
        partNumber: part.partNumber,
        expected: part.sha256,
        actual,
      });
    chunkStarts = part.lastOfChunk;
    if (part.lastOfChunk && checkChunks) {
      // Encoded chunks have no stored-stream hash to check: skip that pass.
      if (streamSha256 !== undefined) streamHash ??= chunkHash.copy();
      const chunkActual = chunkHash.digest('hex');
      if (chunkActual !== part.chunkSha256)
        throw new ChecksumMismatchError({ subject: 'chunk sha256', key: part.key, expected: part.chunkSha256, actual: chunkActual });
      chunkHash = createHash('sha256');
    }
    if (index === plan.length - 1) checkStream((streamHash ?? chunkHash).digest('hex'), streamSha256);
    yield pieces;
    window.release(part);
  }
  if (plan.length === 0) checkStream(createHash('sha256').digest('hex'), streamSha256);
}

function checkStream(actual: string, expected: string | undefined): void {
  if (expected !== undefined && actual !== expected) throw new ChecksumMismatchError({ subject: 'stream sha256', expected, actual });
}
