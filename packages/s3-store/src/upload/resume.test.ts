import { AbortMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { chunkKey, doublingEncoder, FakeS3, randomData, sha256, sourceOf, upload } from '../__fakes__/upload-harness';
import { ChunkUploadError, ResumeMismatchError } from './errors';
import type { AcknowledgedPart, ChunkedUploadOptions, UploadedChunk, UploadResume } from './types';

// 25 bytes in chunks of 10 and parts of 4: chunk 0 = parts [4, 4, 2], chunk 1 = [4, 4, 2], chunk 2 = [4, 1].
const DATA = randomData(25);

interface Interrupted {
  readonly fake: FakeS3;
  readonly chunks: UploadedChunk[];
  readonly parts: AcknowledgedPart[];
}

/** A run stopped (its signal aborted, as SIGTERM does) just before sending part 3 of chunk 1, keeping its open upload. */
async function interruptedRun(options: ChunkedUploadOptions = {}): Promise<Interrupted> {
  const fake = new FakeS3();
  const controller = new AbortController();
  fake.hook = (command) => {
    if (command instanceof UploadPartCommand && command.input.Key === chunkKey(1) && command.input.PartNumber === 3) {
      controller.abort(new Error('stopped'));
      throw new Error('stopped');
    }
  };
  const chunks: UploadedChunk[] = [];
  const parts: AcknowledgedPart[] = [];
  await expect(
    upload(fake, sourceOf(DATA), {
      keepOpenUpload: true,
      signal: controller.signal,
      onChunkComplete: (chunk) => {
        chunks.push(chunk);
      },
      onPartComplete: (part) => {
        parts.push(part);
      },
      ...options,
    }),
  ).rejects.toBeInstanceOf(ChunkUploadError);
  fake.hook = () => undefined;
  return { fake, chunks, parts };
}

function resumeOf({ chunks, parts }: Interrupted, notices: string[] = []): UploadResume {
  const open = parts.filter((part) => part.chunkIndex === chunks.length);
  return {
    chunks,
    openUpload: {
      key: chunkKey(chunks.length),
      uploadId: open[0]?.uploadId ?? '',
      parts: open.map(({ number, size, sha256: hash, etag }) => ({ number, size, sha256: hash, etag })),
    },
    onResumeNotice: (message) => notices.push(message),
  };
}

const sentParts = (fake: FakeS3) => fake.of(UploadPartCommand).map(({ input }) => [input.Key, input.PartNumber]);

describe('uploadChunkedStream: resuming an interrupted upload', () => {
  it('keeps the open upload of a stopped run, then sends only the parts it lacks and completes what a clean run would', async () => {
    const interrupted = await interruptedRun();
    expect(interrupted.chunks.map((chunk) => chunk.key)).toEqual([chunkKey(0)]);
    expect(interrupted.fake.uploads.size).toBe(1); // chunk 1's upload, with parts 1 and 2: kept, not aborted
    const before = sentParts(interrupted.fake).length;

    const result = await upload(interrupted.fake, sourceOf(DATA), { resume: resumeOf(interrupted) });
    expect(sentParts(interrupted.fake).slice(before)).toEqual([
      [chunkKey(1), 3],
      [chunkKey(2), 1],
      [chunkKey(2), 2],
    ]);
    for (const index of [0, 1, 2])
      expect(interrupted.fake.objects.get(chunkKey(index))).toEqual(DATA.subarray(index * 10, index * 10 + 10));
    const clean = await upload(new FakeS3(), sourceOf(DATA));
    const shape = (chunk: UploadedChunk) => ({ ...chunk, etag: undefined });
    expect(result.chunks.map(shape)).toEqual(clean.chunks.map(shape));
    expect([result.totalBytes, result.storedBytes, result.streamSha256, result.partCount]).toEqual([25, 25, sha256(DATA), 8]);
    expect(result.resumedBytes).toBe(18); // chunk 0 and parts 1-2 of chunk 1
    expect(interrupted.fake.uploads.size).toBe(0);
  });

  it('refuses a re-read whose stored chunk slice differs, before sending anything', async () => {
    const interrupted = await interruptedRun();
    const before = sentParts(interrupted.fake).length;
    const changed = Buffer.from(DATA);
    changed[3] = (changed[3] ?? 0) ^ 1;
    const error = await upload(interrupted.fake, sourceOf(changed), { resume: resumeOf(interrupted) }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ChunkUploadError);
    expect((error as ChunkUploadError).cause).toBeInstanceOf(ResumeMismatchError);
    expect(String((error as ChunkUploadError).message)).toContain("chunk 0's slice of the send stream differs");
    expect(sentParts(interrupted.fake).length).toBe(before);
  });

  it('refuses a re-read whose part of the open upload differs', async () => {
    const interrupted = await interruptedRun();
    const changed = Buffer.from(DATA);
    changed[15] = (changed[15] ?? 0) ^ 1; // part 2 of chunk 1
    const error = await upload(interrupted.fake, sourceOf(changed), { resume: resumeOf(interrupted) }).catch((reason: unknown) => reason);
    expect((error as ChunkUploadError).cause).toBeInstanceOf(ResumeMismatchError);
    expect((error as ChunkUploadError).message).toContain(`part 2 of ${chunkKey(1)} differs`);
  });

  it('refuses a stream that ends inside a stored chunk', async () => {
    const interrupted = await interruptedRun();
    const error = await upload(interrupted.fake, sourceOf(DATA.subarray(0, 6)), { resume: resumeOf(interrupted) }).catch(
      (reason: unknown) => reason,
    );
    expect((error as ChunkUploadError).cause).toBeInstanceOf(ResumeMismatchError);
  });

  it('starts the open chunk over, after aborting its upload, when the store lacks a recorded part', async () => {
    const interrupted = await interruptedRun();
    // Once: the resumed run's check of the old upload; its new upload of the chunk is listed as it is.
    interrupted.fake.listPartsFilter = (parts) => {
      interrupted.fake.listPartsFilter = (all) => all;
      return parts.filter((part) => part.PartNumber !== 2);
    };
    const notices: string[] = [];
    const before = sentParts(interrupted.fake).length;
    const result = await upload(interrupted.fake, sourceOf(DATA), { resume: resumeOf(interrupted, notices) });
    expect(notices).toEqual([`the store lacks part 2 of ${chunkKey(1)}: uploading that chunk again from its start`]);
    expect(interrupted.fake.of(AbortMultipartUploadCommand)).toHaveLength(1);
    expect(result).toMatchObject({ totalBytes: 25, streamSha256: sha256(DATA), resumedBytes: 10 });
    expect(sentParts(interrupted.fake).slice(before)).toEqual([
      [chunkKey(1), 1],
      [chunkKey(1), 2],
      [chunkKey(1), 3],
      [chunkKey(2), 1],
      [chunkKey(2), 2],
    ]);
    expect(interrupted.fake.objects.get(chunkKey(1))).toEqual(DATA.subarray(10, 20));
  });

  it('with an encoder, resumes whole chunks only: the open chunk starts over', async () => {
    const encode = doublingEncoder(10);
    const clean = await upload(new FakeS3(), sourceOf(DATA), { partSizeBytes: 8 }, { encode });
    const fake = new FakeS3();
    const resume = { chunks: clean.chunks.slice(0, 1), openUpload: { key: chunkKey(1), uploadId: 'gone', parts: [] } };
    // The encoder sees only what follows chunk 0: a resumed encoder starts at its chunk.
    const result = await upload(fake, sourceOf(DATA), { partSizeBytes: 8, resume }, { encode });
    expect(sentParts(fake).map(([key]) => key)).not.toContain(chunkKey(0));
    expect(result.chunks.map((chunk) => [chunk.plainSize, chunk.plainSha256])).toEqual(
      clean.chunks.map((chunk) => [chunk.plainSize, chunk.plainSha256]),
    );
    expect([result.totalBytes, result.streamSha256, result.resumedBytes]).toEqual([25, sha256(DATA), 10]);
  });
});
