import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { s3Error } from '../__fakes__/fake-s3';
import { chunkKey, deferred, FakeS3, randomData, sourceOf, upload } from '../__fakes__/upload-harness';
import { ChunkUploadError, PartMismatchError } from './errors';
import type { UploadRetryEvent } from './types';

const failPart = (partNumber: number, error: unknown, times = Infinity) => {
  let failures = 0;
  return (command: unknown) => {
    if (command instanceof UploadPartCommand && command.input.PartNumber === partNumber && failures < times) {
      failures += 1;
      throw error;
    }
  };
};

async function uploadError(promise: Promise<unknown>): Promise<ChunkUploadError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ChunkUploadError)) throw new Error(`expected a ChunkUploadError, got ${String(error)}`);
  return error;
}

/** Every multipart upload the run opened was aborted, and nothing was completed. */
/**
 * A store that stopped answering these commands: each is held until the caller's signal
 * ends it, as the SDK's would be. Returns, per command, a promise that one was sent.
 */
function silentOn(fake: FakeS3, ...commands: Array<abstract new (...args: never[]) => object>): Array<Promise<void>> {
  const sent = commands.map(() => deferred());
  fake.hook = (command) => {
    const index = commands.findIndex((type) => command instanceof type);
    if (index < 0) return undefined;
    sent[index]?.resolve();
    return new Promise<void>(() => undefined);
  };
  return sent.map((one) => one.promise);
}

function expectAbortedWithoutComplete(fake: FakeS3, keys: string[]) {
  expect(fake.of(AbortMultipartUploadCommand).map(({ input }) => input.Key)).toEqual(keys);
  expect(fake.uploads.size).toBe(0);
  expect(fake.of(CompleteMultipartUploadCommand)).toEqual([]);
}

describe('uploadChunkedStream: failures', () => {
  it('retries an UploadPart answered 503 SlowDown and completes the chunk', async () => {
    const fake = new FakeS3();
    fake.hook = failPart(2, s3Error('SlowDown', 503), 1);
    const retries: UploadRetryEvent[] = [];
    const result = await upload(fake, sourceOf(randomData(10)), { onRetry: (event) => retries.push(event) });
    expect(fake.of(UploadPartCommand).map(({ input }) => input.PartNumber)).toEqual([1, 2, 2, 3]);
    expect(result.retries).toBe(1);
    expect(retries).toMatchObject([{ operation: 'UploadPart', key: chunkKey(0), partNumber: 2, attempt: 1 }]);
    expect(fake.objects.get(chunkKey(0))).toHaveLength(10);
  });

  it('does not retry AccessDenied: aborts the upload and names key, part and cause', async () => {
    const fake = new FakeS3();
    fake.hook = failPart(2, s3Error('AccessDenied', 403));
    const error = await uploadError(upload(fake, sourceOf(randomData(10))));
    expect(error.message).toBe(`upload of chunk s3://…/${chunkKey(0)} part 2 failed in UploadPart: AccessDenied (HTTP 403)`);
    expect(error).toMatchObject({ key: chunkKey(0), partNumber: 2, operation: 'UploadPart', exitCode: 1 });
    expect(error.cause).toMatchObject({ name: 'AccessDenied' });
    expect(fake.of(UploadPartCommand).filter(({ input }) => input.PartNumber === 2)).toHaveLength(1);
    expectAbortedWithoutComplete(fake, [chunkKey(0)]);
  });

  it("retries a one-part chunk's PutObject answered 503, and names PutObject and the key when it is refused, with no upload to abort", async () => {
    const fake = new FakeS3();
    let attempts = 0;
    fake.hook = (command) => {
      if (command instanceof PutObjectCommand && ++attempts === 1) throw s3Error('SlowDown', 503);
    };
    const data = randomData(3);
    const result = await upload(fake, sourceOf(data));
    expect(result.retries).toBe(1);
    expect(fake.objects.get(chunkKey(0))).toEqual(data);

    const refused = new FakeS3();
    refused.hook = (command) => {
      if (command instanceof PutObjectCommand) throw s3Error('AccessDenied', 403);
    };
    const error = await uploadError(upload(refused, sourceOf(data)));
    expect(error).toMatchObject({ key: chunkKey(0), operation: 'PutObject', exitCode: 1, completedChunks: [] });
    expect(error.message).toBe(`upload of chunk s3://…/${chunkKey(0)} failed in PutObject: AccessDenied (HTTP 403)`);
    expect(refused.commands.map((command) => command.constructor.name)).toEqual(['PutObjectCommand']);
    expect(refused.objects.get(chunkKey(0))).toBeUndefined();
  });

  it("sends a one-part chunk's PutObject again when the store kept it but its answer was lost: the same bytes, one object", async () => {
    const fake = new FakeS3();
    let attempts = 0;
    fake.hook = (command) => (command instanceof PutObjectCommand && ++attempts === 1 ? 'lose-response' : undefined);
    const data = randomData(3);

    const result = await upload(fake, sourceOf(data));

    expect(result.retries).toBe(1);
    expect(fake.of(PutObjectCommand).map(({ input }) => input.Key)).toEqual([chunkKey(0), chunkKey(0)]);
    expect(fake.receivedParts.map((part) => part.bytes)).toEqual([data, data]);
    expect(fake.objects.get(chunkKey(0))).toEqual(data);
    expect(result.chunks[0]?.sha256).toBe(createHash('sha256').update(data).digest('hex'));
  });

  it('aborts after 5 failed attempts of one part and reports the retries', async () => {
    const fake = new FakeS3();
    fake.hook = failPart(3, s3Error('InternalError', 500));
    const retries: UploadRetryEvent[] = [];
    const source = sourceOf(randomData(25));
    const error = await uploadError(upload(fake, source, { concurrency: 2, onRetry: (event) => retries.push(event) }));
    expect(error.message).toMatch(
      new RegExp(`^upload of chunk s3://…/${chunkKey(0)} part 3 failed in UploadPart: InternalError \\(HTTP 500\\)$`),
    );
    expect(fake.of(UploadPartCommand).filter(({ input }) => input.PartNumber === 3 && input.Key === chunkKey(0))).toHaveLength(5);
    expect(retries.map((event) => event.attempt)).toEqual([1, 2, 3, 4]);
    // The source is destroyed so a producer like `btrfs send` stops instead of blocking on a full pipe.
    expect(source.destroyed).toBe(true);
    expect(fake.uploads.size).toBe(0);
    expect(fake.of(AbortMultipartUploadCommand).length).toBeGreaterThanOrEqual(1);
    expect(fake.objects.has(chunkKey(0))).toBe(false);
  });

  it('aborts the open upload when the source fails mid-chunk, keeping earlier chunks listed as completed', async () => {
    const fake = new FakeS3();
    const broken = new Error('btrfs send exited with status 1');
    async function* failingSend() {
      // Chunk 0 (10 bytes) completes, chunk 1's first part is uploaded, its second is being read.
      yield randomData(15);
      throw broken;
    }
    const error = await uploadError(upload(fake, Readable.from(failingSend(), { objectMode: false })));
    expect(error.message).toBe(`upload of chunk s3://…/${chunkKey(1)} part 2 failed in read: btrfs send exited with status 1`);
    expect(error.cause).toBe(broken);
    expect(error.completedChunks.map((chunk) => [chunk.key, chunk.size])).toEqual([[chunkKey(0), 10]]);
    expect(fake.of(AbortMultipartUploadCommand).map(({ input }) => input.Key)).toEqual([chunkKey(1)]);
    expect(fake.uploads.size).toBe(0);
    expect(fake.objects.has(chunkKey(1))).toBe(false);
  });

  it('aborts in-flight parts and the multipart upload when the signal aborts', async () => {
    const fake = new FakeS3();
    // Held until the run's signal aborts the request, as a slow uplink would.
    const [inFlight] = silentOn(fake, UploadPartCommand);
    const controller = new AbortController();
    const source = sourceOf(randomData(25));
    const running = uploadError(upload(fake, source, { signal: controller.signal, concurrency: 2 }));
    await inFlight;
    const reason = new Error('SIGTERM received');
    controller.abort(reason);
    const error = await running;
    expect(error.operation).toBe('abort');
    expect(error.cause).toBe(reason);
    expect(error.message).toContain(`s3://…/${chunkKey(0)}`);
    expect(source.destroyed).toBe(true);
    expectAbortedWithoutComplete(fake, [chunkKey(0)]);
  });

  it('aborts before Complete when the store lists fewer parts than were sent', async () => {
    const fake = new FakeS3();
    fake.listPartsFilter = (parts) => parts.filter((part) => part.PartNumber !== 2);
    const error = await uploadError(upload(fake, sourceOf(randomData(10))));
    expect(error.operation).toBe('verify parts');
    expect(error.cause).toBeInstanceOf(PartMismatchError);
    expect(error.message).toContain('the store holds 2 parts, 3 were sent');
    expectAbortedWithoutComplete(fake, [chunkKey(0)]);
  });

  it('aborts before Complete when a stored part is shorter than the part sent', async () => {
    const fake = new FakeS3();
    fake.listPartsFilter = (parts) => parts.map((part) => (part.PartNumber === 1 ? { ...part, Size: 3 } : part));
    const error = await uploadError(upload(fake, sourceOf(randomData(10))));
    expect(error.message).toContain('the store holds 3 bytes of part 1, 4 were sent');
    expectAbortedWithoutComplete(fake, [chunkKey(0)]);
  });

  it('aborts before Complete when UploadPart returned no ETag', async () => {
    const fake = new FakeS3();
    fake.etagFor = (bytes, partNumber) => (partNumber === 3 ? undefined : `"${bytes.length}"`);
    const error = await uploadError(upload(fake, sourceOf(randomData(10))));
    expect(error.message).toContain('UploadPart returned no ETag for part 3');
    expectAbortedWithoutComplete(fake, [chunkKey(0)]);
  });

  it('names s3.sse when the store refuses SSE on CreateMultipartUpload', async () => {
    const fake = new FakeS3();
    fake.hook = (command) => {
      if (command instanceof CreateMultipartUploadCommand) throw s3Error('InvalidRequest', 400);
    };
    const error = await uploadError(upload(fake, sourceOf(randomData(10))));
    expect(error.message).toMatch(/failed in CreateMultipartUpload: InvalidRequest \(HTTP 400\); .*s3\.sse setting/);
    expect(fake.of(CreateMultipartUploadCommand)).toHaveLength(1);
    expect(fake.of(UploadPartCommand)).toEqual([]);
  });

  it('reports an AbortMultipartUpload that keeps failing instead of hiding it', async () => {
    const fake = new FakeS3();
    const denied = s3Error('AccessDenied', 403);
    const uploadDenied = failPart(1, s3Error('AccessDenied', 403));
    fake.hook = (command) => {
      if (command instanceof AbortMultipartUploadCommand) throw denied;
      uploadDenied(command);
    };
    const error = await uploadError(upload(fake, sourceOf(randomData(10))));
    expect(error.cleanupErrors).toEqual([denied]);
    expect(error.message).toContain('1 multipart upload(s) could not be aborted: AccessDenied (HTTP 403)');
    expect(fake.uploads.size).toBe(1);
  });

  it("stops waiting for an AbortMultipartUpload the store never answers once the stop's grace has passed", async () => {
    const fake = new FakeS3();
    const [partInFlight, abortSent] = silentOn(fake, UploadPartCommand, AbortMultipartUploadCommand);
    const controller = new AbortController();
    const running = uploadError(upload(fake, sourceOf(randomData(25)), { signal: controller.signal, stopGraceMs: 50 }));
    await partInFlight;
    controller.abort(new Error('SIGTERM received'));
    const error = await running;
    await abortSent;
    expect(error.operation).toBe('abort');
    expect(error.cleanupErrors).toHaveLength(1);
    expect(error.message).toContain(
      `1 multipart upload(s) could not be aborted: ${chunkKey(0)}: the store did not answer AbortMultipartUpload in time`,
    );
    expect(fake.uploads.size).toBe(1);
    // Without the grace the test would wait for jest's own timeout; fail fast instead.
  }, 10_000);

  it("ends a CompleteMultipartUpload the store never answers once the stop's grace has passed", async () => {
    const fake = new FakeS3();
    // Begun, a Complete is let finish after a stop; this store never answers it.
    const [completeSent] = silentOn(fake, CompleteMultipartUploadCommand);
    const controller = new AbortController();
    const running = uploadError(upload(fake, sourceOf(randomData(10)), { signal: controller.signal, stopGraceMs: 50 }));
    await completeSent;
    controller.abort(new Error('SIGTERM received'));
    const error = await running;
    expect(error.operation).toBe('abort');
    expect(fake.objects.has(chunkKey(0))).toBe(false);
    // Without the grace the test would wait for jest's own timeout; fail fast instead.
  }, 10_000);

  it('treats NoSuchUpload on a retried Complete as done when the object is there with the chunk size', async () => {
    const fake = new FakeS3();
    let completes = 0;
    fake.hook = (command) => {
      // The first Complete succeeds on the store but its response is lost.
      if (command instanceof CompleteMultipartUploadCommand && completes++ === 0) return 'lose-response';
      return undefined;
    };
    const result = await upload(fake, sourceOf(randomData(10)));
    expect(completes).toBe(2);
    expect(result.retries).toBe(1);
    expect(result.chunks).toHaveLength(1);
    expect(fake.objects.get(chunkKey(0))).toHaveLength(10);
  });

  it('fails the run when the completed object has a size other than the chunk', async () => {
    const fake = new FakeS3();
    fake.hook = (command) => {
      if (command instanceof HeadObjectCommand) fake.objects.set(chunkKey(0), Buffer.alloc(9));
    };
    const error = await uploadError(upload(fake, sourceOf(randomData(10))));
    expect(error.operation).toBe('verify object');
    expect(error.message).toContain('the completed object holds 9 bytes, 10 were sent');
  });
});
