import { CreateMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { MiB } from '@org/btrfs-s3-core';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { abortStaleMultipartUploads } from '../../src/stale-multipart';
import { ChunkUploadError } from '../../src/upload/errors';
import { uploadChunkedStream } from '../../src/upload/upload-chunked-stream';
import { gatewayScope, getBytes, incompleteUploads, streamOf } from './gateway';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('chunked stream upload against the real gateway', () => {
  it('splits a 40 MiB stream into DEEP_ARCHIVE, SSE-S3 chunk objects whose bytes match the recorded hashes', async () => {
    const scope = gatewayScope('multi-chunk');
    try {
      const data = randomBytes(40 * MiB + 123);
      const keyForChunk = (index: number) => `${scope.prefix}chunks/part-${String(index).padStart(5, '0')}.bin`;
      const result = await uploadChunkedStream(
        { client: scope.client, bucket: scope.bucket, source: streamOf(data), keyForChunk, storageClass: 'DEEP_ARCHIVE', sse: 'AES256' },
        { chunkSizeBytes: 12 * MiB, partSizeBytes: 5 * MiB, concurrency: 3 },
      );

      expect(result.chunks.map((chunk) => chunk.key)).toEqual([0, 1, 2, 3].map(keyForChunk));
      expect(result.chunks.map((chunk) => chunk.size)).toEqual([12 * MiB, 12 * MiB, 12 * MiB, 4 * MiB + 123]);
      expect(result.chunks.map((chunk) => chunk.parts.map((part) => part.size))).toEqual([
        [5 * MiB, 5 * MiB, 2 * MiB],
        [5 * MiB, 5 * MiB, 2 * MiB],
        [5 * MiB, 5 * MiB, 2 * MiB],
        [4 * MiB + 123],
      ]);
      expect(result.totalBytes).toBe(data.length);
      expect(result.partCount).toBe(10);
      expect(result.streamSha256).toBe(sha256(data));

      const stored: Buffer[] = [];
      for (const chunk of result.chunks) {
        const bytes = await getBytes(scope.client, scope.bucket, chunk.key);
        expect(sha256(bytes)).toBe(chunk.sha256);
        const head = await scope.client.send(new HeadObjectCommand({ Bucket: scope.bucket, Key: chunk.key }));
        expect(head.StorageClass).toBe('DEEP_ARCHIVE');
        expect(head.ContentLength).toBe(chunk.size);
        expect(`"${chunk.etag}"`).toBe(head.ETag);
        stored.push(bytes);
      }
      expect(Buffer.concat(stored).equals(data)).toBe(true);
      expect(await incompleteUploads(scope.client, scope.bucket, scope.prefix)).toEqual([]);
    } finally {
      await scope.cleanup();
    }
  });

  it('stores a stream shorter than a part with one PutObject the gateway checks against its signed SHA-256: a byte flipped on the way is refused, then sent again', async () => {
    const scope = gatewayScope('one-part');
    try {
      const data = randomBytes(3 * MiB + 7);
      let flipped = 0;
      // After signing, as a damaged network path would: the first PutObject's body loses a bit (a copy, not the part buffer).
      scope.client.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { method?: string; body?: unknown };
          if (request.method === 'PUT' && Buffer.isBuffer(request.body) && flipped === 0) {
            flipped += 1;
            const damaged = Buffer.from(request.body);
            damaged[1000] = (damaged[1000] ?? 0) ^ 0x01;
            request.body = damaged;
          }
          return next(args);
        },
        { step: 'deserialize', name: 'flipOneBit' },
      );
      const errors: string[] = [];
      const result = await uploadChunkedStream(
        {
          client: scope.client,
          bucket: scope.bucket,
          source: streamOf(data),
          keyForChunk: (index) => `${scope.prefix}chunk-${index}.bin`,
          storageClass: 'STANDARD',
          sse: 'AES256',
        },
        {
          chunkSizeBytes: 12 * MiB,
          partSizeBytes: 5 * MiB,
          retry: { baseDelayMs: 10 },
          onRetry: (event) => errors.push(String((event.error as Error).name)),
        },
      );

      expect(flipped).toBe(1);
      expect(errors).toEqual(['XAmzContentSHA256Mismatch']);
      const [chunk] = result.chunks;
      expect(result.chunks).toHaveLength(1);
      expect(chunk?.parts).toEqual([{ number: 1, size: data.length, sha256: sha256(data) }]);
      expect((await getBytes(scope.client, scope.bucket, chunk?.key ?? '')).equals(data)).toBe(true);
      // One PUT: its ETag is the MD5 of the bytes, not a multipart ETag, and no upload was opened.
      expect(chunk?.etag).toBe(createHash('md5').update(data).digest('hex'));
      expect(await incompleteUploads(scope.client, scope.bucket, scope.prefix)).toEqual([]);
    } finally {
      await scope.cleanup();
    }
  });

  it("checks a chunk of more parts than one ListParts page holds, paging through the store's answers (MaxParts forced to 2)", async () => {
    const scope = gatewayScope('list-parts-pages');
    const listParts: { marker: string | undefined; parts: number; truncated: boolean }[] = [];
    scope.client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { MaxParts?: number; PartNumberMarker?: string };
        const isListParts = context.commandName === 'ListPartsCommand';
        if (isListParts) input.MaxParts = 2;
        const result = await next(args);
        const output = result.output as { Parts?: unknown[]; IsTruncated?: boolean };
        if (isListParts && output.Parts !== undefined)
          listParts.push({ marker: input.PartNumberMarker, parts: output.Parts.length, truncated: output.IsTruncated === true });
        return result;
      },
      { step: 'initialize', name: 'smallListPartsPages' },
    );
    try {
      const data = randomBytes(5 * 5 * MiB);
      const keyForChunk = (index: number) => `${scope.prefix}chunks/part-${String(index).padStart(5, '0')}.bin`;
      const result = await uploadChunkedStream(
        { client: scope.client, bucket: scope.bucket, source: streamOf(data), keyForChunk, storageClass: 'STANDARD', sse: 'AES256' },
        { chunkSizeBytes: 25 * MiB, partSizeBytes: 5 * MiB, concurrency: 3 },
      );

      expect(result.chunks.map((chunk) => chunk.parts.length)).toEqual([5]);
      // Five parts in pages of two: the store said "truncated" twice, and every page was read.
      expect(listParts.map((page) => [page.parts, page.truncated])).toEqual([
        [2, true],
        [2, true],
        [1, false],
      ]);
      expect(sha256(await getBytes(scope.client, scope.bucket, keyForChunk(0)))).toBe(sha256(data));
    } finally {
      await scope.cleanup();
    }
  });

  it('uploads through a disk spool with the same result and leaves no part files', async () => {
    const scope = gatewayScope('spool');
    const dir = await mkdtemp(join(tmpdir(), 'spool-it-'));
    try {
      const data = randomBytes(17 * MiB + 5);
      const keyForChunk = (index: number) => `${scope.prefix}part-${index}.bin`;
      const result = await uploadChunkedStream(
        { client: scope.client, bucket: scope.bucket, source: streamOf(data), keyForChunk, storageClass: 'STANDARD', sse: 'AES256' },
        { chunkSizeBytes: 11 * MiB, partSizeBytes: 5 * MiB, concurrency: 2, spool: { dir, maxBytes: 15 * MiB } },
      );
      const stored = await Promise.all(result.chunks.map((chunk) => getBytes(scope.client, scope.bucket, chunk.key)));
      expect(Buffer.concat(stored).equals(data)).toBe(true);
      expect(result.chunks.map((chunk) => chunk.sha256)).toEqual(stored.map(sha256));
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      await scope.cleanup();
    }
  });

  it('leaves no incomplete multipart upload behind when the source fails mid-upload', async () => {
    const scope = gatewayScope('source-error');
    try {
      const failure = new Error('btrfs send: ERROR: send ioctl failed with -5: Input/output error');
      async function* failingSend() {
        // Chunk 0 (8 MiB) completes; chunk 1's first 5 MiB part is uploaded; its second part is cut short.
        for (let sent = 0; sent < 14 * MiB; sent += MiB) yield randomBytes(MiB);
        throw failure;
      }
      const keyForChunk = (index: number) => `${scope.prefix}part-${index}.bin`;
      const upload = uploadChunkedStream(
        {
          client: scope.client,
          bucket: scope.bucket,
          source: Readable.from(failingSend(), { objectMode: false }),
          keyForChunk,
          storageClass: 'DEEP_ARCHIVE',
          sse: 'AES256',
        },
        { chunkSizeBytes: 8 * MiB, partSizeBytes: 5 * MiB, concurrency: 1 },
      );

      const error = await upload.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(ChunkUploadError);
      expect(error).toMatchObject({ key: keyForChunk(1), partNumber: 2, operation: 'read', cause: failure });
      // The upload of chunk 1 was started (its part 1 sent) and then aborted on the gateway.
      expect(await incompleteUploads(scope.client, scope.bucket, scope.prefix)).toEqual([]);
      await expect(scope.client.send(new HeadObjectCommand({ Bucket: scope.bucket, Key: keyForChunk(1) }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
      expect(error instanceof ChunkUploadError ? error.completedChunks.map((chunk) => chunk.key) : []).toEqual([keyForChunk(0)]);
    } finally {
      await scope.cleanup();
    }
  });

  it('aborts incomplete uploads initiated before the cutoff and keeps newer ones', async () => {
    const scope = gatewayScope('stale');
    try {
      const create = (key: string) =>
        scope.client.send(
          new CreateMultipartUploadCommand({ Bucket: scope.bucket, Key: `${scope.prefix}${key}`, ServerSideEncryption: 'AES256' }),
        );
      const old = await create('old/part-00000.bin');
      const fresh = await create('fresh/part-00000.bin');
      const listing = await scope.client.send(new ListMultipartUploadsCommand({ Bucket: scope.bucket, Prefix: scope.prefix }));
      const initiated = (uploadId: string | undefined) =>
        listing.Uploads?.find((upload) => upload.UploadId === uploadId)?.Initiated?.getTime() ?? NaN;
      // The gateway reports Initiated in milliseconds; the second create comes strictly later.
      expect(initiated(old.UploadId)).toBeLessThan(initiated(fresh.UploadId));

      const aborted = await abortStaleMultipartUploads(scope.client, scope.bucket, scope.prefix, new Date(initiated(fresh.UploadId)));

      expect(aborted.map((upload) => [upload.key, upload.uploadId])).toEqual([[`${scope.prefix}old/part-00000.bin`, old.UploadId]]);
      expect(await incompleteUploads(scope.client, scope.bucket, scope.prefix)).toEqual([`${scope.prefix}fresh/part-00000.bin`]);
    } finally {
      await scope.cleanup();
    }
  });
});
