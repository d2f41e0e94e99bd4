import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { chunkKey, type Config, createLogger, ExitCode, pointerKey } from '@org/btrfs-s3-core';
import { FakeS3Bucket, plantBackup, plantPointer } from '@org/btrfs-s3-store/testing';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { bucketConfig } from './__fixtures__/config';
import { runList, runPrune } from './index';

const NOW = new Date('2026-12-01T02:00:00Z');
const DAY_MS = 24 * 3_600_000;

/** Runs `fn` with a logger, and returns its result and what it logged at warn level and above, or info. */
async function logged<T>(
  level: 'info' | 'warn',
  fn: (logger: ReturnType<typeof createLogger>) => Promise<T>,
): Promise<{ result: T; messages: string[] }> {
  const stream = new PassThrough();
  const logger = createLogger({ level, format: 'json', stream });
  const written = text(stream);
  const result = await fn(logger);
  const flushed = once(logger, 'finish');
  logger.end();
  await flushed;
  stream.end();
  const messages = (await written)
    .split('\n')
    .filter(Boolean)
    .map((line) => String(JSON.parse(line).message));
  return { result, messages };
}

/**
 * A versioned bucket with Object Lock, as a stolen credential might leave it: two
 * generations of `data` (full A + inc B, then full C + inc D, current.json on D), A still
 * locked, B partly under delete markers and with an older version, and current.json
 * itself "deleted" (a delete marker over it).
 */
function lockedBucket(bucket: FakeS3Bucket) {
  Object.assign(bucket.settings, { versioning: 'Enabled', objectLock: { mode: 'GOVERNANCE', days: 1 } });
  const a = plantBackup(bucket, { kind: 'full', at: new Date('2026-10-01T02:00:00Z'), chunks: ['full A, chunk 0', 'A1'] });
  const b = plantBackup(bucket, { kind: 'inc', at: new Date('2026-10-08T02:00:00Z'), parent: a, chunks: ['inc B'] });
  const c = plantBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['full C, chunk 0', 'C1'] });
  const d = plantBackup(bucket, { kind: 'inc', at: new Date('2026-11-08T02:00:00Z'), parent: c, chunks: ['inc D'] });
  plantPointer(bucket, d);
  const lockedUntil = new Date(Date.now() + 5 * DAY_MS);
  for (const key of [a.key, ...a.manifest.chunks.map((chunk) => chunk.key)]) {
    const object = bucket.objects.get(key);
    if (object === undefined) throw new Error(`no ${key}`);
    object.retention = { mode: 'COMPLIANCE', retainUntil: lockedUntil };
  }
  bucket.versions.plantOlder(chunkKey(b.dir, 0), Buffer.from('an older B'));
  bucket.versions.hide(chunkKey(a.dir, 1));
  bucket.versions.hide(b.key);
  bucket.versions.hide(pointerKey('host1', 'data'));
  return { a, b, c, d, lockedUntil };
}

describe('a versioned bucket', () => {
  let dir: string;
  let config: Config;
  let bucket: FakeS3Bucket;
  let client: ReturnType<FakeS3Bucket['asS3Client']>;
  const deps = () => ({ client, now: () => NOW });
  const configWith = (s3 = '') => bucketConfig(dir, s3);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bucket-versions-'));
    config = configWith();
    bucket = new FakeS3Bucket();
    client = bucket.asS3Client();
  });
  afterEach(() => {
    client.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists through delete markers: the hidden current.json still names its chain, and says so in one line', async () => {
    const { b, d } = lockedBucket(bucket);

    const { result, messages } = await logged('warn', (logger) => runList({ config, logger, deps: deps() }));

    const data = result.subvolumes[0];
    expect(data?.current?.manifestKey).toBe(d.key);
    expect(data?.chainBreak).toBeNull();
    expect(data?.generations.flatMap((generation) => generation.backups.map((backup) => backup.manifestKey))).toContain(b.key);
    expect(messages).toEqual([expect.stringMatching(/^s3:\/\/backups\/host1\/subvol\/data\/.*: its current version is a delete marker/)]);
  });

  it('prunes versions for good, markers and older versions too, keeps what current.json reaches, and reports what Object Lock keeps rather than failing', async () => {
    const { a, b, c, d, lockedUntil } = lockedBucket(bucket);

    const { result, messages } = await logged('info', (logger) => runPrune({ config, logger, deps: deps() }));

    const [data] = result.subvolumes;
    // A's manifest is locked, so its chunks stay with it: three versions kept, none deleted.
    expect(data?.locked).toEqual({ versions: 3, bytes: expect.any(Number), soonestRetainUntil: lockedUntil.toISOString() });
    expect(messages).toContainEqual(expect.stringMatching(/^data: Object Lock keeps 3 version\(s\) .*; the first unlocks /));
    // B is gone entirely: its versions, its older version and its delete marker.
    for (const key of [b.key, chunkKey(b.dir, 0)]) {
      expect(bucket.objects.has(key)).toBe(false);
      expect(bucket.versions.older.has(key)).toBe(false);
    }
    // A stays, and the delete marker over one of its chunks is gone: it hid what is kept.
    for (const key of [a.key, ...a.manifest.chunks.map((chunk) => chunk.key)]) expect(bucket.objects.has(key)).toBe(true);
    for (const key of [c.key, d.key]) expect(bucket.objects.has(key)).toBe(true);
    // The chain current.json reaches is kept even though current.json is under a delete marker.
    expect(bucket.versions.older.get(pointerKey('host1', 'data'))?.length).toBe(2);
    expect(data?.deletedObjects).toBe(2);
    const deletes = bucket.of(DeleteObjectsCommand).map((command) => command.input.Delete?.Objects ?? []);
    expect(deletes.flat().every((object) => object.VersionId !== undefined)).toBe(true);
    // Manifests first: A's and B's, then B's chunk (A's chunks are not even tried).
    expect(deletes[0]?.map((object) => object.Key)).toEqual([a.key, b.key, b.key]);
    expect(deletes.flat().some((object) => object.Key === chunkKey(a.dir, 0))).toBe(false);
    expect(deletes[1]?.filter((object) => object.Key === chunkKey(a.dir, 1))).toHaveLength(1);
  });

  it('refuses s3.object_lock on a bucket without Object Lock before the lock or any delete (exit 2)', async () => {
    config = configWith('object_lock = { mode = "compliance", days = 7 }');
    bucket.settings.versioning = 'Enabled';

    await expect(runPrune({ config, deps: deps() })).rejects.toMatchObject({
      exitCode: ExitCode.Usage,
      message: expect.stringMatching(/^s3\.object_lock: bucket backups has no Object Lock/),
    });
    expect(bucket.of(DeleteObjectsCommand)).toEqual([]);
    expect(bucket.of(PutObjectCommand)).toEqual([]);
  });
});
