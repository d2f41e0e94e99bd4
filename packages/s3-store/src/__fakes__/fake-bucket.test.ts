import {
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  NotFound,
  PutObjectCommand,
  RestoreObjectCommand,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { checkChunks } from '../bucket/check-chunks';
import { deleteObjects } from '../bucket/delete-objects';
import { listObjects } from '../bucket/listing';
import { downloadVerifiedStream } from '../download/download-verified-stream';
import { S3ObjectStore } from '../object-store';
import type { UploadedChunk } from '../upload/types';
import { uploadChunkedStream } from '../upload/upload-chunked-stream';
import { receive } from './download-harness';
import { FakeS3Bucket } from './fake-bucket';
import { chunkKey, randomData, sourceOf } from './upload-harness';

const instant = { sleep: async () => undefined };

/** The manifest's view of an uploaded chunk (its own, mutable part list). */
const manifestChunk = (chunk: UploadedChunk) => ({ ...chunk, parts: [...chunk.parts] });

function uploadTo(bucket: FakeS3Bucket, data: Buffer, storageClass: 'STANDARD' | 'DEEP_ARCHIVE') {
  return uploadChunkedStream(
    { client: bucket, bucket: 'backups', source: sourceOf(data), keyForChunk: chunkKey, storageClass, sse: 'AES256' },
    { chunkSizeBytes: 10, partSizeBytes: 4, concurrency: 2, limits: { minPartSizeBytes: 1 }, retry: instant },
  );
}

describe('FakeS3Bucket', () => {
  it('serves the uploader, listing, download and delete from one object map', async () => {
    const bucket = new FakeS3Bucket();
    const data = randomData(25);

    const uploaded = await uploadTo(bucket, data, 'STANDARD');
    const listed = await listObjects(bucket, 'backups', 'host/', instant);
    const chunks = uploaded.chunks.map(manifestChunk);
    const downloaded = await receive(
      downloadVerifiedStream({ client: bucket, bucket: 'backups', chunks, streamSha256: uploaded.streamSha256 }, { retry: instant }),
    );
    const deleted = await deleteObjects(
      bucket,
      'backups',
      listed.map((object) => object.key),
      instant,
    );

    expect(listed.map((object) => [object.key, object.size])).toEqual([
      [chunkKey(0), 10],
      [chunkKey(1), 10],
      [chunkKey(2), 5],
    ]);
    expect(downloaded).toEqual({ bytes: data, error: undefined });
    expect(deleted).toBe(3);
    expect(bucket.objects.size).toBe(0);
    expect(bucket.uploads.size).toBe(0);
  });

  it('keeps the storage class an upload was created with, so a DEEP_ARCHIVE chunk reads as archived until restored', async () => {
    const bucket = new FakeS3Bucket();
    const uploaded = await uploadTo(bucket, randomData(5), 'DEEP_ARCHIVE');
    const [uploadedChunk] = uploaded.chunks;
    if (uploadedChunk === undefined) throw new Error('no chunk uploaded');
    const chunk = manifestChunk(uploadedChunk);

    const before = await checkChunks(bucket, 'backups', [chunk], uploaded.streamSha256, { reads: 'all', retry: instant });
    await bucket.send(new RestoreObjectCommand({ Bucket: 'backups', Key: chunk.key, RestoreRequest: { Days: 1 } }));
    bucket.objectOps.finishRestore(chunk.key);
    const after = await checkChunks(bucket, 'backups', [chunk], uploaded.streamSha256, { reads: 'all', retry: instant });

    expect(before.chunks).toEqual([{ key: chunk.key, status: 'archived', storageClass: 'DEEP_ARCHIVE' }]);
    expect(after.chunks).toEqual([{ key: chunk.key, status: 'ok', size: 5, storageClass: 'DEEP_ARCHIVE', read: true }]);
  });

  it('records every command in order and routes HeadObject to objectOps, multipart calls to multipart', async () => {
    const bucket = new FakeS3Bucket();
    await uploadTo(bucket, randomData(6), 'STANDARD');

    expect(bucket.commands.map((command) => command.constructor.name)).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'ListPartsCommand',
      'CompleteMultipartUploadCommand',
      'HeadObjectCommand',
    ]);
    expect(bucket.objectOps.of(HeadObjectCommand)).toHaveLength(1);
    expect(bucket.multipart.of(HeadObjectCommand)).toHaveLength(0);
    expect(bucket.multipart.of(ListPartsCommand)).toHaveLength(1);
    expect(bucket.of(CompleteMultipartUploadCommand)).toHaveLength(1);
  });

  it('stores a chunk of one part with one PutObject carrying its SHA-256, then checks its size with a HEAD', async () => {
    const bucket = new FakeS3Bucket();
    const data = randomData(3);
    const uploaded = await uploadTo(bucket, data, 'DEEP_ARCHIVE');

    expect(bucket.commands.map((command) => command.constructor.name)).toEqual(['PutObjectCommand', 'HeadObjectCommand']);
    const [chunk] = uploaded.chunks;
    expect(bucket.of(PutObjectCommand)[0]?.input).toMatchObject({
      Key: chunk?.key,
      StorageClass: 'DEEP_ARCHIVE',
      ContentLength: 3,
      ChecksumSHA256: createHash('sha256').update(data).digest('base64'),
    });
    expect(bucket.objects.get(chunk?.key ?? '')?.bytes).toEqual(data);
    expect(chunk?.parts).toEqual([{ number: 1, size: 3, sha256: createHash('sha256').update(data).digest('hex') }]);
  });

  it('answers S3ObjectStore through asS3Client: PutObject, HeadObject and GetObject reach the fake, and a missing key is not found', async () => {
    const bucket = new FakeS3Bucket();
    const store = new S3ObjectStore(bucket.asS3Client(), { bucket: 'backups', sse: 'AES256' }, { attempts: 1 });

    await store.putObject('host/current.json', '{"v":1}', { storageClass: 'STANDARD_IA' });

    expect(await store.headObject('host/current.json')).toEqual({ key: 'host/current.json', size: 7, storageClass: 'STANDARD_IA' });
    expect(await text(await store.getObject('host/current.json'))).toBe('{"v":1}');
    expect(await store.objectExists('host/missing.json')).toBe(false);
    expect(bucket.of(PutObjectCommand)[0]?.input).toMatchObject({
      Bucket: 'backups',
      Key: 'host/current.json',
      ServerSideEncryption: 'AES256',
    });
    await expect(bucket.asS3Client().send(new HeadObjectCommand({ Bucket: 'backups', Key: 'nope' }))).rejects.toBeInstanceOf(NotFound);
  });

  it('hands the abort signal of an S3Client send to the fake, so a held GET fails when it aborts', async () => {
    const bucket = new FakeS3Bucket();
    bucket.put('k', Buffer.from('bytes'));
    const held = new Promise<void>(() => undefined);
    bucket.objectOps.hook = () => held;
    const controller = new AbortController();

    const get = bucket
      .asS3Client()
      .send(new GetObjectCommand({ Bucket: 'backups', Key: 'k', Range: 'bytes=0-1' }), { abortSignal: controller.signal });
    const failed = expect(get).rejects.toMatchObject({ name: 'AbortError' });
    controller.abort();
    await failed;

    expect(bucket.objectOps.abortedGets).toEqual(['bytes=0-1']);
  });

  it('gives a GET body the SDK stream helpers', async () => {
    const bucket = new FakeS3Bucket();
    bucket.put('k', Buffer.from('hello'));
    const whole = await bucket.send(new GetObjectCommand({ Bucket: 'backups', Key: 'k' }));
    const ranged = await bucket.send(new GetObjectCommand({ Bucket: 'backups', Key: 'k', Range: 'bytes=1-' }));
    const body = ranged.Body;
    if (body === undefined) throw new Error('no body');

    expect(await whole.Body?.transformToString()).toBe('hello');
    expect(Buffer.from(await body.transformToByteArray()).toString()).toBe('ello');
    expect(whole.$metadata.httpStatusCode).toBe(200);
    expect(ranged).toMatchObject({ $metadata: { httpStatusCode: 206 }, ContentRange: 'bytes 1-4/5', ContentLength: 4 });
  });
});
