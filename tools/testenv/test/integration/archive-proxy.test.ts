import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { type ArchiveProxy, type ArchiveProxyOptions, startArchiveProxy, testGateway } from '../../src';
import { gatewayCredentials, gatewayScope, getBytes, s3Client, s3Failure } from './helpers';

const INVALID_OBJECT_STATE = { name: 'InvalidObjectState', status: 403 };

/** Runs `fn` with a proxy in front of the gateway, a client pointed at it and a key prefix, all cleaned up after. */
async function withProxy(
  name: string,
  options: Omit<ArchiveProxyOptions, 'upstream'>,
  fn: (context: { proxy: ArchiveProxy; client: S3Client; bucket: string; prefix: string; direct: S3Client }) => Promise<void>,
): Promise<void> {
  const scope = gatewayScope(name);
  try {
    const proxy = await startArchiveProxy({ upstream: testGateway().endpoint, ...options });
    const client = s3Client(proxy.endpoint);
    try {
      await fn({ proxy, client, bucket: scope.bucket, prefix: scope.prefix, direct: scope.direct });
    } finally {
      client.destroy();
      await proxy.close();
    }
  } finally {
    await scope.cleanup();
  }
}

function restore(client: S3Client, bucket: string, key: string, days = 2, tier: 'Bulk' | 'Standard' = 'Bulk') {
  return client.send(
    new RestoreObjectCommand({ Bucket: bucket, Key: key, RestoreRequest: { Days: days, GlacierJobParameters: { Tier: tier } } }),
  );
}

describe('archive proxy in front of the real gateway', () => {
  it('passes a STANDARD object through untouched: PUT, GET, HEAD without x-amz-restore, and no restore bookkeeping', async () => {
    await withProxy('standard', {}, async ({ proxy, client, bucket, prefix }) => {
      const key = `${prefix}standard.bin`;
      const data = randomBytes(100_000);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data }));

      expect((await getBytes(client, bucket, key)).equals(data)).toBe(true);
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.StorageClass).toBeUndefined();
      expect(head.Restore).toBeUndefined();
      expect(proxy.restoreRequests().size).toBe(0);
    });
  });

  it('hides a DEEP_ARCHIVE object until its restore is thawed, answering RestoreObject 202, 409, then 200 like S3', async () => {
    const today = new Date('2030-01-15T10:00:00Z');
    await withProxy('deep-archive', { now: () => today }, async ({ proxy, client, bucket, prefix }) => {
      const key = `${prefix}archived object+1.bin`;
      const data = randomBytes(64 * 1024);
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: data, StorageClass: 'DEEP_ARCHIVE' }));

      const archived = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(archived.StorageClass).toBe('DEEP_ARCHIVE');
      expect(archived.ContentLength).toBe(data.length);
      expect(archived.Restore).toBeUndefined();
      expect(await s3Failure(getBytes(client, bucket, key))).toMatchObject({
        ...INVALID_OBJECT_STATE,
        message: "The operation is not valid for the object's storage class",
      });

      expect((await restore(client, bucket, key)).$metadata.httpStatusCode).toBe(202);
      expect(await s3Failure(restore(client, bucket, key))).toMatchObject({ name: 'RestoreAlreadyInProgress', status: 409 });
      const ongoing = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(ongoing.Restore).toBe('ongoing-request="true"');
      expect(await s3Failure(getBytes(client, bucket, key))).toMatchObject(INVALID_OBJECT_STATE);

      proxy.thaw(key);
      const restored = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      // Thawed on the 15th at 10:00 for 2 days: S3 rounds the expiry up to the next midnight UTC.
      expect(restored.Restore).toBe('ongoing-request="false", expiry-date="Fri, 18 Jan 2030 00:00:00 GMT"');
      expect(restored.StorageClass).toBe('DEEP_ARCHIVE');
      expect((await getBytes(client, bucket, key, 'bytes=1000-1999')).equals(data.subarray(1000, 2000))).toBe(true);
      expect((await getBytes(client, bucket, key)).equals(data)).toBe(true);
      expect((await restore(client, bucket, key)).$metadata.httpStatusCode).toBe(200);

      expect(proxy.restoreRequests()).toEqual(new Map([[key, { count: 3, tier: 'Bulk', days: 2 }]]));
    });
  });

  it('treats a multipart upload created with DEEP_ARCHIVE as archived, and passes ListMultipartUploads through', async () => {
    await withProxy('multipart', {}, async ({ proxy, client, bucket, prefix }) => {
      const key = `${prefix}multipart.bin`;
      // 5 MiB parts are over the SDK's 2 MiB Expect: 100-continue threshold, so this also relays 100 Continue.
      const parts = [randomBytes(5 * 1024 * 1024), randomBytes(4096)];
      const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, StorageClass: 'DEEP_ARCHIVE' }));
      const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      expect((listed.Uploads ?? []).map((upload) => [upload.Key, upload.UploadId])).toEqual([[key, created.UploadId]]);
      const etags: string[] = [];
      for (const [index, body] of parts.entries()) {
        const part = await client.send(
          new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: created.UploadId, PartNumber: index + 1, Body: body }),
        );
        etags.push(part.ETag ?? '');
      }
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: created.UploadId,
          MultipartUpload: { Parts: etags.map((ETag, index) => ({ ETag, PartNumber: index + 1 })) },
        }),
      );

      // Restore before any HEAD or GET: the class can only have come from CreateMultipartUpload.
      expect((await restore(client, bucket, key, 1, 'Standard')).$metadata.httpStatusCode).toBe(202);
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect([head.StorageClass, head.Restore]).toEqual(['DEEP_ARCHIVE', 'ongoing-request="true"']);
      expect(await s3Failure(getBytes(client, bucket, key))).toMatchObject(INVALID_OBJECT_STATE);
      expect(proxy.thawAll()).toEqual([key]);
      expect((await getBytes(client, bucket, key)).equals(Buffer.concat(parts))).toBe(true);
      expect(proxy.restoreRequests()).toEqual(new Map([[key, { count: 1, tier: 'Standard', days: 1 }]]));
    });
  });

  it('thaws by itself after the configured number of HEADs following the restore request', async () => {
    await withProxy('thaw-after-heads', { thawAfterHeads: 2 }, async ({ proxy, client, bucket, prefix }) => {
      const key = `${prefix}polled.bin`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'polled', StorageClass: 'GLACIER' }));
      const head = async () => (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Restore;

      expect(await head()).toBeUndefined();
      expect((await restore(client, bucket, key)).$metadata.httpStatusCode).toBe(202);
      expect(await head()).toBe('ongoing-request="true"');
      expect(await s3Failure(getBytes(client, bucket, key))).toMatchObject(INVALID_OBJECT_STATE);
      expect(await head()).toBe('ongoing-request="true"');
      expect((await getBytes(client, bucket, key)).toString()).toBe('polled');
      expect(await head()).toMatch(/^ongoing-request="false", expiry-date="\w{3}, \d{2} \w{3} \d{4} 00:00:00 GMT"$/);
      expect(proxy.restoreRequests().get(key)).toEqual({ count: 1, tier: 'Bulk', days: 2 });
    });
  });

  it('archives a restored copy again once its expiry date has passed', async () => {
    let today = new Date('2030-03-01T12:00:00Z');
    await withProxy('expiry', { now: () => today, thawAfterHeads: 0 }, async ({ proxy, client, bucket, prefix }) => {
      const key = `${prefix}expiring.bin`;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'expiring', StorageClass: 'DEEP_ARCHIVE' }));
      expect((await restore(client, bucket, key, 1)).$metadata.httpStatusCode).toBe(202);
      expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Restore).toBe(
        'ongoing-request="false", expiry-date="Sun, 03 Mar 2030 00:00:00 GMT"',
      );
      today = new Date('2030-03-02T23:59:59Z');
      expect((await getBytes(client, bucket, key)).toString()).toBe('expiring');

      today = new Date('2030-03-03T00:00:00Z');
      expect(await s3Failure(getBytes(client, bucket, key))).toMatchObject(INVALID_OBJECT_STATE);
      expect((await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).Restore).toBeUndefined();
      expect((await restore(client, bucket, key, 1)).$metadata.httpStatusCode).toBe(202);
      expect(proxy.restoreRequests().get(key)).toEqual({ count: 2, tier: 'Bulk', days: 1 });
    });
  });

  it('HEADs an object written straight to the gateway itself before answering its RestoreObject', async () => {
    const farFuture = new Date('2031-01-01T00:00:00Z');
    const options = { credentials: gatewayCredentials(), region: testGateway().region, now: () => farFuture };
    await withProxy('lookup', options, async ({ proxy, client, bucket, prefix, direct }) => {
      const archivedKey = `${prefix}direct (archived).bin`;
      const standardKey = `${prefix}direct-standard.bin`;
      await direct.send(new PutObjectCommand({ Bucket: bucket, Key: archivedKey, Body: 'a', StorageClass: 'DEEP_ARCHIVE' }));
      await direct.send(new PutObjectCommand({ Bucket: bucket, Key: standardKey, Body: 's' }));

      expect((await restore(client, bucket, archivedKey)).$metadata.httpStatusCode).toBe(202);
      expect(await s3Failure(restore(client, bucket, standardKey))).toMatchObject({
        ...INVALID_OBJECT_STATE,
        message: "Restore is not allowed for the object's current storage class",
      });
      expect(await s3Failure(restore(client, bucket, `${prefix}missing.bin`))).toMatchObject({ name: 'NoSuchKey', status: 404 });
      expect([...proxy.restoreRequests().values()].map((record) => record.count)).toEqual([1, 1, 1]);
    });
  });

  it('refuses, with a message naming the fix, a RestoreObject for an unseen key when it has no credentials to look it up', async () => {
    await withProxy('no-lookup', {}, async ({ client, bucket, prefix, direct }) => {
      const key = `${prefix}unseen.bin`;
      await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'u', StorageClass: 'DEEP_ARCHIVE' }));
      const failure = await s3Failure(restore(client, bucket, key));
      expect(failure).toMatchObject({ name: 'ArchiveProxyUnknownStorageClass', status: 400 });
      expect(failure.message).toContain('pass credentials to startArchiveProxy');
    });
  });

  it('passes list and delete through, and a deleted or overwritten archived key stops being archived', async () => {
    await withProxy('list-delete', { credentials: gatewayCredentials() }, async ({ client, bucket, prefix }) => {
      const deleted = `${prefix}deleted.bin`;
      const overwritten = `${prefix}overwritten.bin`;
      for (const key of [deleted, overwritten]) {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'old', StorageClass: 'DEEP_ARCHIVE' }));
      }
      const listing = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      expect((listing.Contents ?? []).map((object) => [object.Key, object.StorageClass])).toEqual([
        [deleted, 'DEEP_ARCHIVE'],
        [overwritten, 'DEEP_ARCHIVE'],
      ]);

      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: deleted }));
      expect(await s3Failure(restore(client, bucket, deleted))).toMatchObject({ name: 'NoSuchKey', status: 404 });
      expect(await s3Failure(getBytes(client, bucket, deleted))).toMatchObject({ name: 'NoSuchKey', status: 404 });
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: overwritten, Body: 'new' }));
      expect(await s3Failure(restore(client, bucket, overwritten))).toMatchObject(INVALID_OBJECT_STATE);
      expect((await getBytes(client, bucket, overwritten)).toString()).toBe('new');
    });
  });

  it('leaves SigV4 to the gateway: the same PUT through the proxy is refused with a wrong secret and stored with the right one', async () => {
    await withProxy('sigv4', {}, async ({ proxy, client, bucket, prefix, direct }) => {
      const key = `${prefix}signed.bin`;
      const forged = s3Client(proxy.endpoint, { ...gatewayCredentials(), secretAccessKey: 'not-the-secret' });
      try {
        const put = (with_: S3Client) => with_.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'signed' }));
        expect(await s3Failure(put(forged))).toMatchObject({ name: 'SignatureDoesNotMatch', status: 403 });
        await put(client);
        expect((await getBytes(direct, bucket, key)).toString()).toBe('signed');
      } finally {
        forged.destroy();
      }
    });
  });
});
