import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import {
  backupConfig,
  Bucket,
  gatewayEnv,
  MiB,
  startFaultProxy,
  testGateway,
  uniquePrefix,
  until,
  withLoopBtrfs,
  writeRandomFiles,
} from '@org/testenv';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expectRestorableChain, pointerKeyOf } from './backup-intact';
import { cli, startBackground } from './cli';

describe('a backup stopped by a signal', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s before any part is stored rolls back: exit 143 (SIGTERM) or 130 (SIGINT) naming the signal, multipart aborted, snapshot removed, lock released, previous backup current; the next run succeeds',
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
          // The gateway's answer to the first part is held: nothing is stored when the signal comes
          // (a stop after stored parts keeps them for a resume: resume.test.ts).
          let release = () => undefined as void;
          const held = new Promise<void>((resolve) => {
            release = resolve;
          });
          let partsSent = 0;
          const proxy = await startFaultProxy({
            upstream: testGateway().endpoint,
            faults: (request) => {
              if (request.method !== 'PUT' || !request.target.includes('partNumber=')) return undefined;
              partsSent += 1;
              return { holdResponseUntil: held };
            },
          });
          const proxied = backupConfig(mnt, prefix, ['data'], { s3: 'concurrency = 1', endpoint: proxy.endpoint });
          const run = startBackground(['backup', '--once', '--config', proxied], gatewayEnv());
          let result: Awaited<typeof run.done>;
          try {
            await until('the first part to be sent', () => partsSent > 0);
            run.child.kill(signal);
            result = await run.done;
          } finally {
            release();
            await proxy.close();
          }

          expect(result.code).toBe(signal === 'SIGINT' ? 130 : 143);
          expect(result.stderr).toContain(`interrupted by ${signal}`);
          expect(await bucket.uploads(prefix)).toEqual([]);
          expect((await bucket.bytes(pointerKeyOf(prefix))).equals(pointerBefore)).toBe(true);
          await expectRestorableChain(bucket, prefix);
          expect(existsSync(join(mnt, 'state', 'run.lock'))).toBe(false);
          expect(existsSync(join(mnt, 'state', 'resume', 'data.json'))).toBe(false);
          expect(await btrfs.listSubvolumes(join(mnt, 'snapshots'))).toEqual(snapshotsBefore);

          expect(cli(['backup', '--once', '--config', config], gatewayEnv()).code).toBe(0);
          expect((await bucket.bytes(pointerKeyOf(prefix))).equals(pointerBefore)).toBe(false);
        },
        { size: '1G' },
      );
    },
  );
});
