import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectRetentionCommand,
  PutObjectCommand,
  PutObjectRetentionCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ExitCode } from '@org/btrfs-s3-core';
import { createHash } from 'node:crypto';
import { FakeS3Bucket } from '../__fakes__/fake-bucket';
import { s3Error } from '../__fakes__/fake-store';
import { chunkKey, randomData, sha256, sourceOf } from '../__fakes__/upload-harness';
import { S3Bucket, type S3BucketConfig } from '../s3-bucket';
import { ObjectLockUnavailableError } from './bucket-lock';

const DAY = 24 * 3600 * 1000;
const LOCKED: S3BucketConfig = { bucket: 'backups', sse: 'AES256', object_lock: { mode: 'governance', days: 30 } };
const instant = { sleep: async () => undefined };
const TINY = { chunkSizeBytes: 10, partSizeBytes: 4, concurrency: 2, limits: { minPartSizeBytes: 1 } };

const bucketOn = (fake: FakeS3Bucket, config: Partial<S3BucketConfig> = {}) =>
  new S3Bucket(fake, { ...LOCKED, ...config }, { retry: instant });

/** Whether `date` is `days` after a moment within the test's run. */
function expectDaysAfter(date: Date | undefined, days: number, since: number): void {
  expect(date).toBeInstanceOf(Date);
  expect(date?.getTime()).toBeGreaterThanOrEqual(since + days * DAY);
  expect(date?.getTime()).toBeLessThanOrEqual(Date.now() + days * DAY);
}

describe('Object Lock on writes (s3.object_lock)', () => {
  it('locks a `locked` PUT until now + days, with a Content-MD5 of its body, and leaves other PUTs unlocked', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake);
    const since = Date.now();

    await bucket.putObject('host/full/x/manifest.json', '{"m":1}', { storageClass: 'STANDARD', locked: true });
    await bucket.putObject('host/current.json', '{"p":1}', { storageClass: 'STANDARD' });

    const [manifest, pointer] = fake.of(PutObjectCommand).map((command) => command.input);
    expect(manifest).toMatchObject({ ObjectLockMode: 'GOVERNANCE', ContentMD5: createHash('md5').update('{"m":1}').digest('base64') });
    expectDaysAfter(manifest?.ObjectLockRetainUntilDate, 30, since);
    expect(pointer).not.toHaveProperty('ObjectLockMode');
    expect(pointer).not.toHaveProperty('ContentMD5');
    expect(fake.objects.get('host/full/x/manifest.json')?.retention?.mode).toBe('GOVERNANCE');
  });

  it('sends no lock for a `locked` write without s3.object_lock', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake, { object_lock: undefined });

    await bucket.putObject('k', 'v', { storageClass: 'STANDARD', locked: true });
    for (const [size, prefix] of [
      [6, 'multi'],
      [3, 'one'],
    ] as const) {
      await bucket.uploadChunkedStream(
        { source: sourceOf(randomData(size)), keyForChunk: (i) => `${prefix}/${i}`, storageClass: 'STANDARD', locked: true },
        TINY,
      );
    }

    const puts = fake.of(PutObjectCommand).map((command) => command.input);
    expect(puts.map((put) => put.Key)).toEqual(['k', 'one/0']);
    for (const put of puts) expect(put).not.toHaveProperty('ObjectLockMode');
    expect(fake.of(CreateMultipartUploadCommand)[0]?.input).not.toHaveProperty('ObjectLockMode');
  });

  it('uploads a locked chunk of one part as a multipart upload too, locked from its CreateMultipartUpload', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake, { object_lock: { mode: 'compliance', days: 2 } });

    await bucket.uploadChunkedStream(
      { source: sourceOf(randomData(3)), keyForChunk: chunkKey, storageClass: 'STANDARD', locked: true },
      TINY,
    );

    expect(fake.of(PutObjectCommand)).toHaveLength(0);
    expect(fake.of(CreateMultipartUploadCommand).map((command) => command.input.ObjectLockMode)).toEqual(['COMPLIANCE']);
  });

  it('locks every chunk of a `locked` upload from its CreateMultipartUpload, each part and the Complete carrying its SHA-256', async () => {
    const fake = new FakeS3Bucket();
    const bucket = bucketOn(fake, { object_lock: { mode: 'compliance', days: 2 } });
    const data = randomData(25);
    const since = Date.now();

    await bucket.uploadChunkedStream({ source: sourceOf(data), keyForChunk: chunkKey, storageClass: 'DEEP_ARCHIVE', locked: true }, TINY);

    const creates = fake.of(CreateMultipartUploadCommand).map((command) => command.input);
    expect(creates).toHaveLength(3);
    for (const create of creates) {
      expect(create).toMatchObject({ ObjectLockMode: 'COMPLIANCE', ChecksumAlgorithm: 'SHA256', ServerSideEncryption: 'AES256' });
      expectDaysAfter(create.ObjectLockRetainUntilDate, 2, since);
    }
    const base64Sha256 = (bytes: Buffer) => Buffer.from(sha256(bytes), 'hex').toString('base64');
    const sent = (key: string, partNumber: number | undefined) =>
      fake.multipart.receivedParts.find((part) => part.key === key && part.partNumber === partNumber)?.bytes ?? Buffer.alloc(0);
    const parts = fake
      .of(UploadPartCommand)
      .map(({ input }) => [input.ChecksumSHA256, base64Sha256(sent(input.Key ?? '', input.PartNumber))]);
    expect(parts).toHaveLength(8);
    for (const [carried, actual] of parts) expect(carried).toBe(actual);
    for (const { input } of fake.of(CompleteMultipartUploadCommand))
      for (const part of input.MultipartUpload?.Parts ?? [])
        expect(part.ChecksumSHA256).toBe(base64Sha256(sent(input.Key ?? '', part.PartNumber)));
    // The store applied the lock itself: nothing to set afterwards.
    expect(fake.of(PutObjectRetentionCommand)).toEqual([]);
    for (const index of [0, 1, 2]) expect(fake.objects.get(chunkKey(index))?.retention?.mode).toBe('COMPLIANCE');
  });

  it('sets the retention itself on a store that completes multipart uploads unlocked (Ceph RGW 16)', async () => {
    const fake = new FakeS3Bucket();
    fake.multipart.locksOnComplete = false;
    const bucket = bucketOn(fake);

    await bucket.uploadChunkedStream(
      { source: sourceOf(randomData(15)), keyForChunk: chunkKey, storageClass: 'STANDARD', locked: true },
      TINY,
    );

    const created = fake.of(CreateMultipartUploadCommand).map((command) => command.input.ObjectLockRetainUntilDate);
    const set = fake.of(PutObjectRetentionCommand).map((command) => command.input);
    expect(set.map((input) => input.Key)).toEqual([chunkKey(0), chunkKey(1)]);
    expect(set.map((input) => input.Retention?.RetainUntilDate)).toEqual(created);
    for (const index of [0, 1]) expect(fake.objects.get(chunkKey(index))?.retention?.mode).toBe('GOVERNANCE');
  });
});

describe('assertObjectLockReady', () => {
  it('passes on a bucket with Object Lock and versioning, and sends nothing without s3.object_lock', async () => {
    const fake = new FakeS3Bucket();
    Object.assign(fake.settings, { versioning: 'Enabled', objectLock: { mode: 'GOVERNANCE', days: 1 } });
    await expect(bucketOn(fake).assertObjectLockReady()).resolves.toBeUndefined();

    const plain = new FakeS3Bucket();
    await bucketOn(plain, { object_lock: undefined }).assertObjectLockReady();
    expect(plain.commands).toEqual([]);
  });

  it.each([
    ['a bucket without Object Lock or versioning', {}, 'has no Object Lock, and has versioning off, not enabled'],
    ['a bucket with versioning only', { versioning: 'Enabled' }, 'has no Object Lock'],
    [
      'Object Lock with versioning suspended',
      { versioning: 'Suspended', objectLock: { mode: 'GOVERNANCE', days: 1 } },
      'has versioning suspended',
    ],
  ] as const)('refuses %s in one line naming s3.object_lock and what it lacks (exit 2)', async (_case, settings, lacks) => {
    const fake = new FakeS3Bucket();
    Object.assign(fake.settings, settings);
    const refused = bucketOn(fake).assertObjectLockReady();
    await expect(refused).rejects.toBeInstanceOf(ObjectLockUnavailableError);
    await expect(refused).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    await expect(refused).rejects.toThrow(/^s3\.object_lock: bucket backups [^\n]+$/);
    await expect(refused).rejects.toThrow(lacks);
  });

  it('refuses when the credential may not read whether the bucket has Object Lock, naming the permission', async () => {
    const fake = new FakeS3Bucket();
    fake.settings.versioning = 'Enabled';
    const deny = fake.handle.bind(fake);
    fake.handle = async (command, options) => {
      if (command.constructor.name === 'GetObjectLockConfigurationCommand') throw s3Error('AccessDenied', 403);
      return deny(command, options);
    };
    await expect(bucketOn(fake).assertObjectLockReady()).rejects.toThrow('s3:GetBucketObjectLockConfiguration');
  });
});

describe('extendRetention', () => {
  it('extends only what ends sooner than now + days, keeps compliance, and locks what had no retention', async () => {
    const fake = new FakeS3Bucket();
    const now = new Date('2026-12-01T00:00:00Z');
    const soon = new Date('2026-12-05T00:00:00Z');
    const late = new Date('2027-06-01T00:00:00Z');
    fake.put('a', Buffer.from('a'), { retention: { mode: 'GOVERNANCE', retainUntil: soon } });
    fake.put('b', Buffer.from('b'), { retention: { mode: 'COMPLIANCE', retainUntil: soon } });
    fake.put('c', Buffer.from('c'), { retention: { mode: 'GOVERNANCE', retainUntil: late } });
    fake.put('d', Buffer.from('d'));

    const result = await bucketOn(fake).extendRetention(['a', 'b', 'c', 'd'], now);

    const wanted = new Date(now.getTime() + 30 * DAY);
    expect(result).toEqual({ checked: 4, extended: 3 });
    expect(fake.of(GetObjectRetentionCommand)).toHaveLength(4);
    expect(fake.of(PutObjectRetentionCommand).map((command) => [command.input.Key, command.input.Retention])).toEqual([
      ['a', { Mode: 'GOVERNANCE', RetainUntilDate: wanted }],
      ['b', { Mode: 'COMPLIANCE', RetainUntilDate: wanted }],
      ['d', { Mode: 'GOVERNANCE', RetainUntilDate: wanted }],
    ]);
    expect(fake.objects.get('c')?.retention?.retainUntil).toEqual(late);
  });

  it('sends nothing without s3.object_lock', async () => {
    const fake = new FakeS3Bucket();
    expect(await bucketOn(fake, { object_lock: undefined }).extendRetention(['a'])).toEqual({ checked: 0, extended: 0 });
    expect(fake.commands).toEqual([]);
  });
});
