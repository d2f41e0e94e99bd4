import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { backupConfig, Bucket, gatewayEnv, MiB, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { appendFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { DrillOutputSchema } from '../../src/output-schemas';
import { cli } from '../helpers';

const successLine = /^btrfs_to_s3_last_drill_success_timestamp_seconds\{subvolume="data",mode="full"\} (\d+(\.\d+)?)$/m;

describe('drill on real Btrfs and the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('restores the current chain into scratch, verifies and deletes it, records the success; a flipped chunk fails it and keeps the time', async () => {
    await withLoopBtrfs(async (mnt) => {
      await new Btrfs(spawnProcessRunner).createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 2, 2 * MiB);
      const prefix = uniquePrefix('drill');
      const config = backupConfig(mnt, prefix, ['data'], {
        global: `prometheus_textfile = "${mnt}/state/btrfs-to-s3.prom"`,
        s3: 'storage_class_chunks = "STANDARD"',
      });
      expect(cli(['backup', '--config', config], gatewayEnv()).code).toBe(ExitCode.Success);
      await appendFile(join(mnt, 'data', 'file-0.bin'), Buffer.alloc(MiB, 7));
      expect(cli(['backup', '--once', '--config', config], gatewayEnv()).code).toBe(ExitCode.Success);
      const scratch = join(mnt, 'scratch');
      await mkdir(scratch);
      const textfile = join(mnt, 'state', 'btrfs-to-s3-drill.prom');

      const passed = cli(['drill', '--config', config, '--scratch', scratch, '--json'], gatewayEnv());

      expect(passed.code).toBe(ExitCode.Success);
      const result = v.parse(DrillOutputSchema, JSON.parse(passed.stdout));
      expect(result).toMatchObject({ ok: true, scratch, subvolumes: [{ subvolume: 'data', mode: 'full', ok: true, backups: 2 }] });
      expect('subvolumes' in result && result.subvolumes[0]?.verification).toMatch(
        /Received UUID .* matches; \d+ entries compared \(full\)/,
      );
      expect(await readdir(scratch)).toEqual([]);
      const recorded = successLine.exec(await readFile(textfile, 'utf8'))?.[1];
      expect(recorded).toBeDefined();
      expect(await readFile(join(mnt, 'state', 'btrfs-to-s3.prom'), 'utf8')).not.toContain('drill'); // the backup's own file is untouched

      const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { manifest_key: string };
      const manifest = (await bucket.json(pointer.manifest_key)) as { chunks: { key: string }[] };
      const chunkKey = manifest.chunks[0]?.key ?? '';
      const damaged = Buffer.from(await bucket.bytes(chunkKey));
      damaged[damaged.length >> 1] = (damaged[damaged.length >> 1] ?? 0) ^ 0x01;
      await bucket.put(chunkKey, damaged);

      const failed = cli(['drill', '--config', config, '--scratch', scratch], gatewayEnv());

      expect(failed.code).toBe(ExitCode.Fatal);
      expect(failed.stdout).toContain(`data: full drill FAILED: `);
      expect(failed.stdout).toContain(chunkKey);
      expect(await readdir(scratch)).toEqual([]);
      const after = await readFile(textfile, 'utf8');
      expect(successLine.exec(after)?.[1]).toBe(recorded);
      expect(after).toContain('btrfs_to_s3_last_drill_success{subvolume="data",mode="full"} 0\n');
    });
  });
});
