import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { backupConfig, type ConfigExtras, Bucket, gatewayEnv, MiB, run, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, statfs, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { expectRestorableChain, pointerKeyOf, readPointer } from './backup-intact';
import { BIN, cli } from './cli';

interface Published {
  readonly mnt: string;
  readonly btrfs: Btrfs;
  readonly prefix: string;
  readonly config: string;
  /** current.json's bytes after the first backup. */
  readonly pointer: Buffer;
}

/**
 * Faults on the machine itself. Each case starts from a published backup, breaks
 * one thing, and checks that the error names it, the exit code, that the
 * published backup is untouched, and that the next run succeeds (after the
 * operator undoes the fault, where only the operator can).
 */
describe('local faults', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  async function withPublishedBackup(name: string, extra: ConfigExtras, test: (published: Published) => Promise<void>): Promise<void> {
    await withLoopBtrfs(
      async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        await btrfs.createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 2, MiB);
        const prefix = uniquePrefix(name);
        const config = backupConfig(mnt, prefix, ['data'], extra);
        const first = cli(['backup', '--config', config], gatewayEnv());
        expect({ code: first.code, stderr: first.stderr }).toMatchObject({ code: 0 });
        await test({ mnt, btrfs, prefix, config, pointer: await bucket.bytes(pointerKeyOf(prefix)) });
      },
      { size: '1G' },
    );
  }

  const backup = (config: string) => cli(['backup', '--once', '--config', config], gatewayEnv());

  async function expectPreviousBackupCurrent({ prefix, pointer }: Published): Promise<void> {
    expect((await bucket.bytes(pointerKeyOf(prefix))).equals(pointer)).toBe(true);
    await expectRestorableChain(bucket, prefix);
  }

  async function expectNextRunPublishes(published: Published, kind: 'full' | 'inc'): Promise<void> {
    const next = backup(published.config);
    expect({ code: next.code, stderr: next.stderr }).toMatchObject({ code: 0 });
    expect((await readPointer(bucket, published.prefix)).kind).toBe(kind);
    await expectRestorableChain(bucket, published.prefix);
  }

  it('spool directory full: exit 1 naming the spool directory and its key, no part files left, upload aborted; with space again the next run succeeds', async () => {
    await withLoopBtrfs(
      async (spoolMnt) => {
        const spool = join(spoolMnt, 'spool');
        const extra = { s3: 'spool_enabled = true', global: `spool_dir = "${spool}"\nspool_size_bytes = 104857600` };
        await withPublishedBackup('spoolfull', extra, async (published) => {
          await writeRandomFiles(join(published.mnt, 'data', 'more'), 4, 5 * MiB);
          const { bavail, bsize } = await statfs(spoolMnt);
          await run('fallocate', ['-l', String(bavail * bsize - 2 * MiB), join(spoolMnt, 'ballast')]);
          const result = backup(published.config);
          expect(result.code).toBe(ExitCode.Fatal);
          expect(result.stderr).toContain(`spool directory ${spool} is full (global.spool_dir)`);
          expect(await readdir(spool)).toEqual([]);
          expect(await bucket.uploads(published.prefix)).toEqual([]);
          await expectPreviousBackupCurrent(published);

          await rm(join(spoolMnt, 'ballast'));
          await expectNextRunPublishes(published, 'inc');
        });
      },
      { size: '256M' },
    );
  });

  it('state file corrupt: moved aside with an error naming it, state rebuilt from current.json, and the run still chains an incremental', async () => {
    await withPublishedBackup('statecorrupt', {}, async (published) => {
      const statePath = join(published.mnt, 'state', 'state.json');
      await writeFile(statePath, '{"version": 1, "subvo');
      const result = backup(published.config);
      expect(result.code).toBe(ExitCode.Success);
      expect(result.stderr).toContain(`state file ${statePath} is corrupt (not JSON`);
      const aside = (await readdir(dirname(statePath))).filter((name) => name.startsWith('state.json.corrupt-'));
      expect(aside).toHaveLength(1);
      expect(await readFile(join(dirname(statePath), aside[0] ?? ''), 'utf8')).toBe('{"version": 1, "subvo');
      const pointer = await readPointer(bucket, published.prefix);
      expect(pointer.kind).toBe('inc');
      expect(((await bucket.json(pointer.manifest_key)) as { parent_manifest: string }).parent_manifest).toBe(
        JSON.parse(published.pointer.toString()).manifest_key,
      );
      expect(JSON.parse(await readFile(statePath, 'utf8')).subvolumes.data.last_manifest).toBe(pointer.manifest_key);
    });
  });

  it('state file corrupt, then three --no-s3 runs: the last uploaded snapshot is kept (retention says why), and the next S3 run is an incremental', async () => {
    await withPublishedBackup('nos3corrupt', {}, async (published) => {
      const statePath = join(published.mnt, 'state', 'state.json');
      const uploaded = (JSON.parse(await readFile(statePath, 'utf8')) as { subvolumes: { data: { last_snapshot: string } } }).subvolumes
        .data.last_snapshot;
      await writeFile(statePath, '{"version": 1, "subvo');
      for (let run = 0; run < 3; run += 1) {
        const local = cli(['backup', '--once', '--no-s3', '--config', published.config], gatewayEnv());
        expect({ code: local.code, stderr: local.stderr }).toMatchObject({ code: ExitCode.Success });
        expect(local.stderr).toContain('data: kept every local snapshot: the state records no uploaded snapshot');
      }
      const snapshots = (await published.btrfs.listSubvolumes(join(published.mnt, 'snapshots'))).map((snapshot) => snapshot.name);
      expect(snapshots).toContain(uploaded);
      expect(snapshots).toHaveLength(4); // retain = 2 would have deleted two, the uploaded one among them

      await expectNextRunPublishes(published, 'inc');
      const pointer = await readPointer(bucket, published.prefix);
      expect(((await bucket.json(pointer.manifest_key)) as { parent_manifest: string }).parent_manifest).toBe(
        JSON.parse(published.pointer.toString()).manifest_key,
      );
    });
  });

  it('snapshot directory deleted by hand: recreated, and the run makes a full saying the parent snapshot is missing', async () => {
    await withPublishedBackup('basemissing', {}, async (published) => {
      const snapshots = join(published.mnt, 'snapshots');
      for (const snapshot of await published.btrfs.listSubvolumes(snapshots)) await published.btrfs.deleteSubvolume(snapshot.path);
      await rm(snapshots, { recursive: true });
      const result = backup(published.config);
      expect(result.code).toBe(ExitCode.Success);
      expect(result.stderr).toMatch(/parent snapshot data__\S+ is missing locally/);
      expect((await readPointer(bucket, published.prefix)).kind).toBe('full');
      await expectNextRunPublishes(published, 'inc');
    });
  });

  it('snapshot directory not on Btrfs: exit 2 naming snapshots.base_dir, before the lock, a snapshot or S3', async () => {
    await withPublishedBackup('basenotbtrfs', {}, async (published) => {
      const elsewhere = join(dirname(published.config), 'not-btrfs', 'snapshots'); // the config's temp dir: not Btrfs
      const config = published.config;
      const original = await readFile(config, 'utf8');
      await writeFile(config, original.replace(`base_dir = "${published.mnt}/snapshots"`, `base_dir = "${elsewhere}"`));
      const result = backup(config);
      expect(result.code).toBe(ExitCode.Usage);
      expect(result.stderr).toContain(`snapshots.base_dir: ${elsewhere} is not on a Btrfs filesystem`);
      expect(existsSync(dirname(elsewhere))).toBe(false);
      expect(existsSync(join(published.mnt, 'state', 'run.lock'))).toBe(false);
      await expectPreviousBackupCurrent(published);
      await writeFile(config, original);
      await expectNextRunPublishes(published, 'inc');
    });
  });

  it('a configured path that is not a subvolume: that subvolume fails naming the path, the others are backed up, exit 4', async () => {
    await withLoopBtrfs(
      async (mnt) => {
        const btrfs = new Btrfs(spawnProcessRunner);
        await btrfs.createSubvolume(join(mnt, 'data'));
        await writeRandomFiles(join(mnt, 'data'), 1, MiB);
        await mkdir(join(mnt, 'plain'));
        const prefix = uniquePrefix('plain');
        const result = backup(backupConfig(mnt, prefix, ['data', 'plain']));
        expect(result.code).toBe(ExitCode.PartialFailure);
        expect(result.stderr).toContain(`${mnt}/plain`);
        expect(result.stderr).toMatch(/Not a Btrfs subvolume/i);
        expect((await readPointer(bucket, prefix)).kind).toBe('full');
        expect(await bucket.keys(`${prefix}/subvol/plain/`)).toEqual([]);
        expect((await btrfs.listSubvolumes(join(mnt, 'snapshots'))).map((entry) => entry.name)).toEqual([expect.stringMatching(/^data__/)]);
      },
      { size: '1G' },
    );
  });

  it('parent snapshot deleted by hand: the run makes a full, saying why', async () => {
    await withPublishedBackup('parentgone', {}, async (published) => {
      for (const snapshot of await published.btrfs.listSubvolumes(join(published.mnt, 'snapshots')))
        await published.btrfs.deleteSubvolume(snapshot.path);
      const result = backup(published.config);
      expect(result.code).toBe(ExitCode.Success);
      expect(result.stderr).toMatch(/full backup of snapshot .* reason=parent snapshot data__\S+ is missing locally/);
      expect((await readPointer(bucket, published.prefix)).kind).toBe('full');
      await expectRestorableChain(bucket, published.prefix);
    });
  });

  it('lock file unwritable: exit 1 naming global.lock_path and the errno, no snapshot taken; writable again, the next run succeeds', async () => {
    await withPublishedBackup('lockro', {}, async (published) => {
      const stateDir = join(published.mnt, 'state');
      const snapshotsBefore = await published.btrfs.listSubvolumes(join(published.mnt, 'snapshots'));
      await run('chattr', ['+i', stateDir]);
      let result;
      try {
        result = backup(published.config);
      } finally {
        await run('chattr', ['-i', stateDir]);
      }
      expect(result.code).toBe(ExitCode.Fatal);
      expect(result.stderr).toContain(`cannot take lock ${stateDir}/run.lock (global.lock_path): EPERM`);
      expect(await published.btrfs.listSubvolumes(join(published.mnt, 'snapshots'))).toEqual(snapshotsBefore);
      await expectPreviousBackupCurrent(published);
      await expectNextRunPublishes(published, 'inc');
    });
  });

  it.each(['backup', 'restore'])('%s without root: exit 2 saying root is needed, before the lock, a snapshot or S3', async (command) => {
    await withPublishedBackup(`notroot-${command}`, {}, async (published) => {
      chmodSync(published.config, 0o644);
      chmodSync(dirname(published.config), 0o755);
      const snapshotsBefore = await published.btrfs.listSubvolumes(join(published.mnt, 'snapshots'));
      const args =
        command === 'backup' ? ['backup', '--once'] : ['restore', '--subvolume', 'data', '--target', join(published.mnt, 'restored')];
      const { PATH } = process.env;
      const result = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args, '--config', published.config],
        {
          encoding: 'utf8',
          env: { PATH, ...gatewayEnv() },
        },
      );
      expect(result.status).toBe(ExitCode.Usage);
      expect(result.stderr).toContain(`${command} must run as root`);
      expect(existsSync(join(published.mnt, 'state', 'run.lock'))).toBe(false);
      expect(existsSync(join(published.mnt, 'restored'))).toBe(false);
      expect(await published.btrfs.listSubvolumes(join(published.mnt, 'snapshots'))).toEqual(snapshotsBefore);
      await expectPreviousBackupCurrent(published);
    });
  });
});
