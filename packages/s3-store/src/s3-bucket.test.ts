import {
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  RestoreObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ThawPendingError } from '@org/btrfs-s3-core';
import { receive } from './__fakes__/download-harness';
import { FakeS3Bucket } from './__fakes__/fake-bucket';
import { s3Error } from './__fakes__/fake-store';
import { chunkKey, deferred, randomData, sourceOf } from './__fakes__/upload-harness';
import { ChunkUploadError } from './upload/errors';
import { S3Bucket, type S3BucketConfig } from './s3-bucket';

const CONFIG: S3BucketConfig = { bucket: 'backups', sse: 'AES256' };
const instant = { sleep: async () => undefined };
/** Byte-sized parts, as the uploader's own tests use. */
const TINY = { chunkSizeBytes: 10, partSizeBytes: 4, concurrency: 2, limits: { minPartSizeBytes: 1 } };

function bucketOn(fake: FakeS3Bucket, config: Partial<S3BucketConfig> = {}, signal?: AbortSignal): S3Bucket {
  return new S3Bucket(fake, { ...CONFIG, ...config }, { retry: instant, signal });
}

describe('S3Bucket', () => {
  it('uploads, lists, checks, downloads and deletes in its own bucket, with its SSE on every write', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake);
    const data = randomData(25);

    await bucket.putObject('host/current.json', '{}', { storageClass: 'STANDARD' });
    const uploaded = await bucket.uploadChunkedStream({ source: sourceOf(data), keyForChunk: chunkKey, storageClass: 'STANDARD' }, TINY);
    const chunks = uploaded.chunks.map((chunk) => ({ ...chunk, parts: [...chunk.parts] }));
    const listed = await bucket.listObjects('host/');
    const checked = await bucket.checkChunks(chunks, uploaded.streamSha256, { reads: 'all' });
    const downloaded = await receive(bucket.downloadVerifiedStream({ chunks, streamSha256: uploaded.streamSha256 }, { concurrency: 2 }));
    const deleted = await bucket.deleteObjects(listed.map((object) => object.key));

    expect(listed.map((object) => object.key)).toEqual(['host/current.json', chunkKey(0), chunkKey(1), chunkKey(2)]);
    expect(checked.stream).toEqual({ checked: true, expected: uploaded.streamSha256, actual: uploaded.streamSha256 });
    expect(downloaded).toEqual({ bytes: data, error: undefined });
    expect(deleted).toBe(4);
    expect(fake.objects.size).toBe(0);
    expect(new Set(fake.commands.map((command) => command.input.Bucket))).toEqual(new Set(['backups']));
    expect(fake.of(PutObjectCommand)[0]?.input.ServerSideEncryption).toBe('AES256');
    expect(fake.of(CreateMultipartUploadCommand).map((command) => command.input.ServerSideEncryption)).toEqual([
      'AES256',
      'AES256',
      'AES256',
    ]);
  });

  it('sends no SSE header when s3.sse is "none"', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake, { sse: 'none' });

    await bucket.putObject('k', 'v', { storageClass: 'STANDARD' });
    await bucket.uploadChunkedStream({ source: sourceOf(randomData(3)), keyForChunk: chunkKey, storageClass: 'STANDARD' }, TINY);

    expect(fake.of(PutObjectCommand)[0]?.input.ServerSideEncryption).toBeUndefined();
    expect(fake.of(CreateMultipartUploadCommand)[0]?.input.ServerSideEncryption).toBeUndefined();
  });

  it('puts SSE-KMS with its key on every PUT and CreateMultipartUpload, and no key unless one is set', async () => {
    const fake = new FakeS3Bucket();
    const kms = bucketOn(fake, { sse: 'aws:kms', sse_kms_key_id: 'alias/backups' });
    await kms.putObject('k', 'v', { storageClass: 'STANDARD' });
    // Two parts (a multipart upload), then one (a chunk stored with one PutObject).
    await kms.uploadChunkedStream({ source: sourceOf(randomData(6)), keyForChunk: chunkKey, storageClass: 'STANDARD' }, TINY);
    await kms.uploadChunkedStream({ source: sourceOf(randomData(3)), keyForChunk: (i) => `one/${i}`, storageClass: 'STANDARD' }, TINY);
    await bucketOn(fake, { sse: 'aws:kms' }).putObject('k2', 'v', { storageClass: 'STANDARD' });

    const [put, chunkPut, defaultKey] = fake.of(PutObjectCommand).map((command) => command.input);
    expect(put).toMatchObject({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/backups' });
    expect(chunkPut).toMatchObject({ Key: 'one/0', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/backups' });
    expect(fake.of(CreateMultipartUploadCommand)[0]?.input).toMatchObject({
      ServerSideEncryption: 'aws:kms',
      SSEKMSKeyId: 'alias/backups',
    });
    expect(defaultKey).toMatchObject({ Key: 'k2', ServerSideEncryption: 'aws:kms' });
    expect(defaultKey).not.toHaveProperty('SSEKMSKeyId');
  });

  it('names s3.sse_kms_key_id in the hint when a store refuses SSE-KMS', async () => {
    const fake = new FakeS3Bucket();
    fake.objectOps.hook = () => {
      throw s3Error('InvalidRequest', 400);
    };
    await expect(bucketOn(fake, { sse: 'aws:kms' }).putObject('k', 'v', { storageClass: 'STANDARD' })).rejects.toThrow(
      'the store may refuse server-side encryption (x-amz-server-side-encryption: aws:kms); check its SSE support or the s3.sse and s3.sse_kms_key_id setting',
    );
  });

  it('replaces an object on a store that refuses every If-Match (Ceph RGW 16 in a versioned bucket) while its ETag is the one read, and still refuses one that changed', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake);
    await bucket.putObject('host/current.json', 'v1', { storageClass: 'STANDARD' });
    const read = await bucket.readTextWithEtag('host/current.json');
    fake.objectOps.hook = (command) => {
      if (command instanceof PutObjectCommand && command.input.IfMatch !== undefined) throw s3Error('PreconditionFailed', 412);
    };

    await bucket.putObject('host/current.json', 'v2', { storageClass: 'STANDARD', condition: { ifMatch: read?.etag ?? '' } });
    expect(await bucket.readTextIfExists('host/current.json')).toBe('v2');
    await expect(
      bucket.putObject('host/current.json', 'v3', { storageClass: 'STANDARD', condition: { ifMatch: read?.etag ?? '' } }),
    ).rejects.toThrow('it changed since this run read it');
    expect(await bucket.readTextIfExists('host/current.json')).toBe('v2');
    // Each If-Match goes out unquoted, then quoted, before the object is read; only v2, whose ETag still matched, went unconditional.
    const quoted = read?.etag ?? '';
    const unquoted = quoted.replace(/^"(.*)"$/, '$1');
    expect(unquoted).not.toBe(quoted);
    expect(fake.of(PutObjectCommand).map((command) => command.input.IfMatch)).toEqual([
      undefined,
      unquoted,
      quoted,
      undefined,
      unquoted,
      quoted,
    ]);
  });

  it('sends If-Match unquoted first (one PUT where the store takes it) and quoted next, without a read, where only that form matches', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake);
    await bucket.putObject('host/current.json', 'v1', { storageClass: 'STANDARD' });
    const first = await bucket.readTextWithEtag('host/current.json');
    await bucket.putObject('host/current.json', 'v2', { storageClass: 'STANDARD', condition: { ifMatch: first?.etag ?? '' } });
    const second = await bucket.readTextWithEtag('host/current.json');
    // A store that takes only the RFC's quoted entity-tag.
    fake.objectOps.hook = (command) => {
      const ifMatch = command instanceof PutObjectCommand ? command.input.IfMatch : undefined;
      if (ifMatch !== undefined && !ifMatch.startsWith('"')) throw s3Error('PreconditionFailed', 412);
    };
    await bucket.putObject('host/current.json', 'v3', { storageClass: 'STANDARD', condition: { ifMatch: second?.etag ?? '' } });

    expect(fake.of(GetObjectCommand)).toHaveLength(2); // the test's own reads: the refusal was settled without one
    expect(await bucket.readTextIfExists('host/current.json')).toBe('v3');
    const unquote = (etag: string | undefined) => (etag ?? '').replace(/^"(.*)"$/, '$1');
    expect(fake.of(PutObjectCommand).map((command) => command.input.IfMatch)).toEqual([
      undefined,
      unquote(first?.etag),
      unquote(second?.etag),
      second?.etag,
    ]);
  });

  it('retries whole-object calls, listings and parts as often as s3.retry_attempts says', async () => {
    const fake = new FakeS3Bucket();
    fake.put('k', Buffer.from('v'));
    const bucket = bucketOn(fake, { retry_attempts: 2 });
    const slowDown = () => {
      throw s3Error('SlowDown', 503);
    };
    fake.objectOps.hook = slowDown;
    fake.multipart.hook = (command) => (command instanceof UploadPartCommand ? slowDown() : undefined);

    await expect(bucket.objectExists('k')).rejects.toThrow('S3 HeadObject s3://…/k failed: SlowDown (HTTP 503)');
    await expect(bucket.listObjects('p/')).rejects.toThrow('S3 ListObjectsV2 s3://…/p/ failed: SlowDown (HTTP 503)');
    await expect(
      bucket.uploadChunkedStream({ source: sourceOf(randomData(6)), keyForChunk: chunkKey, storageClass: 'STANDARD' }, TINY),
    ).rejects.toBeInstanceOf(ChunkUploadError);

    expect(fake.of(HeadObjectCommand)).toHaveLength(2);
    expect(fake.of(ListObjectsV2Command)).toHaveLength(2);
    expect(fake.of(UploadPartCommand)).toHaveLength(2);
  });

  it('reads a small object as text, and a missing one as undefined', async () => {
    const fake = new FakeS3Bucket();
    fake.put('host/current.json', Buffer.from('{"a":1}'));
    const bucket = bucketOn(fake);

    expect(await bucket.readTextIfExists('host/current.json')).toBe('{"a":1}');
    expect(await bucket.readTextIfExists('host/missing.json')).toBeUndefined();
    expect(await bucket.objectExists('host/missing.json')).toBe(false);
    expect(await bucket.headObject('host/current.json')).toEqual({ key: 'host/current.json', size: 7, storageClass: 'STANDARD' });
  });

  it('requests the thaw of archived objects and rejects with ThawPendingError when told not to wait', async () => {
    const fake = new FakeS3Bucket();
    fake.put('deep', Buffer.from('chunk'), { storageClass: 'DEEP_ARCHIVE' });
    const bucket = bucketOn(fake);

    await expect(bucket.thawObjects(['deep'], { waitForRestore: false })).rejects.toBeInstanceOf(ThawPendingError);
    fake.objectOps.finishRestore('deep');

    expect(await bucket.thawObjects(['deep'], { waitForRestore: false })).toEqual({ total: 1, requested: 0, ready: 1 });
    expect(fake.of(RestoreObjectCommand).map((command) => command.input.Key)).toEqual(['deep']);
  });

  it('aborts the stale multipart uploads under a prefix that the test picks', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake);
    await fake.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: 'host/a' }));
    await fake.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: 'other/b' }));

    const aborted = await bucket.abortStaleMultipartUploads('host/', () => true);

    expect(aborted.map((upload) => upload.key)).toEqual(['host/a']);
    expect(fake.of(ListMultipartUploadsCommand)[0]?.input).toMatchObject({ Bucket: 'backups', Prefix: 'host/' });
    expect([...fake.uploads.values()].map((upload) => upload.key)).toEqual(['other/b']);
  });

  it("stops listing, deleting, the upload and the download once the run's signal aborts", async () => {
    const fake = new FakeS3Bucket();
    fake.put('p/a', Buffer.from('bytes'));
    const controller = new AbortController();
    const bucket = bucketOn(fake, {}, controller.signal);
    controller.abort(new Error('stopped'));

    await expect(bucket.listObjects('p/')).rejects.toMatchObject({ cause: { message: 'stopped' } });
    await expect(bucket.deleteObjects(['p/a'])).rejects.toMatchObject({ cause: { message: 'stopped' } });
    await expect(
      bucket.uploadChunkedStream({ source: sourceOf(randomData(3)), keyForChunk: chunkKey, storageClass: 'STANDARD' }, TINY),
    ).rejects.toMatchObject({ operation: 'abort' });
    const download = await receive(bucket.downloadVerifiedStream({ chunks: [], streamSha256: 'unused' }));

    expect(download.error).toMatchObject({ name: 'AbortError' });
    expect(fake.of(ListObjectsV2Command)).toHaveLength(0);
    expect(fake.of(DeleteObjectsCommand)).toHaveLength(0);
    expect(fake.of(UploadPartCommand)).toHaveLength(0);
  });

  it("lets a whole-object call finish after the run's signal aborts, but only for the stop's grace", async () => {
    const fake = new FakeS3Bucket();
    const controller = new AbortController();
    const bucket = new S3Bucket(fake, CONFIG, { retry: instant, signal: controller.signal, stopGraceMs: 50 });
    const held = deferred();
    let answer = true;
    fake.objectOps.hook = (command) => {
      if (!(command instanceof PutObjectCommand)) return undefined;
      held.resolve();
      // Answered at once, or, as a store that stopped answering, never.
      return answer ? undefined : new Promise<void>(() => undefined);
    };
    controller.abort(new Error('SIGTERM received'));

    // The store answers: the small write made after the stop still lands.
    await bucket.putObject('p/current.json', '{}', { storageClass: 'STANDARD' });
    expect(fake.objects.get('p/current.json')?.bytes.toString()).toBe('{}');

    // The store is silent: the write fails once the grace has passed, naming the wait.
    answer = false;
    const silent = bucket.putObject('p/manifest.json', '{}', { storageClass: 'STANDARD' });
    await held.promise;
    await expect(silent).rejects.toThrow('the store did not answer within 0.05 s of the stop');
    expect(fake.objects.has('p/manifest.json')).toBe(false);
    // Without the grace the test would wait for jest's own timeout; fail fast instead.
  }, 10_000);

  it('works over an S3Client, as the libraries hand it one', async () => {
    const client = new FakeS3Bucket().asS3Client();
    const bucket = new S3Bucket(client, CONFIG, { retry: instant });
    try {
      await bucket.putObject('host/current.json', '{"v":1}', { storageClass: 'STANDARD' });

      expect(await bucket.readTextIfExists('host/current.json')).toBe('{"v":1}');
      expect((await bucket.listObjects('host/')).map((object) => object.key)).toEqual(['host/current.json']);
    } finally {
      client.destroy();
    }
  });
});
