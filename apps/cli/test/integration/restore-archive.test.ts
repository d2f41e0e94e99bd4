import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { type ArchiveProxy, withArchiveProxy, withLoopBtrfs } from '@org/testenv';
import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { cli, cliAsync } from '../helpers';
import { backupConfig, Bucket, gatewayEnv, uniquePrefix, writeRandomFiles } from '@org/testenv';

const MiB = 1024 * 1024;

/** The restore CLI talking to the archive double instead of the gateway, polling thaws every 0.2 s. */
function restoreThrough(proxy: ArchiveProxy, config: string, target: string, ...args: string[]) {
  return cliAsync(['restore', '--config', config, '--subvolume', 'data', '--target', target, ...args], {
    ...gatewayEnv(),
    BTRFS_TO_S3__S3__ENDPOINT: proxy.endpoint,
    BTRFS_TO_S3__RESTORE__THAW_POLL_SECONDS: '0.2',
  });
}

describe('restore of archived chunks (DEEP_ARCHIVE behind the archive double)', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  /** A full and an incremental of `data`, chunks in DEEP_ARCHIVE; returns the chain's chunk keys. */
  async function backedUp(mnt: string): Promise<{ config: string; chunkKeys: string[] }> {
    const btrfs = new Btrfs(spawnProcessRunner);
    await btrfs.createSubvolume(join(mnt, 'data'));
    await writeRandomFiles(join(mnt, 'data'), 3, 8 * MiB);
    const prefix = uniquePrefix('archive');
    const config = backupConfig(mnt, prefix, ['data']);
    expect(cli(['backup', '--config', config], gatewayEnv()).code).toBe(0);
    await appendFile(join(mnt, 'data', 'file-0.bin'), Buffer.alloc(MiB, 3));
    expect(cli(['backup', '--once', '--config', config], gatewayEnv()).code).toBe(0);
    const chunkKeys = (await bucket.keys(prefix)).filter((key) => key.includes('/chunks/'));
    expect(chunkKeys.length).toBe(3); // two chunks of the full, one of the incremental
    return { config, chunkKeys };
  }

  it(
    'requests a thaw of every chunk of the chain once, up front, reports progress while waiting, then restores',
    withArchiveProxy({ thawAfterHeads: 2 }, async (proxy) => {
      await withLoopBtrfs(async (mnt) => {
        const { config, chunkKeys } = await backedUp(mnt);
        const result = await restoreThrough(proxy, config, join(mnt, 'restored'));
        if (result.code !== 0) throw new Error(`restore exited ${result.code}: ${result.stderr}`);
        const requests = proxy.restoreRequests();
        expect([...requests.keys()].sort()).toEqual(chunkKeys);
        for (const record of requests.values()) expect(record).toMatchObject({ count: 1, tier: 'Standard' });
        expect(result.stderr).toMatch(new RegExp(`\\d+ of ${chunkKeys.length} chunk objects readable after \\d+ s; waiting for the thaw`));
        expect(result.stderr).toMatch(new RegExp(`${chunkKeys.length} of ${chunkKeys.length} chunk objects readable after \\d+ s\n`));
        expect((await readdir(join(mnt, 'restored'))).length).toBe(2);
      });
    }),
  );

  it(
    '--no-wait requests the thaw and exits 5 at once; a later run (with the deprecated --wait-restore=false) does not request again and finishes once thawed',
    withArchiveProxy({}, async (proxy) => {
      await withLoopBtrfs(async (mnt) => {
        const { config, chunkKeys } = await backedUp(mnt);
        const target = join(mnt, 'restored');
        const first = await restoreThrough(proxy, config, target, '--no-wait');
        expect(first.code).toBe(ExitCode.RestorePending);
        expect(first.stderr).toMatch(new RegExp(`0 of ${chunkKeys.length} archived objects are readable`));
        await expect(readdir(target)).rejects.toMatchObject({ code: 'ENOENT' });

        const second = await restoreThrough(proxy, config, target, '--wait-restore=false');
        expect(second.code).toBe(ExitCode.RestorePending);
        expect(second.stderr).toContain('--wait-restore is deprecated: use --wait or --no-wait');
        expect([...proxy.restoreRequests().values()].map((record) => record.count)).toEqual(chunkKeys.map(() => 1));

        proxy.thawAll();
        const third = await restoreThrough(proxy, config, target);
        if (third.code !== 0) throw new Error(`restore exited ${third.code}: ${third.stderr}`);
        expect([...proxy.restoreRequests().values()].map((record) => record.count)).toEqual(chunkKeys.map(() => 1));
      });
    }),
  );

  it(
    'gives up after --restore-timeout with the archive-in-progress exit code',
    withArchiveProxy({}, async (proxy) => {
      await withLoopBtrfs(async (mnt) => {
        const { config } = await backedUp(mnt);
        const result = await restoreThrough(proxy, config, join(mnt, 'restored'), '--restore-timeout', '1');
        expect(result.code).toBe(ExitCode.RestorePending);
        await expect(readdir(join(mnt, 'restored'))).rejects.toMatchObject({ code: 'ENOENT' });
      });
    }),
  );
});
