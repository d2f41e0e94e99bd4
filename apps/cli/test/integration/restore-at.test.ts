import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ListResultSchema } from '@org/btrfs-s3-bucket';
import { RestorePlanSchema, RestoreResultSchema } from '@org/btrfs-s3-restore';
import { backupConfig, Bucket, gatewayEnv, MiB, run, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { join } from 'node:path';
import * as v from 'valibot';
import { cli } from '../helpers';

describe('restore --at, among three generations', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('picks the newest backup at or before the time, lists every restorable point, and refuses a time before the first', async () => {
    await withLoopBtrfs(async (mnt) => {
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 2, MiB);
      const prefix = uniquePrefix('restore-at');
      const config = backupConfig(mnt, prefix, ['data'], {
        snapshots: 'retain = 5',
        s3: 'retain_generations = 3\nprune_after_backup = false',
      });
      const backup = async (...args: string[]) => {
        expect(cli(['backup', '--config', config, ...args], gatewayEnv()).code).toBe(0);
        await writeRandomFiles(join(mnt, 'data'), 1, MiB / 4, `after-${Date.now()}`); // each backup differs from the last
      };
      // Three generations: full, inc, full, inc, full.
      await backup();
      await backup('--once');
      await backup('--once', '--full');
      await backup('--once');
      await backup('--once', '--full');

      const listed = cli(['list', '--json', '--config', config], gatewayEnv());
      expect(listed.code).toBe(0);
      const points = v.parse(ListResultSchema, JSON.parse(listed.stdout)).subvolumes[0]?.restorablePoints ?? [];
      expect(points.map((point) => point.kind)).toEqual(['full', 'inc', 'full', 'inc', 'full']);
      const [f1, i1, f2, i2] = points.map((point) => point);
      if (f1 === undefined || i1 === undefined || f2 === undefined || i2 === undefined) throw new Error('expected five restorable points');

      const plan = (at: string) => {
        const result = cli(
          ['restore', '--dry-run', '--json', '--config', config, '-s', 'data', '--target', join(mnt, 'never'), '--at', at],
          gatewayEnv(),
        );
        expect(result.code).toBe(0);
        return v.parse(RestorePlanSchema, JSON.parse(result.stdout)).chain.map((link) => link.manifestKey);
      };
      expect(plan(f2.createdAt)).toEqual([f2.manifestKey]); // exactly at a backup's time: that backup
      const justAfterI2 = new Date(new Date(i2.createdAt).getTime() + 500).toISOString();
      expect(plan(justAfterI2)).toEqual([f2.manifestKey, i2.manifestKey]); // between two backups: the older one, with its chain

      const before = cli(
        ['restore', '--config', config, '-s', 'data', '--target', join(mnt, 'never'), '--at', '2020-01-01T00:00:00Z'],
        gatewayEnv(),
      );
      expect(before.code).toBe(2);
      expect(before.stderr).toContain(
        `--at 2020-01-01T00:00:00.000Z: no backup of "data" at or before that time; the oldest restorable one is from ${f1.createdAt}`,
      );

      // A real restore as of the first incremental brings back exactly that snapshot.
      await withLoopBtrfs(async (elsewhere) => {
        const restored = cli(
          ['restore', '--json', '--config', config, '-s', 'data', '--target', join(elsewhere, 'r'), '--at', i1.createdAt],
          gatewayEnv(),
        );
        expect(restored.code).toBe(0);
        const result = v.parse(RestoreResultSchema, JSON.parse(restored.stdout));
        expect(result.chain.map((link) => link.manifestKey)).toEqual([f1.manifestKey, i1.manifestKey]);
        await run('diff', ['-r', '--no-dereference', join(mnt, 'snapshots', result.chain[1]?.snapshot ?? ''), result.snapshotPath]);
      });
    });
  });
});
