import {
  awsConfigFile,
  awsDelete,
  awsRestore,
  awsUpload,
  type Gateway,
  inNamespace,
  ourConfigToml,
  oursBackup,
  oursRestore,
  q,
  rcloneEnv,
  rcloneUpload,
  resticEnv,
  resticInit,
  resticRepository,
  resticUpload,
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

  it('caps our upload rate with the flag, as written', () => {
    expect(oursBackup('/r.js', '/c', { main: '/t' }, 'full', { maxUploadRate: '80Mbit' })).toBe(
      '/usr/bin/time -v -o /t /r.js backup --full --max-upload-rate 80Mbit --json --config /c',
    );
  });

  it('restores with --verify none, or leaves the verification to the config', () => {
    expect(oursRestore('/r.js', '/c', 'data', '/mnt/r', 'none', { main: '/t' })).toContain('--target /mnt/r --verify none --config /c');
    expect(oursRestore('/r.js', '/c', 'data', '/mnt/r', 'default', { main: '/t' })).not.toContain('--verify');
  });

  it('measures both sides of the awscli pipeline, with Debian awscli, its defaults or our knobs', () => {
    const command = awsUpload({ snapshot: '/mnt/snap' }, gateway, 'k', 123, { main: '/t/up', source: '/t/send' });
    expect(command).toBe(
      'set -o pipefail; /usr/bin/time -v -o /t/send btrfs send -q /mnt/snap | /usr/bin/time -v -o /t/up /usr/bin/aws s3 cp - s3://btrfs-to-s3-test/k --endpoint-url http://127.0.0.1:7480 --expected-size 123 --sse AES256 --only-show-errors',
    );
    expect(awsConfigFile(gateway, tuning)).toContain('  multipart_chunksize = 128MB\n  max_concurrent_requests = 4\n');
    expect(awsConfigFile(gateway)).toBe('[default]\nregion = us-east-1\n');
    expect(() => awsUpload({ snapshot: '/s' }, gateway, 'k', 1, { main: '/t' })).toThrow(/time file for each side/);
  });

  it('sends an incremental against its parent', () => {
    expect(awsUpload({ snapshot: '/s/b', parent: '/s/a' }, gateway, 'k', 1, { main: '/m', source: '/o' })).toContain(
      '/usr/bin/time -v -o /o btrfs send -q -p /s/a /s/b | ',
    );
  });

  it('runs rclone with its own defaults, or our part size and concurrency, and a remote from the environment', () => {
    expect(rcloneUpload('/s', gateway, 'k', {}, { main: '/m', source: '/o' })).toContain(
      'rclone rcat bench:btrfs-to-s3-test/k --s3-server-side-encryption AES256',
    );
    expect(rcloneUpload('/s', gateway, 'k', { tuning }, { main: '/m', source: '/o' })).toContain(
      'rclone rcat bench:btrfs-to-s3-test/k --s3-chunk-size 128M --s3-upload-concurrency 4',
    );
    expect(rcloneUpload('/s', gateway, 'k', { bwlimitBytesPerSecond: 10e6 }, { main: '/m', source: '/o' })).toContain(
      ' --bwlimit 10000000B ',
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

  const config = { workDir: '/w', name: 'ours', subvolume: '/mnt/data', snapshotsDir: '/mnt/snaps', prefix: 'bench-ours' };

  it("writes the README's config with only what the gateway needs", () => {
    const toml = ourConfigToml(config, gateway);
    for (const line of [
      'storage_class_chunks = "STANDARD"',
      'path_style = true',
      'endpoint = "http://127.0.0.1:7480"',
      'paths = ["/mnt/data"]',
    ]) {
      expect(toml).toContain(line);
    }
    for (const key of ['checksum_mode', 'part_size_bytes', 'concurrency', 'chunk_size_bytes', 'prune_after_backup']) {
      expect(toml).not.toContain(key);
    }
  });

  it('writes the tuned config with its part size, concurrency and checksum mode', () => {
    const toml = ourConfigToml(config, gateway, { ...tuning, checksumMode: 'when_required' });
    for (const line of ['checksum_mode = "when_required"', 'part_size_bytes = 134217728', 'concurrency = 4']) {
      expect(toml).toContain(line);
    }
  });

  it('runs restic with its defaults but the upload limit, on a repository in the bucket', () => {
    const repository = resticRepository(gateway, 'bench-restic-r1');
    expect(repository).toBe('s3:http://127.0.0.1:7480/btrfs-to-s3-test/bench-restic-r1');
    expect(resticInit(repository)).toBe(`restic -r ${repository} init --quiet`);
    expect(resticUpload('/mnt/snap', repository, 9766, { main: '/m', source: '/o' })).toBe(
      `set -o pipefail; /usr/bin/time -v -o /o btrfs send -q /mnt/snap | /usr/bin/time -v -o /m restic -r ${repository} backup --stdin --stdin-filename data.btrfs --host bench --limit-upload 9766 --quiet`,
    );
    expect(resticEnv(gateway, '/w/cache')).toMatchObject({ RESTIC_CACHE_DIR: '/w/cache', AWS_ACCESS_KEY_ID: 'AK' });
  });

  it("runs a command with another namespace's network, quoted whole", () => {
    expect(inNamespace('/run/netns/b2s3-1', "set -o pipefail; a 'b' | c")).toBe(
      `nsenter --net=/run/netns/b2s3-1 -- bash -c 'set -o pipefail; a '\\''b'\\'' | c'`,
    );
  });
});
