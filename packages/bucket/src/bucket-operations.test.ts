import {
  CreateMultipartUploadCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import {
  backupPrefix,
  chunkKey,
  type Config,
  ExitCode,
  PartLimitError,
  pointerKey,
  serializeWriterMarker,
  writerMarkerKey,
} from '@org/btrfs-s3-core';
import { S3Bucket } from '@org/btrfs-s3-store';
import { FakeS3Bucket, plantBackup, plantPointer } from '@org/btrfs-s3-store/testing';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bucketConfig } from './__fixtures__/config';
import { DamagedBackupError, pruneHeld, runList, runPrune, runVerify } from './index';

const NOW = new Date('2026-12-01T02:00:00Z');
const DAY_MS = 24 * 3_600_000;
const HOST_A = { id: 'a'.repeat(32), host: 'host-a' };
const HOST_B = { id: 'b'.repeat(32), host: 'host-b' };

/**
 * Two generations of `data`: full A (+ inc B), then full C (+ inc D), current.json on D;
 * a killed run's chunk without a manifest; and `retired`, in the bucket but not configured.
 */
function twoGenerations(bucket: FakeS3Bucket) {
  const a = plantBackup(bucket, { kind: 'full', at: new Date('2026-10-01T02:00:00Z'), chunks: ['full A, chunk 0', 'A1'] });
  const b = plantBackup(bucket, { kind: 'inc', at: new Date('2026-10-08T02:00:00Z'), parent: a, chunks: ['inc B'] });
  const c = plantBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['full C, chunk 0', 'C1'] });
  const d = plantBackup(bucket, { kind: 'inc', at: new Date('2026-11-08T02:00:00Z'), parent: c, chunks: ['inc D'] });
  plantPointer(bucket, d);
  const failedDir = backupPrefix('host1', 'data', 'full', '20261120T020000Z');
  bucket.put(chunkKey(failedDir, 0), Buffer.from('killed'), { lastModified: new Date(NOW.getTime() - 10 * DAY_MS) });
  const retired = plantBackup(bucket, { subvolume: 'retired', kind: 'full', at: new Date('2026-01-01T02:00:00Z'), chunks: ['old'] });
  plantPointer(bucket, retired);
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
    config = bucketConfig(dir);
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

    it('refuses to re-hash a chain whose parts are larger than restore.max_part_size_bytes (exit 2), before any chunk GET', async () => {
      const MiB = 1024 * 1024;
      const full = plantBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['x'.repeat(6 * MiB)] });
      plantPointer(bucket, full);
      // Parts of 6 MiB against a 5 MiB limit (the smallest S3 part size both keys allow).
      const small = {
        ...config,
        s3: { ...config.s3, part_size_bytes: 5 * MiB },
        restore: { ...config.restore, max_part_size_bytes: 5 * MiB },
      };

      const attempt = runVerify({ config: small, deps: deps(), reads: { reads: 'all' } });

      await expect(attempt).rejects.toThrow(PartLimitError);
      await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Usage });
      expect(bucket.of(GetObjectCommand).filter((command) => command.input.Key?.includes('/chunks/'))).toHaveLength(0);
      // Existence and size need no part in memory: that check still runs.
      expect((await runVerify({ config: small, deps: deps() })).ok).toBe(true);
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

  describe('the verify, prune and inventory textfiles', () => {
    /** A textfile beside the backup's, as samples ("name{labels}" to value). */
    const textfile = (command: string) =>
      new Map(
        readFileSync(join(dir, 'textfile', `btrfs-to-s3-${command}.prom`), 'utf8')
          .split('\n')
          .filter((line) => line !== '' && !line.startsWith('#'))
          .map((line) => [line.slice(0, line.lastIndexOf(' ')), Number(line.slice(line.lastIndexOf(' ') + 1))]),
      );
    const at = (date: Date) => date.getTime() / 1000;

    it('records a passing verify per subvolume and mode, and a failing one keeps the last success', async () => {
      const { c } = twoGenerations(bucket);
      await runVerify({ config, deps: deps() });
      bucket.objects.delete(c.manifest.chunks[1]?.key ?? '');
      const later = new Date(NOW.getTime() + DAY_MS);

      await expect(runVerify({ config, deps: { client, now: () => later } })).rejects.toThrow(DamagedBackupError);

      const verify = textfile('verify');
      expect(verify.get('btrfs_to_s3_last_verify_success{subvolume="data",reads="none"}')).toBe(0);
      expect(verify.get('btrfs_to_s3_last_verify_attempt_timestamp_seconds{subvolume="data",reads="none"}')).toBe(at(later));
      expect(verify.get('btrfs_to_s3_last_verify_success_timestamp_seconds{subvolume="data",reads="none"}')).toBe(at(NOW));
    });

    it('records a prune, and what the bucket holds after it per subvolume and storage class, with its monthly cost', async () => {
      twoGenerations(bucket);

      await runPrune({ config, deps: deps(), writer: HOST_A });

      expect(textfile('prune').get('btrfs_to_s3_last_prune_success')).toBe(1);
      expect(textfile('prune').get('btrfs_to_s3_last_prune_success_timestamp_seconds')).toBe(at(NOW));
      const remaining = [...bucket.objects.entries()].filter(([key]) => key.startsWith('host1/subvol/data/'));
      const inventory = textfile('inventory');
      expect(inventory.get('btrfs_to_s3_stored_objects{subvolume="data",storage_class="STANDARD"}')).toBe(remaining.length);
      expect(inventory.get('btrfs_to_s3_stored_bytes{subvolume="data",storage_class="STANDARD"}')).toBe(
        remaining.reduce((sum, [, object]) => sum + object.bytes.length, 0),
      );
      expect(inventory.has('btrfs_to_s3_estimated_monthly_cost{storage_class="STANDARD",currency="USD"}')).toBe(true);
      expect(inventory.get('btrfs_to_s3_inventory_timestamp_seconds')).toBe(at(NOW));
    });

    it('records a prune that could not run as failed, and a dry run not at all', async () => {
      twoGenerations(bucket);
      await runPrune({ config, deps: deps(), dryRun: true });
      expect(existsSync(join(dir, 'textfile', 'btrfs-to-s3-prune.prom'))).toBe(false);
      const locked = { ...config, s3: { ...config.s3, object_lock: { mode: 'governance' as const, days: 1 } } };

      await expect(runPrune({ config: locked, deps: deps(), writer: HOST_A })).rejects.toMatchObject({ exitCode: ExitCode.Usage });

      expect(textfile('prune').get('btrfs_to_s3_last_prune_success')).toBe(0);
      expect(textfile('prune').has('btrfs_to_s3_last_prune_success_timestamp_seconds')).toBe(false);
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

    it("lists a subvolume's open uploads beside its versioning read, and its objects only after both", async () => {
      twoGenerations(bucket);
      // As after a backup: the run's own handle, whose versioning the prune reads first (held here).
      let versioningReads = 0;
      let release = (): void => undefined;
      const held = new Promise<void>((resolve) => (release = resolve));
      bucket.objectOps.hook = (command) => (command instanceof GetBucketVersioningCommand && ++versioningReads === 1 ? held : undefined);
      const uploadsListed = new Promise<void>((resolve) => {
        bucket.multipart.hook = (command) => (command instanceof ListMultipartUploadsCommand ? resolve() : undefined);
      });

      const pruning = pruneHeld({ config, bucket: new S3Bucket(client, config.s3), subvolumes: ['data'], writer: HOST_A, now: () => NOW });
      await uploadsListed; // never, were the listing to wait for the versioning read
      const objectListingsMeanwhile = bucket.of(ListObjectsV2Command).length;
      release();
      await pruning;

      expect(versioningReads).toBe(1);
      expect(objectListingsMeanwhile).toBe(0);
      const names = bucket.commands.map((command) => command.constructor.name);
      expect(names.indexOf('ListMultipartUploadsCommand')).toBeLessThan(names.indexOf('ListObjectsV2Command'));
    });

    it("reads an unversioned bucket's versioning once: the prune asks the handle that already read it", async () => {
      twoGenerations(bucket);

      await runPrune({ config, deps: deps(), writer: HOST_A });

      expect(bucket.of(GetBucketVersioningCommand)).toHaveLength(1);
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

    it.each([
      ['ongoing', 'ongoing' as const, true],
      ['done and unexpired', 'restored' as const, true],
      ['never requested', 'none' as const, false],
    ])('an old archived generation whose thaw is %s is kept: %s', async (_name, restore, kept) => {
      const archived = { storageClass: 'DEEP_ARCHIVE', restore } as const;
      const a = plantBackup(bucket, { ...archived, kind: 'full', at: new Date('2026-10-01T02:00:00Z'), chunks: ['full A'] });
      const c = plantBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['full C'] });
      plantPointer(bucket, c);

      const result = await runPrune({ config, deps: deps() });

      expect(bucket.objects.has(a.key)).toBe(kept);
      expect(bucket.objects.has(a.manifest.chunks[0]?.key ?? '')).toBe(kept);
      if (kept)
        expect(result.subvolumes[0]?.keep).toContainEqual(
          expect.objectContaining({ dir: a.dir, reason: 'being-restored', detail: expect.stringContaining('someone is restoring it') }),
        );
    });

    it("never deletes another writer's unpublished run (its writer.json), however long since its newest object; its own failed run goes", async () => {
      const { failedDir } = twoGenerations(bucket);
      const theirs = backupPrefix('host1', 'data', 'full', '20261125T020000Z');
      const old = new Date(NOW.getTime() - 5 * DAY_MS);
      bucket.put(chunkKey(theirs, 0), Buffer.from('their first full, still uploading'), { lastModified: old });
      bucket.put(writerMarkerKey(theirs), Buffer.from(serializeWriterMarker(HOST_B, old)), { lastModified: old });
      bucket.put(writerMarkerKey(failedDir), Buffer.from(serializeWriterMarker(HOST_A, old)), { lastModified: old });

      const result = await runPrune({ config, deps: deps(), writer: HOST_A });

      expect(bucket.objects.has(chunkKey(theirs, 0))).toBe(true);
      expect(bucket.objects.has(chunkKey(failedDir, 0))).toBe(false);
      expect(result.subvolumes[0]?.keep).toContainEqual(expect.objectContaining({ dir: theirs, reason: 'another-writer' }));
    });

    it.each([
      ['1 h ago: kept, with its chunks', 1, true],
      ['30 h ago: deleted, and the upload aborted', 30, false],
    ])(
      'dates a failed run by the newest part of an upload still open in it, not only its objects: a part %s',
      async (_name, hoursAgo, kept) => {
        const { failedDir } = twoGenerations(bucket); // its one chunk is 10 days old
        const key = chunkKey(failedDir, 1);
        bucket.multipart.now = () => new Date(NOW.getTime() - 10 * DAY_MS);
        const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: key }));
        bucket.multipart.now = () => new Date(NOW.getTime() - hoursAgo * 3_600_000);
        await client.send(
          new UploadPartCommand({ Bucket: 'backups', Key: key, UploadId, PartNumber: 1, Body: Buffer.from('still going') }),
        );

        const result = await runPrune({ config, deps: deps() });

        expect(bucket.objects.has(chunkKey(failedDir, 0))).toBe(kept);
        expect(bucket.uploads.has(UploadId ?? '')).toBe(kept);
        const entries = kept ? result.subvolumes[0]?.keep : result.subvolumes[0]?.delete;
        expect(entries).toContainEqual(
          expect.objectContaining({
            dir: failedDir,
            reason: kept ? 'within-grace' : 'failed-run',
            detail: expect.stringContaining(`an upload still open in it last received a part ${hoursAgo.toFixed(1)} h ago`),
          }),
        );
      },
    );

    it('keeps a failed run whose open upload completes between the listing and its ListParts: its date is unknown, so taken as now', async () => {
      const { failedDir } = twoGenerations(bucket); // its one chunk is 10 days old
      const key = chunkKey(failedDir, 1);
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'backups', Key: key }));
      bucket.multipart.hook = (command) => {
        if (command instanceof ListPartsCommand) bucket.uploads.delete(UploadId ?? ''); // completed meanwhile
      };

      const result = await runPrune({ config, deps: deps() });

      expect(bucket.objects.has(chunkKey(failedDir, 0))).toBe(true);
      expect(result.subvolumes[0]?.keep).toContainEqual(expect.objectContaining({ dir: failedDir, reason: 'within-grace' }));
    });

    it('keeps an older generation that current.json reaches, even beyond s3.retain_generations', async () => {
      const a = plantBackup(bucket, { kind: 'full', at: new Date('2026-10-01T02:00:00Z'), chunks: ['full A'] });
      const b = plantBackup(bucket, { kind: 'inc', at: new Date('2026-10-08T02:00:00Z'), parent: a, chunks: ['inc B'] });
      plantBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['full C, never pointed to'] });
      plantPointer(bucket, b);
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
