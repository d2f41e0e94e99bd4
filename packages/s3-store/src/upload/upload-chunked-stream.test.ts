import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { chunkKey, commandNames, doublingEncoder, FakeS3, randomData, sha256, sourceOf, upload } from '../__fakes__/upload-harness';

describe('uploadChunkedStream: splitting and the call sequence', () => {
  it('sends Create, each part in order, ListParts, Complete and HeadObject per chunk, with exact part numbers and bytes', async () => {
    const fake = new FakeS3();
    const data = randomData(25);
    const result = await upload(fake, sourceOf(data), { chunkSizeBytes: 10, partSizeBytes: 4, concurrency: 1 });

    const perChunk = (parts: number) => [
      'CreateMultipartUpload',
      ...Array<string>(parts).fill('UploadPart'),
      'ListParts',
      'CompleteMultipartUpload',
      'HeadObject',
    ];
    expect(commandNames(fake)).toEqual([...perChunk(3), ...perChunk(3), ...perChunk(2)]);
    expect(fake.of(UploadPartCommand).map(({ input }) => [input.Key, input.PartNumber, input.ContentLength])).toEqual([
      [chunkKey(0), 1, 4],
      [chunkKey(0), 2, 4],
      [chunkKey(0), 3, 2],
      [chunkKey(1), 1, 4],
      [chunkKey(1), 2, 4],
      [chunkKey(1), 3, 2],
      [chunkKey(2), 1, 4],
      [chunkKey(2), 2, 1],
    ]);
    expect(Buffer.concat(fake.receivedParts.map((part) => part.bytes))).toEqual(data);
    expect(fake.of(CompleteMultipartUploadCommand)[0]?.input.MultipartUpload?.Parts?.map((part) => part.PartNumber)).toEqual([1, 2, 3]);
    expect(result.chunks.map((chunk) => [chunk.key, chunk.size, chunk.parts.map((part) => part.size)])).toEqual([
      [chunkKey(0), 10, [4, 4, 2]],
      [chunkKey(1), 10, [4, 4, 2]],
      [chunkKey(2), 5, [4, 1]],
    ]);
    expect(result.partCount).toBe(8);
    expect(result.totalBytes).toBe(25);
    expect(result.retries).toBe(0);
  });

  it('with an encoder, stores its bytes, ends chunks at its boundaries and reports its plaintext sizes and hashes', async () => {
    const fake = new FakeS3();
    const encode = doublingEncoder(6);
    const data = randomData(15);
    const limits = { minPartSizeBytes: 1, maxPartsPerObject: 1_000_000 }; // an encoded chunk's bound adds 64 KiB: many 4-byte parts
    const result = await upload(fake, sourceOf(data), { limits }, { encode });
    expect(result.chunks.map((chunk) => [chunk.size, chunk.plainSize, chunk.parts.map((part) => part.size)])).toEqual([
      [12, 6, [4, 4, 4]],
      [12, 6, [4, 4, 4]],
      [6, 3, [4, 2]],
    ]);
    expect(result.chunks[2]?.plainSha256).toBe(sha256(data.subarray(12)));
    expect(result.chunks[2]?.sha256).toBe(sha256(Buffer.concat([data.subarray(12), data.subarray(12)])));
    expect([result.totalBytes, result.storedBytes, result.streamSha256]).toEqual([15, 30, sha256(data)]);
    // Encoded chunks can store more than chunkSizeBytes: whole parts, not parts cut to the chunk size.
    const small = await upload(new FakeS3(), sourceOf(data), { chunkSizeBytes: 3, limits }, { encode });
    expect(small.chunks.map((chunk) => chunk.parts.map((part) => part.size))).toEqual([
      [4, 4, 4],
      [4, 4, 4],
      [4, 2],
    ]);
  });

  it('puts SSE-S3 and the storage class on every CreateMultipartUpload', async () => {
    const fake = new FakeS3();
    await upload(
      fake,
      sourceOf(randomData(25)),
      { contentType: 'application/octet-stream' },
      { storageClass: 'DEEP_ARCHIVE', sse: 'AES256' },
    );
    const creates = fake.of(CreateMultipartUploadCommand);
    expect(creates).toHaveLength(3);
    for (const { input } of creates) {
      expect(input).toMatchObject({
        Bucket: 'backups',
        ServerSideEncryption: 'AES256',
        StorageClass: 'DEEP_ARCHIVE',
        ContentType: 'application/octet-stream',
      });
    }
  });

  it('sends no SSE header when s3.sse is "none", and the configured storage class', async () => {
    const fake = new FakeS3();
    await upload(fake, sourceOf(randomData(5)), {}, { storageClass: 'STANDARD_IA', sse: 'none' });
    const [create] = fake.of(CreateMultipartUploadCommand);
    expect(create?.input.StorageClass).toBe('STANDARD_IA');
    expect(create?.input).not.toHaveProperty('ServerSideEncryption');
  });

  // The splitter shares hash state between a chunk and its first part, and between the
  // stream and its first chunk; every boundary case must still hash exactly its bytes.
  it.each([
    { size: 1000, read: 33, chunk: 300, part: 64, label: 'several chunks of several parts, reads across boundaries' },
    { size: 250, read: 7, chunk: 300, part: 64, label: 'one chunk (the stream is its first chunk)' },
    { size: 50, read: 50, chunk: 300, part: 64, label: 'one part (the stream, chunk and part are the same bytes)' },
    { size: 600, read: 64, chunk: 300, part: 300, label: 'single-part chunks ending on a boundary' },
    { size: 301, read: 301, chunk: 300, part: 128, label: 'one read spanning a chunk boundary, a 1-byte last chunk' },
  ])(
    'records part, chunk and stream hashes equal to hashes of the bytes S3 received: $label',
    async ({ size, read, chunk: chunkSizeBytes, part: partSizeBytes }) => {
      const fake = new FakeS3();
      const data = randomData(size);
      const result = await upload(fake, sourceOf(data, read), { chunkSizeBytes, partSizeBytes, concurrency: 3 });
      expect(result.streamSha256).toBe(sha256(data));
      let offset = 0;
      for (const chunk of result.chunks) {
        const expected = data.subarray(offset, offset + chunk.size);
        expect(chunk.sha256).toBe(sha256(expected));
        let partOffset = 0;
        for (const part of chunk.parts) {
          expect(part.sha256).toBe(sha256(expected.subarray(partOffset, partOffset + part.size)));
          partOffset += part.size;
        }
        offset += chunk.size;
      }
      expect(offset).toBe(size);
    },
  );

  it('records hashes of each chunk, part and the whole stream equal to hashes of the bytes S3 received', async () => {
    const fake = new FakeS3();
    const data = randomData(1000);
    const result = await upload(fake, sourceOf(data, 33), { chunkSizeBytes: 300, partSizeBytes: 64, concurrency: 3 });

    expect(result.chunks.map((chunk) => chunk.key)).toEqual([0, 1, 2, 3].map(chunkKey));
    expect(result.streamSha256).toBe(sha256(data));
    expect(result.totalBytes).toBe(1000);
    let offset = 0;
    for (const chunk of result.chunks) {
      const expected = data.subarray(offset, offset + chunk.size);
      expect(fake.objects.get(chunk.key)).toEqual(expected);
      expect(chunk.sha256).toBe(sha256(expected));
      expect(chunk.etag).toMatch(/^[0-9a-f]{32}-\d+$/);
      let partOffset = 0;
      for (const part of chunk.parts) {
        expect(part.sha256).toBe(sha256(expected.subarray(partOffset, partOffset + part.size)));
        partOffset += part.size;
      }
      expect(partOffset).toBe(chunk.size);
      offset += chunk.size;
    }
    expect(result.chunks.map((chunk) => chunk.size)).toEqual([300, 300, 300, 100]);
    expect(result.partCount).toBe(5 + 5 + 5 + 2);
  });

  it('writes nothing for an empty stream and returns zero chunks with the hash of no bytes', async () => {
    const fake = new FakeS3();
    const result = await upload(fake, Readable.from([], { objectMode: false }));
    expect(fake.commands).toEqual([]);
    expect(result).toEqual({
      chunks: [],
      totalBytes: 0,
      storedBytes: 0,
      streamSha256: sha256(Buffer.alloc(0)),
      partCount: 0,
      retries: 0,
      resumedBytes: 0,
    });
  });

  it('creates no empty trailing chunk when the stream ends exactly on a chunk boundary', async () => {
    const fake = new FakeS3();
    const result = await upload(fake, sourceOf(randomData(20)), { chunkSizeBytes: 10, partSizeBytes: 5 });
    expect(result.chunks.map((chunk) => chunk.size)).toEqual([10, 10]);
    expect(fake.of(CreateMultipartUploadCommand)).toHaveLength(2);
    expect(fake.of(ListPartsCommand)).toHaveLength(2);
  });

  it('uses the chunk size as the part size when chunks are smaller than parts', async () => {
    const fake = new FakeS3();
    const result = await upload(fake, sourceOf(randomData(7)), { chunkSizeBytes: 3, partSizeBytes: 8 });
    expect(result.chunks.map((chunk) => chunk.parts.map((part) => part.size))).toEqual([[3], [3], [1]]);
  });

  it('stores a chunk that ends inside its first part with one PutObject signed with its SHA-256, and a fuller one as a multipart upload', async () => {
    const fake = new FakeS3();
    const data = randomData(23);
    const parts: number[] = [];
    const result = await upload(fake, sourceOf(data), { concurrency: 1, onPartComplete: (part) => void parts.push(part.chunkIndex) });

    const multipart = [
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'ListParts',
      'CompleteMultipartUpload',
      'HeadObject',
    ];
    expect(commandNames(fake)).toEqual([...multipart, ...multipart, 'PutObject', 'HeadObject']);
    const [put] = fake.of(PutObjectCommand);
    expect(put?.input).toMatchObject({
      Key: chunkKey(2),
      ContentLength: 3,
      StorageClass: 'DEEP_ARCHIVE',
      ServerSideEncryption: 'AES256',
      ChecksumSHA256: Buffer.from(sha256(data.subarray(20)), 'hex').toString('base64'),
    });
    expect(fake.objects.get(chunkKey(2))).toEqual(data.subarray(20));
    expect(result.chunks[2]).toMatchObject({
      key: chunkKey(2),
      size: 3,
      parts: [{ number: 1, size: 3, sha256: sha256(data.subarray(20)) }],
    });
    expect(result.chunks[2]?.etag).toMatch(/^[0-9a-f]{32}$/);
    // A resume record names open uploads' parts; the PutObject's chunk has none, and is recorded whole.
    expect(parts).toEqual([0, 0, 0, 1, 1, 1]);
  });

  it('uploads a stream that ends exactly at a part boundary as a multipart upload (the part was cut before the end was known)', async () => {
    const fake = new FakeS3();
    await upload(fake, sourceOf(randomData(4)));
    expect(commandNames(fake)).toEqual(['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'HeadObject']);
  });

  it('reports progress after each acknowledged part, ending at the total', async () => {
    const fake = new FakeS3();
    const progress: Array<{ bytesUploaded: number; bytesRead: number }> = [];
    await upload(fake, sourceOf(randomData(25)), { onProgress: (event) => progress.push(event) });
    expect(progress.map((event) => event.bytesUploaded)).toEqual([4, 8, 10, 14, 18, 20, 24, 25]);
    // One worker reads a part only after the previous one is acknowledged.
    expect(progress.map((event) => event.bytesRead)).toEqual([4, 8, 10, 14, 18, 20, 24, 25]);
  });

  it('reports each completed chunk exactly once, with its key and size', async () => {
    const fake = new FakeS3();
    const completed: Array<{ key: string; size: number }> = [];
    const result = await upload(fake, sourceOf(randomData(25)), {
      concurrency: 3,
      onChunkComplete: (chunk) => {
        completed.push({ key: chunk.key, size: chunk.size });
      },
    });
    expect(completed.map((chunk) => chunk.key).sort()).toEqual(result.chunks.map((chunk) => chunk.key).sort());
    expect(completed.reduce((sum, chunk) => sum + chunk.size, 0)).toBe(25);
  });

  it('hashes and counts a string-mode source by its UTF-8 bytes', async () => {
    const fake = new FakeS3();
    const source = Readable.from(['ab', 'cdé'], { objectMode: false });
    source.setEncoding('utf8');
    const result = await upload(fake, source);
    expect(result.streamSha256).toBe(sha256(Buffer.from('abcdé')));
    expect(result.totalBytes).toBe(6);
  });
});
