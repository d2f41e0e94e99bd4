import type { ProgressListener } from '@org/btrfs-s3-core';
import type { UploadProgress } from '@org/btrfs-s3-store';

export interface UploadProgressOptions {
  readonly subvolume: string;
  /** The last published stream's size of this subvolume and kind (lastStreamBytes); undefined before one. */
  readonly estimatedTotalBytes: number | undefined;
  /** Chunks hold the encoder's bytes (compressed, encrypted), not the send stream's. */
  readonly encoded: boolean;
}

/**
 * One upload's ProgressEvents, from the uploader's hooks. The estimate is a send-stream
 * size, but S3 acknowledges stored bytes; for encoded chunks the bytes acknowledged are
 * converted at the ratio of stream bytes to stored bytes read so far (`countStream`
 * counts the former on their way into the encoder), so a compressed stream's progress
 * still ends near its estimate.
 */
export class UploadProgressReporter {
  private streamRead = 0;
  private storedRead = 0;
  private storedUploaded = 0;
  private chunks = 0;
  private parts = 0;
  private retries = 0;

  constructor(
    private readonly listener: ProgressListener,
    private readonly options: UploadProgressOptions,
  ) {}

  /** The first event, before any byte: the renderer's clock starts here. */
  started(): void {
    this.emit(0, 'running');
  }

  /** Passes the send stream on unchanged, counting its bytes. */
  async *countStream(source: AsyncIterable<unknown>): AsyncGenerator<unknown, void, undefined> {
    for await (const piece of source) {
      if (Buffer.isBuffer(piece)) this.streamRead += piece.length;
      yield piece;
    }
  }

  /** After each part S3 acknowledged. */
  part(progress: UploadProgress): void {
    this.parts += 1;
    this.storedUploaded = progress.bytesUploaded;
    this.storedRead = progress.bytesRead;
    this.emit(this.streamBytes(), 'running');
  }

  /** After each chunk object S3 completed. */
  chunk(): void {
    this.chunks += 1;
    this.emit(this.streamBytes(), 'running');
  }

  retry(): void {
    this.retries += 1;
    this.emit(this.streamBytes(), 'running');
  }

  /** The upload's result; its end, however it ends, is the last event, with the stream's exact size when it succeeded. */
  async track<T extends { readonly totalBytes: number }>(upload: Promise<T>): Promise<T> {
    let result: T;
    try {
      result = await upload;
    } catch (error) {
      this.emit(this.streamBytes(), 'failed');
      throw error;
    }
    this.emit(result.totalBytes, 'completed');
    return result;
  }

  private streamBytes(): number {
    if (!this.options.encoded) return this.storedUploaded;
    if (this.storedRead === 0) return 0;
    return Math.min(this.streamRead, Math.round((this.storedUploaded * this.streamRead) / this.storedRead));
  }

  private emit(bytes: number, state: 'running' | 'completed' | 'failed'): void {
    const { subvolume, estimatedTotalBytes } = this.options;
    this.listener({
      phase: 'upload',
      subvolume,
      label: subvolume,
      bytes,
      ...(estimatedTotalBytes === undefined ? {} : { estimatedTotalBytes }),
      chunks: this.chunks,
      parts: this.parts,
      retries: this.retries,
      done: state !== 'running',
      ...(state === 'failed' ? { failed: true } : {}),
    });
  }
}
