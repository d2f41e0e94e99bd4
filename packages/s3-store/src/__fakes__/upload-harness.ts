import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { uploadChunkedStream } from '../upload/upload-chunked-stream';
import type { ChunkedUploadOptions, ChunkedUploadParams, ChunkedUploadResult, ChunkEncoder } from '../upload/types';
import { FakeS3 } from './fake-s3';

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
export const chunkKey = (index: number) => `host/subvol/data/full/20250101T020000Z/chunks/part-${String(index).padStart(5, '0')}.bin`;

/** A source that delivers `data` in reads of `readSize` bytes, as a pipe does. */
export function sourceOf(data: Buffer, readSize = 7): Readable {
  const reads: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += readSize) reads.push(data.subarray(offset, offset + readSize));
  return Readable.from(reads, { objectMode: false });
}

export const randomData = (size: number) => randomBytes(size);

/**
 * A stand-in for zstd and age: chunks of `sliceBytes` of the source, each stored doubled,
 * so stored sizes and hashes differ from the plaintext's.
 */
export function doublingEncoder(sliceBytes: number): ChunkEncoder {
  return async function* (source) {
    const plain: Buffer[] = [];
    for await (const piece of source as AsyncIterable<Buffer>) plain.push(piece);
    const data = Buffer.concat(plain);
    for (let offset = 0; offset < data.length; offset += sliceBytes) {
      const slice = data.subarray(offset, offset + sliceBytes);
      yield Buffer.concat([slice, slice]);
      yield { kind: 'chunk-end', plainSize: slice.length, plainSha256: sha256(slice) };
    }
    yield { kind: 'stream-end', plainSize: data.length, plainSha256: sha256(data) };
  };
}

/** Small parts for byte-sized tests, instant retries, the rest from `options`. */
export function upload(
  fake: FakeS3,
  source: Readable,
  options: ChunkedUploadOptions = {},
  params: Partial<ChunkedUploadParams> = {},
): Promise<ChunkedUploadResult> {
  return uploadChunkedStream(
    { client: fake, bucket: 'backups', source, keyForChunk: chunkKey, storageClass: 'DEEP_ARCHIVE', sse: 'AES256', ...params },
    {
      chunkSizeBytes: 10,
      partSizeBytes: 4,
      concurrency: 1,
      limits: { minPartSizeBytes: 1 },
      ...options,
      retry: { sleep: async () => undefined, ...options.retry },
    },
  );
}

export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** What the fake's commands were, by SDK command name, in order. */
export function commandNames(fake: FakeS3): string[] {
  return fake.commands.map((command) => command.constructor.name.replace(/Command$/, ''));
}

export { FakeS3 };
