import {
  backupPrefix,
  chunkKey,
  compactTimestamp,
  type Config,
  ExitCode,
  type Manifest,
  manifestKey,
  parseConfig,
  pointerKey,
  serializeManifest,
  serializePointer,
} from '@org/btrfs-s3-core';
import { FakeS3Bucket } from '@org/btrfs-s3-store/testing';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DamagedBackupError, runList, runPrune, runVerify } from './index';

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const NOW = new Date('2026-12-01T02:00:00Z');
const DAY_MS = 24 * 3_600_000;

interface Planted {
  readonly dir: string;
  readonly key: string;
  readonly manifest: Manifest;
}

/** Puts a published backup into the bucket as a run would leave it: one object per chunk, then its manifest. */
function putBackup(
  bucket: FakeS3Bucket,
  options: { subvolume?: string; kind: 'full' | 'inc'; at: Date; parent?: Planted; chunks: readonly string[] },
): Planted {
  const subvolume = options.subvolume ?? 'data';
  const dir = backupPrefix('host1', subvolume, options.kind, compactTimestamp(options.at));
  const bodies = options.chunks.map((text) => Buffer.from(text));
  const chunks = bodies.map((bytes, index) => {
    bucket.put(chunkKey(dir, index), bytes, { lastModified: options.at });
    return {
      key: chunkKey(dir, index),
      size: bytes.length,
      sha256: sha256(bytes),
      etag: `"chunk-${index}"`,
      parts: [{ number: 1, size: bytes.length, sha256: sha256(bytes) }],
    };
  });
  const name = `${subvolume}__${compactTimestamp(options.at)}__${options.kind}`;
  const manifest: Manifest = {
    version: 1,
    subvolume,
    kind: options.kind,
    created_at: options.at.toISOString(),
    snapshot: { name, path: `/srv/.snapshots/${name}`, uuid: `uuid-${name}`, parent_uuid: 'uuid-source' },
    parent_manifest: options.parent?.key ?? null,
    parent_snapshot_uuid: options.parent?.manifest.snapshot.uuid ?? null,
    chunks,
    total_bytes: bodies.reduce((sum, bytes) => sum + bytes.length, 0),
    chunk_size: 16,
    part_size: 5 * 1024 * 1024,
    s3: { bucket: 'backups', region: 'eu-west-1', storage_class: 'STANDARD' },
    restore: { stream_sha256: sha256(Buffer.concat(bodies)), chunk_hash_algo: 'sha256' },
    tool: { name: 'btrfs-to-s3', version: '0.1.0' },
  };
  bucket.put(manifestKey(dir), Buffer.from(serializeManifest(manifest)), { lastModified: options.at });
  return { dir, key: manifestKey(dir), manifest };
}

function pointTo(bucket: FakeS3Bucket, backup: Planted): void {
  const { subvolume, kind, created_at } = backup.manifest;
  bucket.put(pointerKey('host1', subvolume), Buffer.from(serializePointer({ version: 1, manifest_key: backup.key, kind, created_at })));
}

/**
 * Two generations of `data`: full A (+ inc B), then full C (+ inc D), current.json on D;
 * a killed run's chunk without a manifest; and `retired`, in the bucket but not configured.
 */
function twoGenerations(bucket: FakeS3Bucket) {
  const a = putBackup(bucket, { kind: 'full', at: new Date('2026-10-01T02:00:00Z'), chunks: ['full A, chunk 0', 'A1'] });
  const b = putBackup(bucket, { kind: 'inc', at: new Date('2026-10-08T02:00:00Z'), parent: a, chunks: ['inc B'] });
  const c = putBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['full C, chunk 0', 'C1'] });
  const d = putBackup(bucket, { kind: 'inc', at: new Date('2026-11-08T02:00:00Z'), parent: c, chunks: ['inc D'] });
  pointTo(bucket, d);
  const failedDir = backupPrefix('host1', 'data', 'full', '20261120T020000Z');
  bucket.put(chunkKey(failedDir, 0), Buffer.from('killed'), { lastModified: new Date(NOW.getTime() - 10 * DAY_MS) });
  const retired = putBackup(bucket, { subvolume: 'retired', kind: 'full', at: new Date('2026-01-01T02:00:00Z'), chunks: ['old'] });
  pointTo(bucket, retired);
  return { a, b, c, d, failedDir };
}

describe('bucket operations over a fake bucket', () => {
  let dir: string;
  let config: Config;
  let bucket: FakeS3Bucket;
  let client: ReturnType<FakeS3Bucket['asS3Client']>;
  const deps = () => ({ client, now: () => NOW });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bucket-test-'));
    config = parseConfig(`
[global]
lock_path = "${dir}/lock"
[snapshots]
base_dir = "/srv/.snapshots"
[subvolumes]
paths = ["/srv/data"]
[s3]
bucket = "backups"
region = "eu-west-1"
prefix = "host1"
retain_generations = 1
`);
    bucket = new FakeS3Bucket();
    client = bucket.asS3Client();
  });
  afterEach(() => {
    client.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('runList', () => {
    it('groups backups into generations, newest first, and sets failed runs and unconfigured subvolumes apart', async () => {
      const { a, b, c, d, failedDir } = twoGenerations(bucket);

      const result = await runList({ config, deps: deps() });

      expect(result.subvolumes.map((entry) => [entry.subvolume, entry.configured])).toEqual([
        ['data', true],
        ['retired', false],
      ]);
      const [data] = result.subvolumes;
      expect(data?.current).toEqual({ manifestKey: d.key, kind: 'inc', createdAt: d.manifest.created_at });
      expect(
        data?.generations.map((generation) => ({
          root: generation.root,
          current: generation.current,
          backups: generation.backups.map((backup) => [backup.dir, backup.current, backup.reachable]),
        })),
      ).toEqual([
        {
          root: c.dir,
          current: true,
          backups: [
            [c.dir, false, true],
            [d.dir, true, true],
          ],
        },
        {
          root: a.dir,
          current: false,
          backups: [
            [a.dir, false, false],
            [b.dir, false, false],
          ],
        },
      ]);
      expect(data?.incomplete).toEqual([expect.objectContaining({ dir: failedDir, objects: 1, bytes: 6, ageHours: 240 })]);
    });
  });

  describe('runVerify', () => {
    it('resolves with an ok report when every chunk of the current chain is there with its size', async () => {
      twoGenerations(bucket);

      const report = await runVerify({ config, deps: deps() });

      expect(report.ok).toBe(true);
      expect(report.subvolumes[0]?.chunks).toEqual({ total: 3, present: 3, read: 0, skipped: 0 });
    });

    it('reports a missing chunk and a size mismatch with DamagedBackupError (exit 1) naming each key', async () => {
      const { c, d } = twoGenerations(bucket);
      const missing = c.manifest.chunks[1]?.key ?? '';
      const resized = d.manifest.chunks[0]?.key ?? '';
      bucket.objects.delete(missing);
      bucket.put(resized, Buffer.from('inc D, longer now'));

      const error: unknown = await runVerify({ config, deps: deps() }).catch((reason: unknown) => reason);

      expect(error).toBeInstanceOf(DamagedBackupError);
      expect(error).toMatchObject({ exitCode: ExitCode.Fatal, message: 'verify found 2 problem(s): data (2)' });
      const problems = error instanceof DamagedBackupError ? error.report.subvolumes[0]?.problems : undefined;
      expect(problems).toEqual([
        {
          key: missing,
          problem: 'missing',
          message: `MISSING ${missing}: expected 2 bytes, the object does not exist`,
          expected: '2',
          actual: null,
        },
        { key: resized, problem: 'size', message: `SIZE ${resized}: expected 5 bytes, found 17`, expected: '5', actual: '17' },
      ]);
    });
  });

  describe('runPrune', () => {
    it('deletes nothing on a dry run, and says what a real run would delete and which restorable points it would leave', async () => {
      const { a, c, d, failedDir } = twoGenerations(bucket);
      const before = [...bucket.objects.keys()].sort();

      const result = await runPrune({ config, deps: deps(), dryRun: true });

      expect([...bucket.objects.keys()].sort()).toEqual(before);
      expect(result.subvolumes[0]?.delete.map((entry) => [entry.dir, entry.reason])).toEqual([
        [a.dir, 'old-generation'],
        [failedDir, 'failed-run'],
      ]);
      expect(result.subvolumes[0]?.deletedObjects).toBe(0);
      expect(result.subvolumes[0]?.restorablePointsLeft).toEqual([c.manifest.created_at, d.manifest.created_at]);
    });

    it('deletes generations older than s3.retain_generations and failed runs, keeping everything current.json reaches', async () => {
      const { a, b, c, d, failedDir } = twoGenerations(bucket);
      const current = [
        pointerKey('host1', 'data'),
        ...[c, d].flatMap((backup) => [backup.key, ...backup.manifest.chunks.map((chunk) => chunk.key)]),
      ];

      const result = await runPrune({ config, deps: deps() });

      const left = [...bucket.objects.keys()].filter((key) => key.startsWith('host1/subvol/data/'));
      expect(left.sort()).toEqual(current.sort());
      expect(result.subvolumes[0]?.deletedObjects).toBe([a, b].reduce((sum, backup) => sum + backup.manifest.chunks.length + 1, 0) + 1);
      expect(bucket.objects.has(chunkKey(failedDir, 0))).toBe(false);
    });

    it('keeps an older generation that current.json reaches, even beyond s3.retain_generations', async () => {
      const a = putBackup(bucket, { kind: 'full', at: new Date('2026-10-01T02:00:00Z'), chunks: ['full A'] });
      const b = putBackup(bucket, { kind: 'inc', at: new Date('2026-10-08T02:00:00Z'), parent: a, chunks: ['inc B'] });
      putBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['full C, never pointed to'] });
      pointTo(bucket, b);
      const before = [...bucket.objects.keys()].sort();

      const result = await runPrune({ config, deps: deps() });

      expect([...bucket.objects.keys()].sort()).toEqual(before);
      expect(result.subvolumes[0]?.keep.map((entry) => [entry.dir, entry.reason])).toEqual(
        expect.arrayContaining([
          [a.dir, 'current'],
          [expect.stringContaining('/full/20261101T020000Z'), 'retained'],
        ]),
      );
    });
  });
});
