import { ExitCode, parseConfig } from '@org/btrfs-s3-core';
import { FakeS3Bucket } from '@org/btrfs-s3-store/testing';
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
});
