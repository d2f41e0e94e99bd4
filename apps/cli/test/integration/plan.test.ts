import { PlanResultSchema } from '@org/btrfs-s3-backup';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { run, withLoopBtrfs } from '@org/testenv';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../helpers';
import { backupConfig, Bucket, gatewayEnv, uniquePrefix } from '@org/testenv';
import * as v from 'valibot';

describe('plan on real Btrfs and the real gateway', () => {
  it('plans fulls on a first run, an incremental on a valid parent, and a full when the parent is unusable', async () => {
    const prefix = uniquePrefix('plan');
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await btrfs.createSubvolume(join(mnt, 'home'));
      const state = join(mnt, 'state', 'state.json');
      await mkdir(join(mnt, 'state'));
      const config = backupConfig(mnt, prefix, ['data', 'home']);
      const plan = (...args: string[]) => {
        const result = cli(['plan', '--json', '--config', config, ...args], gatewayEnv());
        expect(result.code).toBe(ExitCode.Success);
        return v.parse(PlanResultSchema, JSON.parse(result.stdout)).subvolumes;
      };

      expect(plan().map((entry) => [entry.subvolume, entry.action, entry.reason])).toEqual([
        ['data', 'full', 'first backup of this subvolume'],
        ['home', 'full', 'first backup of this subvolume'],
      ]);

      const parent = 'data__20261101T020000Z__full';
      const manifest = `${prefix}/subvol/data/full/20261101T020000Z/manifest.json`;
      await mkdir(join(mnt, 'snapshots'));
      await btrfs.createReadOnlySnapshot(join(mnt, 'data'), join(mnt, 'snapshots', parent));
      const bucket = new Bucket();
      await bucket.put(manifest, '{}');
      bucket.destroy();
      const backupAt = new Date(Date.now() - 8 * 24 * 3600 * 1000).toISOString();
      await writeFile(
        state,
        JSON.stringify({
          version: 1,
          last_run_at: backupAt,
          subvolumes: {
            data: { last_snapshot: parent, last_manifest: manifest, last_kind: 'full', last_backup_at: backupAt, last_full_at: backupAt },
          },
        }),
      );
      expect(plan('--subvolume', 'data')).toEqual([
        expect.objectContaining({
          subvolume: 'data',
          action: 'incremental',
          parentSnapshot: parent,
          parentManifest: manifest,
          reason: expect.stringMatching(/^last backup was 8\.0 days ago/),
        }),
      ]);

      // The parent made writable by hand can no longer be trusted as a parent.
      await run('btrfs', ['property', 'set', '-ts', join(mnt, 'snapshots', parent), 'ro', 'false']);
      expect(plan('--subvolume', 'data')[0]).toMatchObject({
        action: 'full',
        reason: `parent snapshot ${parent} is not read-only, so it may have changed since upload`,
      });
      await run('btrfs', ['property', 'set', '-ts', join(mnt, 'snapshots', parent), 'ro', 'true']);

      // A parent manifest that is gone from the bucket forces a full.
      const missing = `${prefix}/subvol/data/full/20261101T020000Z/missing.json`;
      await writeFile(
        state,
        JSON.stringify({
          version: 1,
          last_run_at: backupAt,
          subvolumes: {
            data: { last_snapshot: parent, last_manifest: missing, last_kind: 'full', last_backup_at: backupAt, last_full_at: backupAt },
          },
        }),
      );
      expect(plan('--subvolume', 'data')[0]).toMatchObject({
        action: 'full',
        reason: `parent manifest ${missing} is missing in the bucket, so an incremental could not be restored`,
      });

      // An unknown --subvolume is a usage error naming the flag.
      const unknown = cli(['plan', '--config', config, '--subvolume', 'nope'], gatewayEnv());
      expect(unknown.code).toBe(ExitCode.Usage);
      expect(unknown.stderr).toContain('--subvolume: unknown subvolume "nope"; configured: data, home');
    });
  });
});
