import { GetObjectCommand, RestoreObjectCommand } from '@aws-sdk/client-s3';
import { ExitCode, parseConfig, PartLimitError } from '@org/btrfs-s3-core';
import { FakeS3Bucket, plantBackup, plantPointer } from '@org/btrfs-s3-store/testing';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RestoreTargetError, runRestore, SubvolumeNameError } from './index';

const config = parseConfig(`
[snapshots]
base_dir = "/srv/.snapshots"
[subvolumes]
paths = ["/srv/data"]
[s3]
bucket = "backups"
region = "eu-west-1"
prefix = "host1"
`);

describe('runRestore argument checks', () => {
  let bucket: FakeS3Bucket;
  let client: ReturnType<FakeS3Bucket['asS3Client']>;
  beforeEach(() => {
    bucket = new FakeS3Bucket();
    client = bucket.asS3Client();
  });
  afterEach(() => client.destroy());

  it.each(['../data', 'srv/data', '/srv/data', '..', ''])(
    'rejects the subvolume name %j with SubvolumeNameError (exit 2) before any S3 request',
    async (subvolume) => {
      const attempt = runRestore({ config, subvolume, target: '/mnt/restore', deps: { client } });

      await expect(attempt).rejects.toThrow(SubvolumeNameError);
      await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Usage });
      expect(bucket.commands).toHaveLength(0);
    },
  );

  it('rejects a relative target with RestoreTargetError (exit 2) before any S3 request', async () => {
    const attempt = runRestore({ config, subvolume: 'data', target: 'restore/here', deps: { client } });

    await expect(attempt).rejects.toThrow(RestoreTargetError);
    await expect(attempt).rejects.toThrow('--target must be an absolute path, got "restore/here"');
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    expect(bucket.commands).toHaveLength(0);
  });

  it('refuses a chain whose parts are larger than restore.max_part_size_bytes (exit 2), before any thaw request or chunk GET', async () => {
    const MiB = 1024 * 1024;
    // Parts of 6 MiB against a 5 MiB limit (the smallest S3 part size both keys allow).
    const small = {
      ...config,
      s3: { ...config.s3, part_size_bytes: 5 * MiB },
      restore: { ...config.restore, max_part_size_bytes: 5 * MiB },
    };
    const archived = { storageClass: 'DEEP_ARCHIVE', restore: 'none' } as const;
    const full = plantBackup(bucket, { ...archived, kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['small'] });
    const inc = plantBackup(bucket, {
      ...archived,
      kind: 'inc',
      at: new Date('2026-11-08T02:00:00Z'),
      parent: full,
      chunks: ['x'.repeat(6 * MiB)],
    });
    plantPointer(bucket, inc);

    const target = join(tmpdir(), `part-limit-${process.pid}`);
    const attempt = runRestore({ config: small, subvolume: 'data', target, deps: { client } });

    await expect(attempt).rejects.toThrow(PartLimitError);
    await expect(attempt).rejects.toThrow(
      `manifest ${inc.key}: part 1 of ${inc.manifest.chunks[0]?.key ?? ''} is 6 MiB, larger than the 5 MiB`,
    );
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    expect(bucket.of(RestoreObjectCommand)).toHaveLength(0);
    expect(bucket.of(GetObjectCommand).filter((command) => command.input.Key?.includes('/chunks/'))).toHaveLength(0);
    expect(existsSync(target)).toBe(false);
  });
});
