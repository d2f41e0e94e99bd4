import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { backupConfig, Bucket, gatewayEnv, MiB, uniquePrefix, until, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expectRestorableChain, pointerKeyOf } from './backup-intact';
import { cli, startBackground } from './cli';

describe('a backup stopped by a signal', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s mid-upload rolls back: exit 143 (SIGTERM) or 130 (SIGINT) naming the signal, multipart aborted, snapshot removed, lock released, previous backup current; the next run succeeds',
    async (signal) => {
      await withLoopBtrfs(
        async (mnt) => {
          const btrfs = new Btrfs(spawnProcessRunner);
          const data = join(mnt, 'data');
          await btrfs.createSubvolume(data);
          await writeRandomFiles(data, 1, MiB);
          const prefix = uniquePrefix(signal.toLowerCase());
          const config = backupConfig(mnt, prefix, ['data'], { s3: 'concurrency = 1' });
          expect(cli(['backup', '--config', config], gatewayEnv()).code).toBe(0);
          const pointerBefore = await bucket.bytes(pointerKeyOf(prefix));
          const snapshotsBefore = await btrfs.listSubvolumes(join(mnt, 'snapshots'));

          await writeRandomFiles(join(data, 'more'), 40, 5 * MiB);
          const run = startBackground(['backup', '--once', '--config', config], gatewayEnv());
          await until('a multipart upload to start', async () => (await bucket.uploads(prefix)).length > 0);
          run.child.kill(signal);
          const result = await run.done;

          expect(result.code).toBe(signal === 'SIGINT' ? 130 : 143);
          expect(result.stderr).toContain(`interrupted by ${signal}`);
          expect(await bucket.uploads(prefix)).toEqual([]);
          expect((await bucket.bytes(pointerKeyOf(prefix))).equals(pointerBefore)).toBe(true);
          await expectRestorableChain(bucket, prefix);
          expect(existsSync(join(mnt, 'state', 'run.lock'))).toBe(false);
          expect(await btrfs.listSubvolumes(join(mnt, 'snapshots'))).toEqual(snapshotsBefore);

          expect(cli(['backup', '--once', '--config', config], gatewayEnv()).code).toBe(0);
          expect((await bucket.bytes(pointerKeyOf(prefix))).equals(pointerBefore)).toBe(false);
        },
        { size: '1G' },
      );
    },
  );
});
