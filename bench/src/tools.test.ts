import {
  awsConfigFile,
  awsDelete,
  awsRestore,
  awsUpload,
  type Gateway,
  ourConfigToml,
  oursBackup,
  q,
  rcloneEnv,
  rcloneUpload,
  sendToNull,
} from './tools';

const gateway: Gateway = {
  endpoint: 'http://127.0.0.1:7480',
  region: 'us-east-1',
  bucket: 'btrfs-to-s3-test',
  accessKeyId: 'AK',
  secretAccessKey: 'SK',
};
const tuning = { partSizeBytes: 128 * 2 ** 20, concurrency: 4 };

describe('command lines', () => {
  it('quotes what bash would split', () => {
    expect(q('/mnt/a-b_c.1')).toBe('/mnt/a-b_c.1');
    expect(q("it's here")).toBe(`'it'\\''s here'`);
  });

  it('times btrfs send alone', () => {
    expect(sendToNull('/mnt/snap', { main: '/t/send.time' })).toBe('/usr/bin/time -v -o /t/send.time btrfs send -q /mnt/snap >/dev/null');
  });

  it('runs our executable by its path, so its shebang flags apply', () => {
    expect(oursBackup('/repo/apps/cli/bin/run.js', '/w/c.toml', { main: '/t/o.time' }, 'full')).toBe(
      '/usr/bin/time -v -o /t/o.time /repo/apps/cli/bin/run.js backup --full --json --config /w/c.toml',
    );
    expect(oursBackup('/r.js', '/c', { main: '/t' }, 'incremental')).toContain('backup --once');
  });

  it('measures both sides of the awscli pipeline, with Debian awscli and the same knobs', () => {
    const command = awsUpload('/mnt/snap', gateway, 'k', 123, { main: '/t/up', source: '/t/send' });
    expect(command).toBe(
      'set -o pipefail; /usr/bin/time -v -o /t/send btrfs send -q /mnt/snap | /usr/bin/time -v -o /t/up /usr/bin/aws s3 cp - s3://btrfs-to-s3-test/k --endpoint-url http://127.0.0.1:7480 --expected-size 123 --sse AES256 --only-show-errors',
    );
    expect(awsConfigFile(gateway, tuning)).toContain('  multipart_chunksize = 128MB\n  max_concurrent_requests = 4\n');
    expect(() => awsUpload('/s', gateway, 'k', 1, { main: '/t' })).toThrow(/time file for each side/);
  });

  it('gives rclone the same part size and concurrency, and a remote from the environment', () => {
    expect(rcloneUpload('/s', gateway, 'k', tuning, { main: '/m', source: '/o' })).toContain(
      'rclone rcat bench:btrfs-to-s3-test/k --s3-chunk-size 128M --s3-upload-concurrency 4',
    );
    expect(rcloneEnv(gateway)).toMatchObject({
      RCLONE_CONFIG_BENCH_TYPE: 's3',
      RCLONE_CONFIG_BENCH_PROVIDER: 'Ceph',
      RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: 'true',
      AWS_CA_BUNDLE: null,
    });
  });

  it('restores the peer way into btrfs receive', () => {
    expect(awsRestore(gateway, 'k', '/mnt/r', { main: '/m', source: '/o' })).toBe(
      'set -o pipefail; /usr/bin/time -v -o /m /usr/bin/aws s3 cp s3://btrfs-to-s3-test/k - --endpoint-url http://127.0.0.1:7480 --only-show-errors | /usr/bin/time -v -o /o btrfs receive -q /mnt/r',
    );
  });

  it('deletes a key or a whole prefix', () => {
    expect(awsDelete(gateway, 'peers/a')).not.toContain('--recursive');
    expect(awsDelete(gateway, 'bench-ours/')).toContain('s3://btrfs-to-s3-test/bench-ours/ --recursive');
  });

  it('writes our config with the benchmark settings', () => {
    const toml = ourConfigToml(
      { workDir: '/w', name: 'ours', subvolume: '/mnt/data', snapshotsDir: '/mnt/snaps', prefix: 'bench-ours' },
      gateway,
      tuning,
    );
    for (const line of [
      'checksum_mode = "when_required"',
      'storage_class_chunks = "STANDARD"',
      'path_style = true',
      'part_size_bytes = 134217728',
      'concurrency = 4',
      'endpoint = "http://127.0.0.1:7480"',
      'paths = ["/mnt/data"]',
      'prune_after_backup = false',
    ]) {
      expect(toml).toContain(line);
    }
    expect(toml).not.toContain('chunk_size_bytes');
  });
});
