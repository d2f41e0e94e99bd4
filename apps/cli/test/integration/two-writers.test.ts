import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { ExitCode } from '@org/btrfs-s3-core';
import { RestoreResultSchema } from '@org/btrfs-s3-restore';
import { backupConfig, Bucket, gatewayEnv, MiB, uniquePrefix, withLoopBtrfs, writeRandomFiles } from '@org/testenv';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import * as v from 'valibot';
import { BIN, cli } from '../helpers';

/**
 * Runs the CLI as another host: in its own UTS and mount namespaces, with its own host
 * name and its own /etc/machine-id (bind-mounted over the real one, in that namespace only).
 */
function cliAsHostB(dir: string, args: readonly string[]) {
  const script = 'hostname host-b && mount --bind "$1" /etc/machine-id && shift && exec "$@"';
  const result = spawnSync(
    'unshare',
    ['--uts', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', join(dir, 'machine-id'), process.execPath, BIN, ...args],
    { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME, ...gatewayEnv() } },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('two hosts on one prefix', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it("host B, with its own host name and machine id, refuses A's prefix naming A; A's chain stays whole, its next run is an incremental, and it restores A's data", async () => {
    await withLoopBtrfs(async (mnt) => {
      const btrfs = new Btrfs(spawnProcessRunner);
      const prefix = uniquePrefix('two-writers');
      const hostA = backupConfig(mnt, prefix, ['data']);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 2, MiB);
      expect(cli(['backup', '--config', hostA], gatewayEnv()).code).toBe(ExitCode.Success);

      // Host B: its own Btrfs subvolume named `data` too, the same bucket and prefix.
      const b = join(mnt, 'host-b');
      await mkdir(b);
      await btrfs.createSubvolume(join(b, 'data'));
      await writeRandomFiles(join(b, 'data'), 1, MiB, 'other');
      await writeFile(join(b, 'machine-id'), `${randomBytes(16).toString('hex')}\n`);
      const hostB = backupConfig(b, prefix, ['data']);
      const before = await bucket.keys(prefix);

      const refused = cliAsHostB(b, ['backup', '--config', hostB]);

      expect(refused.code).toBe(ExitCode.Usage);
      expect(refused.stderr).toContain(`was written by host ${hostname()} (writer `);
      expect(refused.stderr).toContain('this host is host-b');
      expect(refused.stderr).toContain('--take-over');
      expect(await bucket.keys(prefix)).toEqual(before);
      expect(await bucket.uploads(prefix)).toEqual([]);

      await writeRandomFiles(join(mnt, 'data', 'later'), 1, MiB);
      const next = cli(['backup', '--once', '--json', '--config', hostA], gatewayEnv());
      expect(next.code).toBe(ExitCode.Success);
      const pointer = (await bucket.json(`${prefix}/subvol/data/current.json`)) as { kind: string; writer: { host: string } };
      expect(pointer).toMatchObject({ kind: 'inc', writer: { host: hostname() } });

      const restored = cli(
        ['restore', '--json', '--config', hostA, '--subvolume', 'data', '--target', join(mnt, 'restored'), '--verify', 'full'],
        gatewayEnv(),
      );
      expect(restored.code).toBe(ExitCode.Success);
      expect(v.parse(RestoreResultSchema, JSON.parse(restored.stdout)).verification).toMatchObject({ mode: 'full', differences: [] });
    });
  });
});
