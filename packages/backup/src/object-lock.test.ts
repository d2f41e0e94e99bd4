import { PutObjectRetentionCommand } from '@aws-sdk/client-s3';
import { ExitCode } from '@org/btrfs-s3-core';
import { ObjectLockUnavailableError } from '@org/btrfs-s3-store';
import { existsSync } from 'node:fs';
import { BackupHost, DAY_MS } from './__fakes__/harness';
import { DoctorFailedError, runBackup, runDoctor } from './index';

const LOCK = 'object_lock = { mode = "governance", days = 30 }';

function lockEnabled(host: BackupHost): void {
  Object.assign(host.bucket.settings, { versioning: 'Enabled', objectLock: { mode: 'GOVERNANCE', days: 1 } });
}

describe('runBackup with s3.object_lock', () => {
  let host: BackupHost;
  afterEach(() => host.cleanup());

  it('refuses a bucket without Object Lock before any snapshot, lock or write (exit 2)', async () => {
    host = new BackupHost({ s3: LOCK });
    host.bucket.settings.versioning = 'Enabled';

    const run = runBackup({ config: host.config, deps: host.deps() });

    await expect(run).rejects.toBeInstanceOf(ObjectLockUnavailableError);
    await expect(run).rejects.toMatchObject({
      exitCode: ExitCode.Usage,
      message: expect.stringMatching(/^s3\.object_lock: .*has no Object Lock/),
    });
    expect(host.bucket.commands.map((command) => command.constructor.name)).toEqual([
      'GetBucketVersioningCommand',
      'GetObjectLockConfigurationCommand',
    ]);
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).toEqual([]);
    expect(existsSync(host.config.global.lock_path)).toBe(false);
  });

  it('locks chunks, manifests and writer markers but not current.json, and keeps the full locked while incrementals build on it', async () => {
    host = new BackupHost({ s3: LOCK });
    lockEnabled(host);
    await runBackup({ config: host.config, deps: host.deps() });
    const full = host.current('data') ?? '';
    const fullDir = full.replace(/manifest\.json$/, '');
    const fullKeys = [full, ...host.manifest(full).chunks.map((chunk) => chunk.key)];

    for (const key of host.keys()) {
      const retention = host.bucket.objects.get(key)?.retention;
      if (key === host.pointerKey('data')) expect(retention).toBeUndefined();
      else expect({ key, mode: retention?.mode }).toEqual({ key, mode: 'GOVERNANCE' });
    }
    expect(host.keys()).toContain(`${fullDir}writer.json`);
    // A full is its chain: nothing older to extend.
    expect(host.bucket.of(PutObjectRetentionCommand)).toEqual([]);

    host.advance(8 * DAY_MS);
    const before = new Map(fullKeys.map((key) => [key, host.bucket.objects.get(key)?.retention?.retainUntil.getTime() ?? 0]));
    await runBackup({ config: host.config, deps: host.deps() });
    const inc = host.current('data') ?? '';

    expect(inc).not.toBe(full);
    expect(
      host.bucket
        .of(PutObjectRetentionCommand)
        .map((command) => command.input.Key)
        .sort(),
    ).toEqual([...fullKeys].sort());
    for (const key of fullKeys)
      expect(host.bucket.objects.get(key)?.retention?.retainUntil.getTime()).toBeGreaterThan(before.get(key) ?? 0);
    expect(host.bucket.objects.get(host.pointerKey('data'))?.retention).toBeUndefined();
  });
});

describe('runDoctor with s3.object_lock', () => {
  let host: BackupHost;
  afterEach(() => host.cleanup());

  it('fails the object-lock-config check on a bucket without Object Lock, naming s3.object_lock', async () => {
    host = new BackupHost({ s3: LOCK });
    const failed = runDoctor({ config: host.config, deps: { ...host.deps(), userId: 0 } });
    await expect(failed).rejects.toBeInstanceOf(DoctorFailedError);
    const report = await failed.catch((error: unknown) => (error instanceof DoctorFailedError ? error.report : undefined));
    expect(report?.checks.find((check) => check.check === 'object-lock-config')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^s3\.object_lock is set, but bucket backups has no Object Lock/),
    });
  });

  it('passes it on a lock-enabled bucket, and leaves its probes unlocked', async () => {
    host = new BackupHost({ s3: LOCK });
    lockEnabled(host);
    const report = await runDoctor({ config: host.config, deps: { ...host.deps(), userId: 0 } });
    expect(report.checks.find((check) => check.check === 'object-lock-config')?.status).toBe('ok');
    expect(host.bucket.of(PutObjectRetentionCommand)).toEqual([]);
  });
});
