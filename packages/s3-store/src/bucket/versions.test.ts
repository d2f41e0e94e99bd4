import {
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  RestoreObjectCommand,
} from '@aws-sdk/client-s3';
import { ThawPendingError } from '@org/btrfs-s3-core';
import { receive } from '../__fakes__/download-harness';
import { FakeS3Bucket } from '../__fakes__/fake-bucket';
import { s3Error } from '../__fakes__/fake-store';
import { chunkKey, randomData, sourceOf } from '../__fakes__/upload-harness';
import { S3Bucket } from '../s3-bucket';
import { DeleteObjectsError } from './delete-objects';

const instant = { sleep: async () => undefined };
const DAY = 24 * 3600 * 1000;
const TINY = { chunkSizeBytes: 10, partSizeBytes: 4, concurrency: 2, limits: { minPartSizeBytes: 1 } };

function versioned(): FakeS3Bucket {
  const fake = new FakeS3Bucket();
  fake.settings.versioning = 'Enabled';
  return fake;
}

const plainBucket = (fake: FakeS3Bucket) => new S3Bucket(fake, { bucket: 'backups', sse: 'AES256' }, { retry: instant });

describe('listVersions', () => {
  it('lists every version and delete marker across pages, and the newest data version of each key, hidden ones named', async () => {
    const fake = versioned();
    fake.versions.pageSize = 2;
    fake.put('p/a', Buffer.from('a2'), { versionId: 'a2' });
    fake.versions.plantOlder('p/a', Buffer.from('a1'));
    fake.put('p/b', Buffer.from('b1'), { versionId: 'b1' });
    fake.versions.hide('p/b');
    fake.put('p/c', Buffer.from('c1'), { versionId: 'c1' });

    const listing = await plainBucket(fake).listVersions('p/');

    expect(listing.versions.map((version) => [version.key, version.deleteMarker, version.isLatest])).toEqual([
      ['p/a', false, true],
      ['p/a', false, false],
      ['p/b', false, false],
      ['p/b', true, true],
      ['p/c', false, true],
    ]);
    expect(listing.objects.map((object) => [object.key, object.size])).toEqual([
      ['p/a', 2],
      ['p/b', 2],
      ['p/c', 2],
    ]);
    expect([...listing.hidden]).toEqual([['p/b', 'b1']]);
    expect(fake.of(ListObjectVersionsCommand).map((command) => command.input.KeyMarker)).toEqual([undefined, 'p/a', 'p/b']);
  });
});

describe('deleteVersions', () => {
  it('deletes versions and delete markers for good, and reports the ones Object Lock retains, with their dates', async () => {
    const fake = versioned();
    const until = new Date(Date.now() + 3 * DAY);
    fake.put('p/free', Buffer.from('f'), { versionId: 'f1' });
    fake.versions.hide('p/free');
    fake.put('p/locked', Buffer.from('l'), { versionId: 'l1', retention: { mode: 'COMPLIANCE', retainUntil: until } });
    const bucket = plainBucket(fake);
    const { versions } = await bucket.listVersions('p/');

    const result = await bucket.deleteVersions(versions);

    expect(result).toEqual({ deleted: 2, locked: [{ key: 'p/locked', versionId: 'l1', retainUntil: until }] });
    expect(fake.versions.older.size).toBe(0);
    expect([...fake.objects.keys()]).toEqual(['p/locked']);
    expect(fake.of(DeleteObjectsCommand)[0]?.input.Delete?.Objects?.every((object) => object.VersionId !== undefined)).toBe(true);
  });

  it('throws DeleteObjectsError for a refusal that is not a lock (no retention: a credential without s3:DeleteObjectVersion)', async () => {
    const fake = versioned();
    fake.put('p/x', Buffer.from('x'), { versionId: 'x1' });
    fake.versions.deleteErrorFor = () => 'AccessDenied';

    const refused = plainBucket(fake).deleteVersions([{ key: 'p/x', versionId: 'x1', deleteMarker: false }]);

    await expect(refused).rejects.toBeInstanceOf(DeleteObjectsError);
    await expect(refused).rejects.toThrow('s3://…/p/x (version x1): AccessDenied');
  });
});

describe('reads through delete markers (throughDeleteMarkers)', () => {
  it('keeps the handle as it is in a bucket without versioning: a deleted key stays missing', async () => {
    const fake = new FakeS3Bucket();
    const bucket = plainBucket(fake);
    const through = await bucket.throughDeleteMarkers(() => undefined);
    expect(through).toBe(bucket);
    expect(through.seesThroughDeleteMarkers).toBe(false);
  });

  it('reads versioning once while it is off, and again after a read that failed', async () => {
    const fake = new FakeS3Bucket();
    const bucket = plainBucket(fake);
    let refuse = true;
    fake.objectOps.hook = (command) =>
      command instanceof GetBucketVersioningCommand && refuse ? Promise.reject(s3Error('AccessDenied', 403)) : undefined;

    expect(await bucket.throughDeleteMarkers(() => undefined)).toBe(bucket);
    refuse = false;
    expect(await bucket.throughDeleteMarkers(() => undefined)).toBe(bucket);
    expect(await bucket.throughDeleteMarkers(() => undefined)).toBe(bucket);

    expect(fake.of(GetBucketVersioningCommand)).toHaveLength(2);
  });

  it('reads, lists, downloads and thaws the newest data version of a key whose current version is a delete marker, and says so once', async () => {
    const fake = versioned();
    const hidden: string[] = [];
    const writer = plainBucket(fake);
    const data = randomData(25);
    const uploaded = await writer.uploadChunkedStream({ source: sourceOf(data), keyForChunk: chunkKey, storageClass: 'STANDARD' }, TINY);
    fake.put('host/current.json', Buffer.from('{"v":2}'), { versionId: 'p2' });
    fake.versions.plantOlder('host/current.json', Buffer.from('{"v":1}'));
    fake.put('host/deep.bin', Buffer.from('deep'), { storageClass: 'DEEP_ARCHIVE', versionId: 'd1' });
    for (const key of ['host/current.json', chunkKey(0), chunkKey(2), 'host/deep.bin']) fake.versions.hide(key);
    fake.versions.plantDeleteMarker('host/gone.json');

    const bucket = await writer.throughDeleteMarkers((key) => hidden.push(key));
    expect(bucket.seesThroughDeleteMarkers).toBe(true);
    expect(await writer.readTextIfExists('host/current.json')).toBeUndefined();
    expect(await bucket.readTextIfExists('host/current.json')).toBe('{"v":2}');
    expect(await bucket.readTextIfExists('host/gone.json')).toBeUndefined();
    const chunks = uploaded.chunks.map((chunk) => ({ ...chunk, parts: [...chunk.parts] }));
    expect(await receive(bucket.downloadVerifiedStream({ chunks, streamSha256: uploaded.streamSha256 }))).toEqual({
      bytes: data,
      error: undefined,
    });
    expect((await bucket.listObjects('host/')).map((object) => object.key)).toEqual([
      'host/current.json',
      'host/deep.bin',
      chunkKey(0),
      chunkKey(1),
      chunkKey(2),
    ]);
    await expect(bucket.thawObjects(['host/deep.bin'], { waitForRestore: false })).rejects.toBeInstanceOf(ThawPendingError);

    expect(hidden).toEqual([expect.stringMatching(/^s3:\/\/backups\/host\/current\.json: its current version is a delete marker/)]);
    expect(fake.of(RestoreObjectCommand).at(-1)?.input.VersionId).toBe('d1');
    const versionedGets = fake.of(GetObjectCommand).filter((command) => command.input.VersionId !== undefined);
    expect(new Set(versionedGets.map((command) => command.input.Key))).toEqual(new Set(['host/current.json', chunkKey(0), chunkKey(2)]));
  });
});
