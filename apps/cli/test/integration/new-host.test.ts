import { ListResultSchema } from '@org/btrfs-s3-bucket';
import { Btrfs, spawnProcessRunner } from '@org/btrfs-s3-btrfs';
import { RestoreResultSchema } from '@org/btrfs-s3-restore';
import {
  backupConfig,
  Bucket,
  gatewayEnv,
  MiB,
  run,
  testGateway,
  uniquePrefix,
  withLoopBtrfs,
  writeConfig,
  writeRandomFiles,
} from '@org/testenv';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import * as v from 'valibot';
import { BIN, cli } from '../helpers';

/** What the CLI reads when no --config is given; a new host has none, and this test relies on that. */
const DEFAULT_CONFIG = '/etc/btrfs-to-s3/config.toml';

describe('a new host with nothing but the bucket', () => {
  const bucket = new Bucket();
  afterAll(() => bucket.destroy());

  it('lists and restores exactly from a config holding only [s3], from flags alone with no config file, and as a stream for btrfs receive elsewhere', async () => {
    expect(existsSync(DEFAULT_CONFIG)).toBe(false);
    await withLoopBtrfs(async (mnt) => {
      // The old host: a full and an incremental with a normal config.
      const btrfs = new Btrfs(spawnProcessRunner);
      await btrfs.createSubvolume(join(mnt, 'data'));
      await writeRandomFiles(join(mnt, 'data'), 4, MiB);
      const prefix = uniquePrefix('new-host');
      const oldHost = backupConfig(mnt, prefix, ['data']);
      expect(cli(['backup', '--config', oldHost], gatewayEnv()).code).toBe(0);
      await appendFile(join(mnt, 'data', 'file-0.bin'), 'changed after the full');
      await writeRandomFiles(join(mnt, 'data', 'later'), 2, MiB / 2);
      expect(cli(['backup', '--once', '--config', oldHost], gatewayEnv()).code).toBe(0);
      const source = join(mnt, 'snapshots', readdirSync(join(mnt, 'snapshots')).sort().pop() ?? '');

      // The new host: an empty home, no state, a config with [s3] only.
      const home = mkdtempSync(join(tmpdir(), 'new-host-home-'));
      const gateway = testGateway();
      const env = { ...gatewayEnv(), HOME: home };
      const location = { bucket: gateway.bucket, region: gateway.region, prefix, endpoint: gateway.endpoint };
      const s3Only = writeConfig(
        `[s3]\n${Object.entries(location)
          .map(([key, value]) => `${key} = "${value}"`)
          .join('\n')}\npath_style = true\n`,
      );
      try {
        const listed = cli(['list', '--json', '--config', s3Only], env);
        expect(listed.code).toBe(0);
        const listing = v.parse(ListResultSchema, JSON.parse(listed.stdout));
        expect(listing.subvolumes.map((entry) => [entry.subvolume, entry.configured, entry.current?.kind])).toEqual([
          ['data', false, 'inc'],
        ]);

        await withLoopBtrfs(async (elsewhere) => {
          const fromFile = cli(['restore', '--json', '--config', s3Only, '-s', 'data', '--target', join(elsewhere, 'from-file')], env);
          expect(fromFile.code).toBe(0);
          const restored = v.parse(RestoreResultSchema, JSON.parse(fromFile.stdout));
          expect(restored.chain.map((link) => link.kind)).toEqual(['full', 'inc']);
          await run('diff', ['-r', '--no-dereference', source, restored.snapshotPath]);

          const flags = [
            '--bucket',
            location.bucket,
            '--region',
            location.region,
            '--prefix',
            prefix,
            '--endpoint',
            location.endpoint,
            '--path-style',
          ];
          const fromFlags = cli(['restore', '--json', ...flags, '-s', 'data', '--target', join(elsewhere, 'from-flags')], env);
          expect(fromFlags.code).toBe(0);
          await run('diff', ['-r', '--no-dereference', source, v.parse(RestoreResultSchema, JSON.parse(fromFlags.stdout)).snapshotPath]);

          // --stdout: the verified streams, oldest first, that btrfs receive takes elsewhere.
          const streamFile = join(home, 'chain.btrfs-stream');
          const output = openSync(streamFile, 'w');
          const streamed = spawnSync(process.execPath, [BIN, 'restore', '--stdout', ...flags, '-s', 'data'], {
            env: { PATH: process.env.PATH, ...env },
            stdio: ['ignore', output, 'pipe'],
          });
          closeSync(output);
          expect(streamed.status).toBe(0);
          await run('mkdir', [join(elsewhere, 'from-stream')]);
          await run('btrfs', ['receive', '-f', streamFile, join(elsewhere, 'from-stream')]);
          await run('diff', ['-r', '--no-dereference', source, join(elsewhere, 'from-stream', basename(source))]);
          rmSync(streamFile);

          // Writes only under its targets: no state, lock, metrics or snapshot directory appeared.
          expect(readdirSync(elsewhere).sort()).toEqual(['from-file', 'from-flags', 'from-stream']);
        });
        expect(readdirSync(home)).toEqual([]);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    });
  });

  it('without a config file, names each missing location key and where it can come from, before any request', () => {
    expect(existsSync(DEFAULT_CONFIG)).toBe(false);
    const result = cli(['restore', '--bucket', 'backups', '-s', 'data', '--target', '/restored'], gatewayEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "s3.region: is required: set it in the config's [s3] section, with --region, or with BTRFS_TO_S3__S3__REGION",
    );
    expect(result.stderr).toContain('s3.prefix: is required');
  });

  it('backup still requires its sections', () => {
    const result = cli(['backup', '--config', writeConfig('[s3]\nbucket = "backups"\nregion = "r"\nprefix = "p"\n')], gatewayEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('snapshots: is required');
    expect(result.stderr).toContain('subvolumes: is required');
  });
});
