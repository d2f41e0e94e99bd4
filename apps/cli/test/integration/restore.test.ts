import { RestoreResultSchema } from '@org/btrfs-s3-restore';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { run, withLoopBtrfs } from '@org/testenv';
import { appendFile, link, mkdir, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cli } from '../helpers';
import { backupConfig, Bucket, gatewayEnv, uniquePrefix, writeRandomFiles } from '@org/testenv';
import * as v from 'valibot';

const MiB = 1024 * 1024;

/** Files of every kind a restore must reproduce. */
async function populate(root: string): Promise<void> {
  await writeRandomFiles(join(root, 'big'), 6, 6 * MiB);
  await mkdir(join(root, 'empty-dir'));
  await writeFile(join(root, 'empty-file'), '');
  await writeFile(join(root, 'sparse'), '');
  await truncate(join(root, 'sparse'), 64 * MiB);
  await writeFile(join(root, 'ünïcödé – 名前.txt'), 'non-ASCII name');
  await symlink('big/file-0.bin', join(root, 'link-to-big'));
  await symlink('/nonexistent/target', join(root, 'dangling'));
  await link(join(root, 'empty-file'), join(root, 'hard-link'));
  await run('setfattr', ['-n', 'user.comment', '-v', 'restored too', join(root, 'ünïcödé – 名前.txt')]);
  await run('chmod', ['0750', join(root, 'empty-dir')]);
  await run('chown', ['1234:5678', join(root, 'empty-file')]);
}

/** An independent comparison: diff for content and links, getfattr dumps for attributes, find for metadata. */
async function expectSameTree(source: string, restored: string): Promise<void> {
  await run('diff', ['-r', '--no-dereference', source, restored]);
  const meta = (root: string) => run('sh', ['-c', `cd "${root}" && find . -printf '%p %y %m %U:%G %s %n %l\\n' | sort`]);
  expect(await meta(restored)).toBe(await meta(source));
  const xattrs = (root: string) => run('sh', ['-c', `cd "${root}" && getfattr -R -h -d -m - . 2>/dev/null | sort`]);
  expect(await xattrs(restored)).toBe(await xattrs(source));
}

describe('restore on real Btrfs and the real gateway', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('restores a full and two incrementals into a fresh filesystem exactly, with the Received UUID of the source', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        await btrfs.createSubvolume(join(mnt, 'data'));
        await populate(join(mnt, 'data'));
        const prefix = uniquePrefix('restore');
        const config = backupConfig(mnt, prefix, ['data'], { snapshots: 'retain = 3' });
        const backup = (...args: string[]) => expect(cli(['backup', '--config', config, ...args], gatewayEnv()).code).toBe(0);
        backup();
        await appendFile(join(mnt, 'data', 'big', 'file-1.bin'), Buffer.alloc(MiB, 9));
        await rm(join(mnt, 'data', 'big', 'file-2.bin'));
        await writeFile(join(mnt, 'data', 'sparse'), 'head', { flag: 'r+' });
        backup('--once');
        await writeRandomFiles(join(mnt, 'data', 'later'), 2, 3 * MiB);
        await run('setfattr', ['-n', 'user.comment', '-v', 'changed later', join(mnt, 'data', 'ünïcödé – 名前.txt')]);
        backup('--once');

        await withLoopBtrfs(async (elsewhere) => {
          const target = join(elsewhere, 'restored');
          const result = cli(['restore', '--json', '--config', config, '--subvolume', 'data', '--target', target], gatewayEnv());
          if (result.code !== 0) throw new Error(`restore exited ${result.code}: ${result.stderr}`);
          const restored = v.parse(RestoreResultSchema, JSON.parse(result.stdout));
          expect(restored.chain.map((link) => link.kind)).toEqual(['full', 'inc', 'inc']);
          expect(restored.verification).toMatchObject({ mode: 'full', differences: [] });

          const names = (await readdir(target)).sort();
          expect(names).toEqual(restored.chain.map((link) => link.snapshot).sort());
          const last = restored.chain[2]?.snapshot ?? '';
          const source = await btrfs.showSubvolume(join(mnt, 'snapshots', last));
          const copy = await btrfs.showSubvolume(join(target, last));
          expect(copy.readOnly).toBe(true);
          expect(copy.receivedUuid).toBe(source.uuid);
          await expectSameTree(join(mnt, 'snapshots', last), join(target, last));
        });
      },
      { size: '2G' },
    );
  });

  it('refuses a chunk with one flipped byte, names the object, and leaves nothing at the target', async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 4, 8 * MiB);
      const prefix = uniquePrefix('corrupt');
      const config = backupConfig(mnt, prefix, ['data']);
      expect(cli(['backup', '--config', config], gatewayEnv()).code).toBe(0);
      const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { manifest_key: string };
      const manifest = (await bucket.json(pointer.manifest_key)) as { chunks: { key: string }[] };
      const victim = manifest.chunks[1]?.key ?? '';
      const bytes = await bucket.bytes(victim);
      bytes[7 * MiB] = (bytes[7 * MiB] ?? 0) ^ 0xff;
      await bucket.put(victim, bytes);

      const target = join(mnt, 'restored');
      const result = cli(['restore', '--config', config, '--subvolume', 'data', '--target', target], gatewayEnv());
      expect(result.code).toBe(ExitCode.Fatal);
      expect(result.stderr).toContain(victim);
      expect(result.stderr).toMatch(/expected [0-9a-f]{64}.*(actual|got) [0-9a-f]{64}/);
      await expect(readdir(target)).rejects.toMatchObject({ code: 'ENOENT' });
    });
  });

  it('refuses an existing non-empty target and a missing backup before downloading anything', async () => {
    await withLoopBtrfs(async (mnt) => {
      const prefix = uniquePrefix('refuse');
      await mkdir(join(mnt, 'full'));
      await writeFile(join(mnt, 'full', 'x'), 'x');
      const config = backupConfig(mnt, prefix, ['data']);
      const busy = cli(['restore', '--config', config, '--subvolume', 'data', '--target', join(mnt, 'full')], gatewayEnv());
      expect(busy.code).toBe(ExitCode.Usage);
      expect(busy.stderr).toContain(`--target ${join(mnt, 'full')} exists and is not empty`);
      const none = cli(['restore', '--config', config, '--subvolume', 'data', '--target', join(mnt, 'new')], gatewayEnv());
      expect(none.code).toBe(ExitCode.Fatal);
      expect(none.stderr).toContain(`no backup of subvolume "data": ${prefix}/subvol/data/current.json does not exist`);
      expect((await readdir(mnt)).sort()).toEqual(['full']);
    });
  });
});
