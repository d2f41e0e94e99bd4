import type { StoredChunk } from '@org/btrfs-s3-core';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { downloadVerifiedStream } from '../download/download-verified-stream';
import type { DownloadOptions } from '../download/types';
import { FakeObjectS3 } from './fake-s3-objects';
import { chunkKey, sha256 } from './upload-harness';

export interface StoredStream {
  readonly data: Buffer;
  readonly chunks: StoredChunk[];
  readonly streamSha256: string;
}

/**
 * Splits `size` random bytes into chunk objects of `chunkSize` and manifest parts of
 * `partSize` (as the uploader records them), stores the objects in `fake`, and
 * returns the manifest's view of them.
 */
export function storeStream(fake: FakeObjectS3, size: number, layout: { chunkSize: number; partSize: number }): StoredStream {
  const data = randomBytes(size);
  const chunks: StoredChunk[] = [];
  for (let start = 0, index = 0; start < size; start += layout.chunkSize, index += 1) {
    const bytes = data.subarray(start, Math.min(size, start + layout.chunkSize));
    const parts = [];
    for (let offset = 0; offset < bytes.length; offset += layout.partSize) {
      const part = bytes.subarray(offset, offset + layout.partSize);
      parts.push({ number: parts.length + 1, size: part.length, sha256: sha256(part) });
    }
    const key = chunkKey(index);
    fake.put(key, Buffer.from(bytes));
    chunks.push({ key, size: bytes.length, sha256: sha256(bytes), etag: `etag-${index}`, parts });
  }
  return { data, chunks, streamSha256: sha256(data) };
}

/** Downloads `stored` from `fake` with instant retries. */
export function download(
  fake: FakeObjectS3,
  stored: Pick<StoredStream, 'chunks' | 'streamSha256'>,
  options: DownloadOptions = {},
): Readable {
  return downloadVerifiedStream(
    { client: fake, bucket: 'backups', chunks: stored.chunks, streamSha256: stored.streamSha256 },
    { ...options, retry: { sleep: async () => undefined, ...options.retry } },
  );
}

export interface Received {
  /** Every byte the consumer got, in order. */
  readonly bytes: Buffer;
  /** What the stream failed with, if it did. */
  readonly error: unknown;
}

/** Reads `stream` to its end or its error, keeping what arrived before the error. */
export async function receive(stream: Readable): Promise<Received> {
  const pieces: Buffer[] = [];
  try {
    for await (const piece of stream) pieces.push(Buffer.isBuffer(piece) ? piece : Buffer.from(String(piece)));
    return { bytes: Buffer.concat(pieces), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(pieces), error };
  }
}

/** Inverts one byte in place, as a bit-rotted disk or a tampered object would. */
export function flipByte(bytes: Buffer, index: number): void {
  bytes.writeUInt8(bytes.readUInt8(index) ^ 0xff, index);
}

/** Gives a wrongly eager fetcher many turns of the event loop; for asserting that something does not happen. */
export async function settle(turns = 50): Promise<void> {
  for (let turn = 0; turn < turns; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}

export { FakeObjectS3 };
