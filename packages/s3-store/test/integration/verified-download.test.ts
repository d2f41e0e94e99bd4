import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type StoredChunk, MiB } from '@org/btrfs-s3-core';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { downloadVerifiedStream } from '../../src/download/download-verified-stream';
import { ChecksumMismatchError } from '../../src/download/errors';
import { uploadChunkedStream } from '../../src/upload/upload-chunked-stream';
import { gatewayScope, getBytes, streamOf } from './gateway';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Reads `stream` to its end or error, keeping every byte that arrived. */
async function receive(stream: Readable): Promise<{ bytes: Buffer; error: unknown }> {
  const pieces: Buffer[] = [];
  try {
    for await (const piece of stream) pieces.push(Buffer.from(piece));
    return { bytes: Buffer.concat(pieces), error: undefined };
  } catch (error) {
    return { bytes: Buffer.concat(pieces), error };
  }
}

/** Uploads `data` as chunks of three 5 MiB parts (the last shorter) and returns the manifest's view of them. */
async function uploadStream(
  scope: ReturnType<typeof gatewayScope>,
  data: Buffer,
): Promise<{ chunks: StoredChunk[]; streamSha256: string }> {
  const keyForChunk = (index: number) => `${scope.prefix}chunks/part-${String(index).padStart(5, '0')}.bin`;
  const result = await uploadChunkedStream(
    { client: scope.client, bucket: scope.bucket, source: streamOf(data), keyForChunk, storageClass: 'STANDARD', sse: 'AES256' },
    { chunkSizeBytes: 15 * MiB, partSizeBytes: 5 * MiB, concurrency: 3 },
  );
  return { chunks: result.chunks.map((chunk) => ({ ...chunk, parts: [...chunk.parts] })), streamSha256: result.streamSha256 };
}

describe('verified download against the real gateway', () => {
  it('returns exactly the uploaded bytes of a stream of several multi-part chunks', async () => {
    const scope = gatewayScope('download');
    try {
      const data = randomBytes(2 * 15 * MiB + 7 * MiB + 123);
      const stored = await uploadStream(scope, data);
      expect(stored.chunks.map((chunk) => chunk.parts.length)).toEqual([3, 3, 2]);
      const progress: number[] = [];

      const received = await receive(
        downloadVerifiedStream(
          { client: scope.client, bucket: scope.bucket, ...stored },
          { concurrency: 3, onProgress: (bytes) => progress.push(bytes) },
        ),
      );

      expect(received.error).toBeUndefined();
      expect(received.bytes.length).toBe(data.length);
      expect(received.bytes.equals(data)).toBe(true);
      expect(progress).toHaveLength(8);
      expect(progress.at(-1)).toBe(data.length);

      // The same through sub-part ranges, as for parts too large to re-fetch whole after a reset.
      const ranged = await receive(
        downloadVerifiedStream({ client: scope.client, bucket: scope.bucket, ...stored }, { concurrency: 2, rangeSizeBytes: 2 * MiB }),
      );
      expect(ranged.error).toBeUndefined();
      expect(sha256(ranged.bytes)).toBe(stored.streamSha256);
    } finally {
      await scope.cleanup();
    }
  });

  it('fails on a chunk object with one flipped byte, naming key, part and hashes, and never passes on the bad part', async () => {
    const scope = gatewayScope('download-corrupt');
    try {
      const data = randomBytes(2 * 15 * MiB + 7 * MiB + 123);
      const stored = await uploadStream(scope, data);
      const target = stored.chunks[1];
      if (target === undefined) throw new Error('expected a second chunk');
      const object = await getBytes(scope.client, scope.bucket, target.key);
      const flipAt = 5 * MiB + 1234;
      object.writeUInt8(object.readUInt8(flipAt) ^ 0x01, flipAt);
      await scope.client.send(new PutObjectCommand({ Bucket: scope.bucket, Key: target.key, Body: object }));

      const received = await receive(downloadVerifiedStream({ client: scope.client, bucket: scope.bucket, ...stored }, { concurrency: 4 }));

      const expected = target.parts[1]?.sha256;
      const actual = sha256(object.subarray(5 * MiB, 10 * MiB));
      expect(received.error).toBeInstanceOf(ChecksumMismatchError);
      expect(received.error).toMatchObject({ subject: 'part sha256', key: target.key, partNumber: 2, expected, actual });
      expect(received.error).toHaveProperty(
        'message',
        expect.stringContaining(`s3://…/${target.key} part 2 failed: part sha256 expected ${expected}, got ${actual}`),
      );
      // Chunk 0 and part 1 of chunk 1, verified; nothing of part 2 or after.
      expect(received.bytes.length).toBe(15 * MiB + 5 * MiB);
      expect(received.bytes.equals(data.subarray(0, 20 * MiB))).toBe(true);
    } finally {
      await scope.cleanup();
    }
  });
});
