import { ExitCode } from '@org/btrfs-s3-core';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UnitConfig } from './paths';
import { ScratchDirError } from './errors';
import { prepareUnits } from './prepare';

const config: UnitConfig = {
  global: {
    state_path: '/var/lib/btrfs-to-s3/state.json',
    lock_path: '/var/lock/btrfs_to_s3.lock',
    spool_dir: '/var/tmp/btrfs_to_s3/spool',
    metrics_path: '/var/lib/btrfs-to-s3/metrics.json',
  },
  schedule: { run_at: '02:00' },
  snapshots: { base_dir: '/srv/.snapshots' },
  subvolumes: { paths: ['/srv/data'] },
};

describe('prepareUnits', () => {
  let dir: string;
  let binPath: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'prepare-'));
    binPath = join(dir, 'run.js');
    await writeFile(binPath, '#!/usr/bin/env node\n');
    await chmod(binPath, 0o755);
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('renders for this executable and node, with the config path made absolute, and lists the directories to create', async () => {
    const prepared = await prepareUnits({
      config,
      configPath: '/etc/btrfs-to-s3/../btrfs-to-s3/config.toml',
      binPath,
      nodePath: '/opt/node/bin/node',
      env: {},
    });
    expect(prepared.execPath).toBe(binPath);
    expect(prepared.configPath).toBe('/etc/btrfs-to-s3/config.toml');
    expect(prepared.units['btrfs-to-s3.service']).toContain(`\nExecStart=${binPath} backup --config /etc/btrfs-to-s3/config.toml\n`);
    expect(prepared.units['btrfs-to-s3.service']).toContain('\nEnvironment=PATH=/opt/node/bin:/usr/local/sbin:');
    expect(prepared.directories).toEqual(['/srv/.snapshots', '/var/lib/btrfs-to-s3', '/var/lock']);
  });

  it('warns about what the service will not see: private /tmp paths and this shell’s config overrides', async () => {
    const prepared = await prepareUnits({
      config: { ...config, global: { ...config.global, lock_path: '/tmp/run.lock' } },
      configPath: '/etc/btrfs-to-s3/config.toml',
      binPath,
      nodePath: '/usr/bin/node',
      env: { BTRFS_TO_S3__S3__BUCKET: 'other', BTRFS_TO_S3_CONFIG: '/etc/btrfs-to-s3/config.toml', PATH: '/usr/bin' },
    });
    expect(prepared.warnings).toEqual([
      expect.stringMatching(/^global\.lock_path is under \/tmp: the service has a private \/tmp/),
      // The test's own bin script lives under /tmp too.
      expect.stringMatching(new RegExp(`^${binPath} is under /tmp or /var/tmp`)),
      expect.stringMatching(/^BTRFS_TO_S3__S3__BUCKET is set in this shell but the service will not have it/),
    ]);
  });

  it('renders no drill units unless asked to', async () => {
    const prepared = await prepareUnits({
      config,
      configPath: '/etc/btrfs-to-s3/config.toml',
      binPath,
      nodePath: '/usr/bin/node',
      env: {},
    });
    expect(Object.keys(prepared.units)).toEqual(['btrfs-to-s3.service', 'btrfs-to-s3.timer']);
  });

  it('with drill, refuses with exit 2 before anything else when drill.scratch_dir is not set, or is not a directory on Btrfs', async () => {
    const input = {
      configPath: '/etc/btrfs-to-s3/config.toml',
      binPath: join(dir, 'missing.js'),
      nodePath: '/usr/bin/node',
      env: {},
      drill: true,
    };
    // binPath does not exist: the scratch directory is checked before the executable.
    await expect(prepareUnits({ ...input, config })).rejects.toThrow(ScratchDirError);
    await expect(prepareUnits({ ...input, config })).rejects.toMatchObject({
      exitCode: ExitCode.Usage,
      message: expect.stringMatching(/^drill\.scratch_dir is not set: .*directory on Btrfs/),
    });
    const missing = `/nonexistent-btrfs-to-s3-${process.pid}/scratch`;
    await expect(prepareUnits({ ...input, config: { ...config, drill: { scratch_dir: missing } } })).rejects.toThrow(
      `drill.scratch_dir ${missing} does not exist`,
    );
    await expect(prepareUnits({ ...input, config: { ...config, drill: { scratch_dir: '/proc/version' } } })).rejects.toThrow(
      'drill.scratch_dir /proc/version is not a directory; it must be a directory on Btrfs',
    );
    await expect(prepareUnits({ ...input, config: { ...config, drill: { scratch_dir: '/proc' } } })).rejects.toThrow(
      'drill.scratch_dir /proc is not on Btrfs',
    );
  });
});
