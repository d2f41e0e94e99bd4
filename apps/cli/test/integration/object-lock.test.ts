import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  GetObjectRetentionCommand,
  ListObjectVersionsCommand,
  NoSuchKey,
  type ObjectIdentifier,
} from '@aws-sdk/client-s3';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ListResultSchema, PruneResultSchema } from '@org/btrfs-s3-bucket';
import { ExitCode } from '@org/btrfs-s3-core';
import { RestoreResultSchema } from '@org/btrfs-s3-restore';
import { backupConfig, Bucket, gatewayEnv, MiB, run, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as v from 'valibot';
import { cli } from '../helpers';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Object Lock on the real gateway and real Btrfs. The suites share one gateway, so this
 * test makes a lock-enabled bucket of its own (CreateBucket with ObjectLockEnabledForBucket)
 * and locks in governance mode: the gateway's user owns the bucket, so the cleanup can
 * delete every version with BypassGovernanceRetention, which the tool itself never sends.
 * The gateway has one user, so "the backup's credentials" are that user's, without the
 * bypass header (as AWS would refuse them without s3:BypassGovernanceRetention).
 */
describe('Object Lock against the real gateway', () => {
  const bucket = new Bucket();
  const { client } = bucket;
  afterAll(() => bucket.destroy());

  /** Every version and delete marker under `prefix` of `name`. */
  async function versionsOf(name: string, prefix = ''): Promise<{ key: string; versionId: string; marker: boolean; latest: boolean }[]> {
    const found: { key: string; versionId: string; marker: boolean; latest: boolean }[] = [];
    let marker: { KeyMarker?: string; VersionIdMarker?: string } = {};
    for (;;) {
      const page = await client.send(new ListObjectVersionsCommand({ Bucket: name, Prefix: prefix, ...marker }));
      for (const [entries, isMarker] of [
        [page.Versions ?? [], false],
        [page.DeleteMarkers ?? [], true],
      ] as const)
        for (const entry of entries)
          found.push({ key: entry.Key ?? '', versionId: entry.VersionId ?? '', marker: isMarker, latest: entry.IsLatest === true });
      if (page.IsTruncated !== true) return found;
      marker = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
    }
  }

  /** current.json's manifest key in bucket `name`, or undefined when a GET finds none. */
  async function currentManifest(name: string, key: string): Promise<string | undefined> {
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: name, Key: key }));
      return (JSON.parse((await response.Body?.transformToString()) ?? '{}') as { manifest_key?: string }).manifest_key;
    } catch (error) {
      if (error instanceof NoSuchKey) return undefined;
      throw error;
    }
  }

  const retainUntil = async (name: string, key: string, versionId?: string) =>
    (await client.send(new GetObjectRetentionCommand({ Bucket: name, Key: key, VersionId: versionId }))).Retention;

  /** A bucket with Object Lock (and so versioning), removed afterwards with every version in it. */
  async function withLockedBucket(fn: (name: string) => Promise<void>): Promise<void> {
    const name = `lock-${process.pid}-${Date.now()}`;
    await client.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
    try {
      await fn(name);
    } finally {
      const all = await versionsOf(name);
      for (let start = 0; start < all.length; start += 1000) {
        const Objects: ObjectIdentifier[] = all.slice(start, start + 1000).map((entry) => ({ Key: entry.key, VersionId: entry.versionId }));
        await client.send(new DeleteObjectsCommand({ Bucket: name, BypassGovernanceRetention: true, Delete: { Objects, Quiet: true } }));
      }
      await client.send(new DeleteBucketCommand({ Bucket: name }));
    }
  }

  it('locks chunks and manifests, not current.json; a locked version cannot be deleted; list and restore see through delete markers; prune reports what stays locked and exits 0', async () => {
    await withLockedBucket(async (name) => {
      await withLoopBtrfs(async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        await btrfs.createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 2, 9 * MiB);
        const prefix = uniquePrefix('object-lock');
        const base = `${prefix}/subvol/data`;
        const config = backupConfig(mnt, prefix, ['data'], {
          bucket: name,
          s3: 'object_lock = { mode = "governance", days = 1 }\nprune_after_backup = false\nretain_generations = 1',
          snapshots: 'retain = 3',
        });
        const backup = (...args: string[]) => {
          const result = cli(['backup', '--config', config, ...args], gatewayEnv());
          if (result.code !== ExitCode.Success) throw new Error(`backup exited ${result.code}: ${result.stderr}`);
        };
        const started = Date.now();
        backup();

        const pointer = () => currentManifest(name, `${base}/current.json`);
        const fullKey = (await pointer()) ?? '';
        const full = (await versionsOf(name, fullKey.replace(/manifest\.json$/, ''))).map((entry) => entry.key);
        const fullChunks = full.filter((key) => key.includes('/chunks/'));
        expect(fullChunks.length).toBeGreaterThanOrEqual(2);
        // Every object of the backup is locked a day ahead; the pointer never is.
        for (const key of full) {
          const retention = await retainUntil(name, key);
          expect({ key, mode: retention?.Mode }).toEqual({ key, mode: 'GOVERNANCE' });
          expect(retention?.RetainUntilDate?.getTime()).toBeGreaterThanOrEqual(started + DAY_MS - 5000);
        }
        await expect(retainUntil(name, `${base}/current.json`)).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });

        // The backup's credentials cannot delete a locked version.
        const [victim] = (await versionsOf(name, fullChunks[0])).filter((entry) => entry.key === fullChunks[0]);
        await expect(
          client.send(new DeleteObjectCommand({ Bucket: name, Key: victim?.key, VersionId: victim?.versionId })),
        ).rejects.toMatchObject({ name: 'AccessDenied' });

        // An incremental keeps the full it builds on locked for another day.
        const before = (await retainUntil(name, fullChunks[0] ?? ''))?.RetainUntilDate?.getTime() ?? 0;
        await writeRandomFiles(join(mnt, 'data'), 1, 2 * MiB, 'more');
        backup('--once');
        const incKey = (await pointer()) ?? '';
        expect(incKey).toContain('/inc/');
        for (const key of [fullKey, ...fullChunks])
          expect((await retainUntil(name, key))?.RetainUntilDate?.getTime()).toBeGreaterThan(before);

        // A plain delete with the same credentials only adds delete markers: the data stays.
        for (const key of [`${base}/current.json`, fullChunks[0] ?? '', incKey])
          await client.send(new DeleteObjectCommand({ Bucket: name, Key: key }));
        expect(await pointer()).toBeUndefined();
        expect((await versionsOf(name, fullChunks[0])).filter((entry) => !entry.marker)).toHaveLength(1);

        const listed = cli(['list', '--json', '--config', config], gatewayEnv());
        expect(listed.code).toBe(ExitCode.Success);
        expect(v.parse(ListResultSchema, JSON.parse(listed.stdout)).subvolumes[0]?.current?.manifestKey).toBe(incKey);
        expect(listed.stderr).toMatch(/its current version is a delete marker .*reading its newest version that is not one/);

        await withLoopBtrfs(async (elsewhere) => {
          const target = join(elsewhere, 'restored');
          const restored = cli(['restore', '--json', '--config', config, '--subvolume', 'data', '--target', target], gatewayEnv());
          if (restored.code !== ExitCode.Success) throw new Error(`restore exited ${restored.code}: ${restored.stderr}`);
          const result = v.parse(RestoreResultSchema, JSON.parse(restored.stdout));
          expect(result.chain.map((link) => link.manifestKey)).toEqual([fullKey, incKey]);
          expect(result.verification).toMatchObject({ differences: [] });
          expect(restored.stderr).toMatch(/its current version is a delete marker/);
          const last = result.chain[1]?.snapshot ?? '';
          await run('diff', ['-r', '--no-dereference', join(mnt, 'snapshots', last), join(target, last)]);
        });

        // A new full makes the locked generation old; prune deletes what it may and reports the rest.
        backup('--once', '--full');
        const pruned = cli(['prune', '--json', '--config', config], gatewayEnv());
        expect(pruned.code).toBe(ExitCode.Success);
        const [data] = v.parse(PruneResultSchema, JSON.parse(pruned.stdout)).subvolumes;
        expect(data?.delete.map((entry) => entry.dirs)).toEqual([[fullKey, incKey].map((key) => key.replace(/\/manifest\.json$/, ''))]);
        expect(data?.locked.versions).toBeGreaterThanOrEqual(full.length + 2);
        expect(Date.parse(data?.locked.soonestRetainUntil ?? '')).toBeGreaterThan(Date.now());
        expect(pruned.stderr).toMatch(/data: Object Lock keeps \d+ version\(s\)/);
        // Still there, and the delete marker over the full's chunk is gone: nothing hides it now.
        const afterPrune = await versionsOf(name, fullChunks[0]);
        expect(afterPrune.map((entry) => [entry.marker, entry.latest])).toEqual([[false, true]]);
        const human = cli(['prune', '--config', config], gatewayEnv());
        expect(human.code).toBe(ExitCode.Success);
        expect(human.stdout).toMatch(/Object Lock keeps \d+ version\(s\), .*, the first until .*: not deleted yet, not a failure/);
      });
    });
  });

  it('refuses object_lock on a bucket without Object Lock before anything is written (exit 2)', async () => {
    await withLoopBtrfs(async (mnt) => {
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      const prefix = uniquePrefix('object-lock-refused');
      const config = backupConfig(mnt, prefix, ['data'], { s3: 'object_lock = { mode = "compliance", days = 1 }' });

      for (const command of [['backup'], ['prune']]) {
        const refused = cli([...command, '--config', config], gatewayEnv());
        expect(refused.code).toBe(ExitCode.Usage);
        expect(refused.stderr).toMatch(/s3\.object_lock: bucket \S+ has no Object Lock, and has versioning off, not enabled/);
      }
      expect(await bucket.keys(`${prefix}/`)).toEqual([]);
      expect(existsSync(join(mnt, 'snapshots'))).toBe(false);
      // Only the refused attempts' metrics records: no state, no lock.
      expect(readdirSync(join(mnt, 'state')).sort()).toEqual(['metrics-prune.json', 'metrics.json']);
      const record = JSON.parse(readFileSync(join(mnt, 'state', 'metrics.json'), 'utf8')) as { run: { last_exit_code: number } };
      expect(record.run.last_exit_code).toBe(ExitCode.Usage);
    });
  });
});
