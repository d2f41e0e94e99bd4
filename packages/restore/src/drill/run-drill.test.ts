import { GetObjectCommand, RestoreObjectCommand } from '@aws-sdk/client-s3';
import { sampledChunks } from '@org/btrfs-s3-bucket';
import { ExitCode, loadRemoteConfig } from '@org/btrfs-s3-core';
import { FakeS3Bucket, plantBackup, plantPointer } from '@org/btrfs-s3-store/testing';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DrillFailedError, RestoreInputError, runDrill } from '../index';

const DECEMBER = new Date('2026-12-06T03:00:00Z');

describe('runDrill', () => {
  let dir: string;
  let bucket: FakeS3Bucket;
  let client: ReturnType<FakeS3Bucket['asS3Client']>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'drill-'));
    bucket = new FakeS3Bucket();
    client = bucket.asS3Client();
  });
  afterEach(() => {
    client.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A config with only [s3] and where the metrics go, as on a host that only drills. */
  function config(extra = '', s3 = '') {
    const path = join(dir, 'config.toml');
    writeFileSync(
      path,
      `
[global]
metrics_path = "${dir}/metrics.json"
prometheus_textfile = "${dir}/btrfs-to-s3.prom"
[s3]
bucket = "backups"
region = "eu-west-1"
prefix = "host1"
${s3}
[restore]
thaw_poll_seconds = 0.01
${extra}
`,
    );
    return loadRemoteConfig(path);
  }

  /** A full of four chunks and an incremental of two, chunks in DEEP_ARCHIVE. */
  function archivedChain(restore: 'none' | 'restored') {
    const common = { storageClass: 'DEEP_ARCHIVE', restore } as const;
    const full = plantBackup(bucket, { ...common, kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['f0', 'f1', 'f2', 'f3'] });
    const inc = plantBackup(bucket, { ...common, kind: 'inc', at: new Date('2026-11-08T02:00:00Z'), parent: full, chunks: ['i0', 'i1'] });
    plantPointer(bucket, inc);
    return { full, inc };
  }

  const drill = async (options: { sample?: number; thaw?: boolean; extra?: string; s3?: string; scratch?: string }, now = DECEMBER) =>
    runDrill({ config: await config(options.extra, options.s3), subvolumes: ['data'], ...options, deps: { client, now: () => now } });

  it('refuses an archived chain without --thaw or --sample before any thaw request or chunk GET (exit 2)', async () => {
    archivedChain('none');

    const attempt = drill({});

    await expect(attempt).rejects.toThrow(RestoreInputError);
    await expect(attempt).rejects.toThrow(/readable only after a paid thaw: pass --thaw .* or --sample N/);
    expect(bucket.of(RestoreObjectCommand)).toHaveLength(0);
    expect(bucket.of(GetObjectCommand).filter((command) => command.input.Key?.includes('/chunks/'))).toHaveLength(0);
  });

  it('refuses a chain whose parts are larger than restore.max_part_size_bytes (exit 2), before any thaw request or chunk GET', async () => {
    const MiB = 1024 * 1024;
    const archived = { storageClass: 'DEEP_ARCHIVE', restore: 'none' } as const;
    const full = plantBackup(bucket, { ...archived, kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['x'.repeat(6 * MiB)] });
    plantPointer(bucket, full);

    const attempt = drill({ sample: 1, extra: `max_part_size_bytes = ${5 * MiB}`, s3: `part_size_bytes = ${5 * MiB}` });

    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    await expect(attempt).rejects.toThrow(`larger than the 5 MiB a download here may hold`);
    expect(bucket.of(RestoreObjectCommand)).toHaveLength(0);
    expect(bucket.of(GetObjectCommand).filter((command) => command.input.Key?.includes('/chunks/'))).toHaveLength(0);
  });

  it('refuses a full drill without a scratch directory, naming the flag and the key, before any chunk GET', async () => {
    const full = plantBackup(bucket, { kind: 'full', at: new Date('2026-11-01T02:00:00Z'), chunks: ['f0'] });
    plantPointer(bucket, full);

    const attempt = drill({});

    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    await expect(attempt).rejects.toThrow('--scratch (or drill.scratch_dir) is required');
    expect(bucket.of(GetObjectCommand).filter((command) => command.input.Key?.includes('/chunks/'))).toHaveLength(0);
  });

  it("sampled: thaws only this month's chosen chunks of each backup, then re-hashes them and records the success", async () => {
    const { full, inc } = archivedChain('restored');

    const result = await drill({ sample: 1 });

    const chosen = [
      ...sampledChunks(full.key, full.manifest.chunks, 1, '2026-12'),
      ...sampledChunks(inc.key, inc.manifest.chunks, 1, '2026-12'),
    ].map((chunk) => chunk.key);
    const read = bucket
      .of(GetObjectCommand)
      .map((command) => command.input.Key)
      .filter((key) => key?.includes('/chunks/'));
    expect(new Set(read)).toEqual(new Set(chosen));
    expect(result.subvolumes).toEqual([
      expect.objectContaining({ subvolume: 'data', mode: 'sample', ok: true, chunksRead: 2, backups: 2 }),
    ]);
    expect(readFileSync(join(dir, 'btrfs-to-s3-drill.prom'), 'utf8')).toContain(
      `btrfs_to_s3_last_drill_success_timestamp_seconds{subvolume="data",mode="sample"} ${DECEMBER.getTime() / 1000}\n`,
    );
  });

  it('sampled: requests the thaw of the chosen chunks only; without waiting it exits 5 and records a failed attempt', async () => {
    archivedChain('none');

    const attempt = drill({ sample: 1, extra: 'wait_for_restore = false' });

    await expect(attempt).rejects.toThrow(DrillFailedError);
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.RestorePending });
    expect(bucket.of(RestoreObjectCommand)).toHaveLength(2); // one chunk of each of the two backups
    const record = JSON.parse(readFileSync(join(dir, 'metrics-drill.json'), 'utf8')) as { drills: { ok: boolean }[] };
    expect(record.drills).toEqual([expect.objectContaining({ subvolume: 'data', mode: 'sample', ok: false, last_success_at: null })]);
  });

  it('sampled: a damaged chosen chunk fails the drill naming its key, and keeps the last success time', async () => {
    const { full } = archivedChain('restored');
    await drill({ sample: 4 }); // every chunk of the full: passes, and records a success
    const damaged = full.manifest.chunks[2]?.key ?? '';
    bucket.put(damaged, Buffer.from('xx'), { storageClass: 'DEEP_ARCHIVE', restore: 'restored' });

    const later = new Date(DECEMBER.getTime() + 3_600_000);
    const attempt = drill({ sample: 4 }, later);

    await expect(attempt).rejects.toThrow(damaged);
    await expect(attempt).rejects.toMatchObject({ exitCode: ExitCode.Fatal });
    const textfile = readFileSync(join(dir, 'btrfs-to-s3-drill.prom'), 'utf8');
    expect(textfile).toContain(
      `btrfs_to_s3_last_drill_success_timestamp_seconds{subvolume="data",mode="sample"} ${DECEMBER.getTime() / 1000}\n`,
    );
    expect(textfile).toContain(
      `btrfs_to_s3_last_drill_attempt_timestamp_seconds{subvolume="data",mode="sample"} ${later.getTime() / 1000}\n`,
    );
    expect(textfile).toContain('btrfs_to_s3_last_drill_success{subvolume="data",mode="sample"} 0\n');
  });

  it('records a subvolume without a backup as a failed drill', async () => {
    const attempt = drill({ sample: 1 });

    await expect(attempt).rejects.toThrow(/drill failed: data: /);
    expect(JSON.parse(readFileSync(join(dir, 'metrics-drill.json'), 'utf8'))).toMatchObject({ drills: [{ subvolume: 'data', ok: false }] });
  });
});

describe('sampledChunks', () => {
  it('picks the same chunks for the same round, and rotates them from round to round', () => {
    const chunks = Array.from({ length: 8 }, (_, index) => ({ key: `host1/data/full/x/chunks/${index}` }));
    const months = Array.from({ length: 12 }, (_, index) => `2027-${String(index + 1).padStart(2, '0')}`);

    const picks = months.map((month) => sampledChunks('host1/data/full/x/manifest.json', chunks, 1, month)[0]?.key);

    expect(sampledChunks('host1/data/full/x/manifest.json', chunks, 1, '2027-01')[0]?.key).toBe(picks[0]);
    expect(new Set(picks).size).toBeGreaterThan(3);
  });
});
