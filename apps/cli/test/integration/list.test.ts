import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { backupConfig, Bucket, gatewayEnv, MiB, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { join } from 'node:path';
import * as v from 'valibot';
import { StatusResultSchema } from '@org/btrfs-s3-backup';
import { ListResultSchema } from '@org/btrfs-s3-bucket';
import { cli } from '../helpers';

describe('list against the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('shows each generation with its backups, marks what current.json reaches, and lists failed runs and unconfigured subvolumes', async () => {
    await withLoopBtrfs(async (mnt) => {
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 1, MiB);
      const prefix = uniquePrefix('list');
      const config = backupConfig(mnt, prefix, ['data'], { s3: 'prune_after_backup = false' });
      const backup = (...args: string[]) => expect(cli(['backup', '--config', config, ...args], gatewayEnv()).code).toBe(ExitCode.Success);
      backup();
      await writeRandomFiles(join(mnt, 'data'), 1, MiB / 2, 'more');
      backup('--once');
      backup('--once', '--full');
      const failedRun = `${prefix}/subvol/data/inc/29991231T000000Z`;
      await bucket.put(`${failedRun}/chunks/part-00000.bin`, Buffer.alloc(3000, 1));
      await bucket.put(`${prefix}/subvol/retired/full/20250101T000000Z/chunks/part-00000.bin`, Buffer.alloc(10, 1));
      const manifests = (await bucket.keys(`${prefix}/`)).filter((key) => key.endsWith('/manifest.json'));
      // Keys sort by their timestamps.
      const [oldFull = '', newFull = ''] = manifests.filter((key) => key.includes('/full/'));
      const inc = manifests.find((key) => key.includes('/inc/')) ?? '';

      const result = cli(['list', '--json', '--config', config], gatewayEnv());
      expect(result.code).toBe(ExitCode.Success);
      const listed = v.parse(ListResultSchema, JSON.parse(result.stdout));
      expect(listed.subvolumes.map((entry) => [entry.subvolume, entry.configured])).toEqual([
        ['data', true],
        ['retired', false],
      ]);
      const data = listed.subvolumes[0];
      expect(data?.current).toMatchObject({ manifestKey: newFull, kind: 'full' });
      expect(
        data?.generations.map((generation) => [
          generation.rootState,
          generation.current,
          generation.backups.map((backup) => [backup.manifestKey, backup.kind, backup.current, backup.reachable]),
        ]),
      ).toEqual([
        ['full', true, [[newFull, 'full', true, true]]],
        [
          'full',
          false,
          [
            [oldFull, 'full', false, false],
            [inc, 'inc', false, false],
          ],
        ],
      ]);
      const newest = data?.generations[0]?.backups[0];
      expect(newest).toMatchObject({ state: 'complete', storageClass: 'DEEP_ARCHIVE', chunks: 1, parentManifest: null, problem: null });
      expect(newest?.totalBytes).toBeGreaterThan(MiB);
      expect(data?.generations[1]?.backups[1]?.parentManifest).toBe(oldFull);
      expect(data?.incomplete).toEqual([expect.objectContaining({ dir: failedRun, kind: 'inc', objects: 1, bytes: 3000 })]);
      expect(listed.subvolumes[1]?.incomplete).toEqual([
        expect.objectContaining({ dir: `${prefix}/subvol/retired/full/20250101T000000Z`, objects: 1 }),
      ]);

      const human = cli(['list', '--config', config], gatewayEnv());
      expect(human.code).toBe(ExitCode.Success);
      expect(human.stdout).toContain(`data: current.json -> ${newFull}\n`);
      expect(human.stdout).toMatch(new RegExp(`^ +> +full +\\d{4}-.*DEEP_ARCHIVE +${newFull}$`, 'm'));
      expect(human.stdout).toMatch(new RegExp(`^ +inc +\\d{4}-.* 1 chunk\\(s\\) +DEEP_ARCHIVE +${inc}$`, 'm'));
      expect(human.stdout).toContain(`  incomplete (failed run): ${failedRun}/: 1 object(s), 2.9 KiB, last written`);
      expect(human.stdout).toContain('retired (not configured): no current.json\n');

      // status after real runs: the last run's metrics, as the schema describes them.
      const status = v.parse(StatusResultSchema, JSON.parse(cli(['status', '--json', '--config', config], gatewayEnv()).stdout));
      expect(status.subvolumes[0]).toMatchObject({
        lastManifest: newFull,
        lastKind: 'full',
        lastRun: { result: 'published', kind: 'full', manifestKey: newFull, chunks: 1 },
      });

      const only = v.parse(
        ListResultSchema,
        JSON.parse(cli(['list', '--json', '--subvolume', 'retired', '--config', config], gatewayEnv()).stdout),
      );
      expect(only.subvolumes.map((entry) => entry.subvolume)).toEqual(['retired']);
      const unknown = cli(['list', '--subvolume', 'nope', '--config', config], gatewayEnv());
      expect(unknown.code).toBe(ExitCode.Usage);
      expect(unknown.stderr).toContain('--subvolume: no subvolume "nope" in the config or the bucket; known: data, retired');
    });
  });
});
