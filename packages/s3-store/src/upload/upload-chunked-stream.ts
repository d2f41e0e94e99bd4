import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { withRetry } from '../retry';
import { isS3Error, sseHint } from '../s3-errors';
import { ChunkUpload, type ChunkContext, type OpenUpload } from './chunk-upload';
import { ChunkUploadError, type FailurePoint } from './errors';
import { largestPartBytes, resolveLayout, type UploadLayout } from './limits';
import { openUploadProblem } from './list-parts';
import { MemoryPartStore, type PartStore } from './part-store';
import { RateLimiter } from './rate-limit';
import { ReadAhead } from './read-ahead';
import { skipProvenPrefix, type SourceTally } from './resume-source';
import { type PartItem, type SplitItem, splitStream, type StreamEndItem } from './split-stream';
import { SpoolPartStore } from './spool-store';
import { StepError } from './step-error';
import { graceAfter, STOP_GRACE_MS } from '../stop-grace';
import type { ChunkedUploadOptions, ChunkedUploadParams, ChunkedUploadResult, UploadedChunk } from './types';

/**
 * Streams `params.source` into consecutive chunk objects, each a multipart upload,
 * with at most `concurrency` parts in flight over the whole run and the source read
 * once. See docs/upload.md for why this drives the multipart calls itself instead of
 * using @aws-sdk/lib-storage.
 *
 * Rejects with UploadLimitError (nothing done) when the settings break S3 limits, and
 * with ChunkUploadError after aborting every multipart upload it opened when a part
 * exhausts its retries, the source fails, the parts S3 holds differ from those sent,
 * or `options.signal` aborts. An empty source resolves with no chunks and writes nothing.
 */
export async function uploadChunkedStream(params: ChunkedUploadParams, options: ChunkedUploadOptions = {}): Promise<ChunkedUploadResult> {
  const layout = resolveLayout(options, params.encode !== undefined);
  return new UploadRun(params, options, layout).run();
}

type ItemFeed = { next(): Promise<IteratorResult<SplitItem, unknown>> };

class UploadRun implements ChunkContext {
  readonly client: ChunkContext['client'];
  readonly bucket: string;
  readonly storageClass: ChunkContext['storageClass'];
  readonly sse: ChunkContext['sse'];
  readonly sseKmsKeyId: string | undefined;
  readonly objectLock: ChunkContext['objectLock'];
  readonly contentType: string | undefined;
  readonly alwaysMultipart: boolean;
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  readonly stopGrace: AbortSignal;
  private readonly store: PartStore;
  private readonly chunks = new Map<number, ChunkUpload>();
  private readonly reported = new Set<ChunkUpload>();
  private failure: { error: unknown } | undefined;
  private storeClosing: Promise<void> = Promise.resolve();
  private streamEnd: StreamEndItem | undefined;
  private retries = 0;
  private bytesUploaded = 0;
  private bytesRead = 0;
  private lastPoint: FailurePoint;
  private readonly limiter: RateLimiter | undefined;
  /** A resumed run: the chunks already stored, the open upload continued, and the whole source's size and hash. */
  private readonly resumedChunks: readonly UploadedChunk[];
  private openUpload: (OpenUpload & { readonly key: string }) | undefined;
  private tally: SourceTally | undefined;
  private resumedPartBytes = 0;

  constructor(
    private readonly params: ChunkedUploadParams,
    private readonly options: ChunkedUploadOptions,
    private readonly layout: UploadLayout,
  ) {
    ({ client: this.client, bucket: this.bucket, storageClass: this.storageClass, sse: this.sse } = params);
    this.sseKmsKeyId = params.sseKmsKeyId;
    this.objectLock = params.objectLock;
    this.contentType = options.contentType;
    this.alwaysMultipart = options.alwaysMultipart === true;
    this.stopGrace = graceAfter(this.signal, options.stopGraceMs ?? STOP_GRACE_MS);
    this.store =
      layout.spool === undefined
        ? new MemoryPartStore(largestPartBytes(layout, params.encode !== undefined), layout.concurrency)
        : new SpoolPartStore(layout.spool.dir, layout.spool.maxBytes);
    this.lastPoint = { operation: 'read', key: params.keyForChunk(0), partNumber: 1 };
    const cap = options.maxUploadBytesPerSecond;
    this.limiter = cap === undefined ? undefined : new RateLimiter(cap);
    this.resumedChunks = options.resume?.chunks ?? [];
    // Parts of an encoded chunk cannot be proven by re-reading (age output is randomized): it starts over.
    this.openUpload = params.encode === undefined ? options.resume?.openUpload : undefined;
  }

  /** A part's body, paced by `s3.max_upload_rate` when one is set. */
  body(part: PartItem): Buffer | Readable {
    const body = part.stored.body();
    return this.limiter === undefined ? body : this.limiter.throttle(body, this.signal);
  }

  async retry<T>(point: FailurePoint, operation: (attempt: number) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const { onRetry } = this.options;
    try {
      return await withRetry(operation, {
        ...this.options.retry,
        ...(signal === undefined ? {} : { signal }),
        onRetry: (event) => {
          this.retries += 1;
          onRetry?.({ ...event, ...point });
        },
      });
    } catch (error) {
      throw error instanceof StepError ? error : new StepError(point, error);
    }
  }

  async run(): Promise<ChunkedUploadResult> {
    const external = this.options.signal;
    const onAbort = () => this.fail(new StepError({ ...this.lastPoint, operation: 'abort' }, external?.reason));
    if (external?.aborted) onAbort();
    external?.addEventListener('abort', onAbort, { once: true });

    try {
      await this.checkOpenUpload();
    } catch (error) {
      external?.removeEventListener('abort', onAbort);
      this.fail(error); // stops the source (`btrfs send`) too
      await this.storeClosing;
      throw await this.failed(error);
    }
    const layout = {
      ...this.layout,
      keyForChunk: this.params.keyForChunk,
      encode: this.params.encode,
      firstChunkIndex: this.resumedChunks.length,
      resumedParts: new Map((this.openUpload?.parts ?? []).map((part) => [part.number, part])),
    };
    const items = splitStream(this.source(), layout, this.store, (bytes) => {
      this.bytesRead = bytes;
    });
    // With a spool, reading runs ahead into files (paced by the spool's budget); in memory,
    // workers pull the generator themselves, so a part is read only when a worker is free.
    const readAhead = this.layout.spool === undefined ? undefined : new ReadAhead(items, (error) => this.fail(error));
    const feed: ItemFeed = readAhead ?? items;
    try {
      await Promise.all(Array.from({ length: this.layout.concurrency }, () => this.work(feed)));
      if (this.failure !== undefined) {
        // Settle the producer before cleaning up after it: it may hold an open part file.
        await items.return();
        await readAhead?.drained;
        for (const item of readAhead?.takeRemaining() ?? []) if (item.kind === 'part') await item.stored.release();
        await this.storeClosing;
        // Again: the reader may have created a part file after the first close.
        await this.store.close(this.failure.error);
        throw await this.failed(this.failure.error);
      }
      return this.result();
    } finally {
      external?.removeEventListener('abort', onAbort);
    }
  }

  /** The source, or for a resumed run what follows the stored chunks' slices once each is proven by its hash. */
  private source(): Readable {
    if (this.options.resume === undefined) return this.params.source;
    const tally: SourceTally = { bytes: 0, hash: createHash('sha256') };
    this.tally = tally;
    const slices = this.resumedChunks.map((chunk) => ({ plainSize: chunk.plainSize, plainSha256: chunk.plainSha256 }));
    return Readable.from(skipProvenPrefix(this.params.source, slices, tally), { objectMode: true });
  }

  /**
   * A resumed run continues the interrupted run's open upload only if the store still holds
   * every part it recorded; otherwise that upload is aborted and its chunk starts over.
   */
  private async checkOpenUpload(): Promise<void> {
    const open = this.openUpload;
    if (open === undefined) return;
    const expected = this.params.keyForChunk(this.resumedChunks.length);
    const problem =
      open.key !== expected
        ? `the open upload is of ${open.key}, not of the next chunk ${expected}`
        : await openUploadProblem(
            { client: this.client, bucket: this.bucket, key: open.key, uploadId: open.uploadId },
            open.parts,
            (point, call) => this.retry(point, call, this.signal),
          );
    if (problem === undefined) return;
    this.openUpload = undefined;
    this.options.resume?.onResumeNotice?.(`${problem}: uploading that chunk again from its start`);
    await new ChunkUpload(this, open.key, open).abort();
  }

  /** One of `concurrency` workers: takes the next item when it is free, so memory stays at one part per worker. */
  private async work(feed: ItemFeed): Promise<void> {
    while (this.failure === undefined) {
      let next: IteratorResult<SplitItem, unknown>;
      try {
        next = await feed.next();
      } catch (error) {
        this.fail(error);
        return;
      }
      if (next.done === true) return;
      try {
        await this.handle(next.value);
      } catch (error) {
        this.fail(error);
      }
    }
  }

  private async handle(item: SplitItem): Promise<void> {
    if (item.kind === 'stream-end') {
      this.streamEnd = item;
      return;
    }
    const chunk = this.chunkFor(item.chunkIndex, item.kind === 'part' ? item.key : undefined);
    if (item.kind === 'chunk-end') {
      chunk.seal(item);
    } else if (item.resumed === true) {
      this.resumedPartBytes += item.size; // proven by its hash, and already in the open upload
    } else {
      this.lastPoint = { operation: 'UploadPart', key: item.key, partNumber: item.partNumber };
      let sent: Awaited<ReturnType<ChunkUpload['uploadPart']>>;
      try {
        if (this.failure !== undefined) return;
        sent = await chunk.uploadPart(item);
      } finally {
        await item.stored.release();
      }
      const { chunkIndex, key, partNumber: number, size, sha256 } = item;
      // A chunk stored with one PutObject has no upload to resume: it is recorded when complete, just after.
      if (sent.uploadId !== undefined)
        await this.options.onPartComplete?.({ chunkIndex, key, uploadId: sent.uploadId, number, size, sha256, etag: sent.etag ?? '' });
      this.bytesUploaded += item.size;
      this.options.onProgress?.({ bytesUploaded: this.bytesUploaded, bytesRead: this.bytesRead });
    }
    await chunk.completeIfReady();
    // Several workers may await the same completion; report it once.
    if (chunk.result !== undefined && !this.reported.has(chunk)) {
      this.reported.add(chunk);
      await this.options.onChunkComplete?.(chunk.result, item.chunkIndex);
    }
  }

  private chunkFor(index: number, key: string | undefined): ChunkUpload {
    let chunk = this.chunks.get(index);
    if (chunk === undefined) {
      // The splitter sends a chunk's parts before its chunk-end, so the first sight carries the key.
      if (key === undefined) throw new Error(`chunk ${index} ended before any of its parts was seen`);
      const open = this.openUpload;
      chunk = new ChunkUpload(this, key, index === this.resumedChunks.length && open?.key === key ? open : undefined);
      this.chunks.set(index, chunk);
    }
    return chunk;
  }

  /** Records the first failure and stops everything else: in-flight parts, the source, a reader waiting for spool room. */
  private fail(error: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = { error };
    this.controller.abort(error);
    this.params.source.destroy();
    // Awaited by run(); started here so a reader waiting for spool room is released now.
    this.storeClosing = this.store.close(error);
  }

  private async failed(error: unknown): Promise<ChunkUploadError> {
    const kept = this.options.keepOpenUpload === true ? this.firstIncomplete() : undefined;
    const open = [...this.chunks.values()].filter((chunk) => chunk !== kept || chunk.acknowledgedParts === 0);
    // Bounded by the stop's grace (stopGrace): an interrupted run (systemd stops a unit
    // with SIGKILL 90 s after SIGTERM) must not wait minutes on a store that stopped answering.
    const cleanup = await Promise.all(open.map((chunk) => chunk.abort()));
    const point = error instanceof StepError ? error.point : this.lastPoint;
    const cause = error instanceof StepError ? error.cause : error;
    return new ChunkUploadError({
      ...point,
      cause,
      ...(point.operation === 'CreateMultipartUpload' ? { hint: createHint(this.sse, cause) } : {}),
      completedChunks: this.completed(),
      cleanupErrors: cleanup.filter((result) => result !== undefined),
    });
  }

  /** The open chunk a resume record can name: the first one not completed (the ones before it all are). */
  private firstIncomplete(): ChunkUpload | undefined {
    const indexes = [...this.chunks.keys()].sort((a, b) => a - b);
    const first = indexes.find((index) => this.chunks.get(index)?.result === undefined);
    return first === undefined ? undefined : this.chunks.get(first);
  }

  private completed(): UploadedChunk[] {
    return [...this.chunks.entries()].sort(([a], [b]) => a - b).flatMap(([, chunk]) => (chunk.result === undefined ? [] : [chunk.result]));
  }

  private result(): ChunkedUploadResult {
    const uploaded = this.completed();
    const end = this.streamEnd;
    const uploadedBytes = uploaded.reduce((sum, chunk) => sum + chunk.size, 0);
    // Every worker awaits the completion it triggers, so a missing chunk here is a bug, not an S3 failure.
    if (end === undefined || uploaded.length !== this.chunks.size || uploadedBytes !== end.storedBytes) {
      throw new Error(
        `upload finished inconsistently: ${uploaded.length} of ${this.chunks.size} chunks complete, ${uploadedBytes} bytes of ${end?.storedBytes ?? '?'}`,
      );
    }
    const chunks = [...this.resumedChunks, ...uploaded];
    const tally = this.tally;
    return {
      chunks,
      // A resumed run's splitter saw only what followed the stored chunks; the tally saw the whole source.
      totalBytes: tally === undefined ? end.totalBytes : tally.bytes,
      storedBytes: chunks.reduce((sum, chunk) => sum + chunk.size, 0),
      streamSha256: tally === undefined ? end.sha256 : tally.hash.digest('hex'),
      partCount: chunks.reduce((sum, chunk) => sum + chunk.parts.length, 0),
      retries: this.retries,
      resumedBytes: this.resumedChunks.reduce((sum, chunk) => sum + chunk.plainSize, 0) + this.resumedPartBytes,
    };
  }
}

function createHint(sse: ChunkContext['sse'], cause: unknown): string | undefined {
  const storageClass = 'check that the store offers the storage class in s3.storage_class_chunks';
  if (isS3Error(cause, 'InvalidStorageClass')) return storageClass;
  const hint = sseHint(sse, cause);
  // RGW answers an unconfigured storage class with InvalidArgument too, so name both settings.
  if (isS3Error(cause, 'InvalidArgument')) return hint === undefined ? storageClass : `${hint}; also ${storageClass}`;
  return hint;
}
