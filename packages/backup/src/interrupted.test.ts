import { BackupHost, DAY_MS, HOUR_MS } from './__fakes__/harness';
import { createLogger, readResumeRecord, type ResumeRecord, resumeRecordPath } from '@org/btrfs-s3-core';
import { readFile, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { BackupFailedError, type BackupResult, type Failpoint, runBackup } from './index';

describe('runBackup stopped by its signal', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost();
  });
  afterEach(() => host.cleanup());

  /** What the run's one outcome resumed; undefined unless it published. */
  const resumedBytesOf = (result: BackupResult) => {
    const [outcome] = result.outcomes;
    return outcome?.result === 'published' ? outcome.metrics.resumedBytes : undefined;
  };

  /** A backup stopped by its signal at `point`; rejects as the run does. */
  const stoppedAt = async (point: Failpoint) => {
    const controller = new AbortController();
    host.failpoint = (at) => {
      if (at === point) controller.abort(new Error('stopped by the test'));
    };
    await expect(runBackup({ config: host.config, deps: host.deps(), signal: controller.signal })).rejects.toThrow('stopped by the test');
    host.failpoint = () => undefined;
  };

  it('stopped before any part is stored: rejects with the abort, deletes its snapshot and leaves the previous backup current', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const previous = {
      pointer: host.text(host.pointerKey('data')),
      state: host.state(),
      snapshots: host.world.snapshotsIn(host.config.snapshots.base_dir),
    };
    host.advance(8 * DAY_MS);
    await stoppedAt('backup:snapshot-created');

    expect(host.text(host.pointerKey('data'))).toBe(previous.pointer);
    expect(host.state()).toEqual(previous.state);
    expect(host.bucket.uploads.size).toBe(0);
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).toEqual(previous.snapshots);
    expect(await readResumeRecord(host.config.global.state_path, 'data')).toBeUndefined();
  });

  it('stopped after a part is stored: keeps its snapshot and open upload, and the next run resumes them', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const previous = { pointer: host.text(host.pointerKey('data')), state: host.state() };
    const snapshotsBefore = host.world.snapshotsIn(host.config.snapshots.base_dir);
    host.advance(8 * DAY_MS);
    await stoppedAt('backup:first-part-uploaded');

    expect(host.text(host.pointerKey('data'))).toBe(previous.pointer);
    expect(host.state()).toEqual(previous.state);
    expect(host.bucket.uploads.size).toBe(1);
    const kept = host.world.snapshotsIn(host.config.snapshots.base_dir);
    expect(kept).toHaveLength(snapshotsBefore.length + 1);
    const read = await readResumeRecord(host.config.global.state_path, 'data');
    expect(read !== undefined && 'record' in read ? read.record.open_upload?.parts.map((part) => part.number) : []).toEqual([1]);

    host.advance(HOUR_MS);
    const result = await runBackup({ config: host.config, deps: host.deps() });
    expect(resumedBytesOf(result)).toBeGreaterThan(0);
    expect(host.bucket.uploads.size).toBe(0);
    expect(host.manifest(host.current('data') ?? '').snapshot.name).toBe(kept.find((name) => !snapshotsBefore.includes(name)));
    expect(await readResumeRecord(host.config.global.state_path, 'data')).toBeUndefined();
  });

  it('a record whose chunk hash does not match the re-read stream: says so, starts afresh and publishes a correct backup', async () => {
    await stoppedAt('backup:chunk-completed');
    const path = resumeRecordPath(host.config.global.state_path, 'data');
    const record = JSON.parse(await readFile(path, 'utf8')) as ResumeRecord;
    const [first, ...rest] = record.chunks;
    expect(first).toBeDefined();
    await writeFile(path, JSON.stringify({ ...record, chunks: [{ ...first, plain_sha256: '0'.repeat(64) }, ...rest] }));

    host.advance(HOUR_MS);
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (data: Buffer) => lines.push(data.toString('utf8')));
    const logger = createLogger({ level: 'warn', format: 'json', stream });
    const result = await runBackup({ config: host.config, deps: host.deps(), logger });
    const flushed = once(logger, 'finish');
    logger.end();
    await flushed;
    const messages = lines
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((line) => String(JSON.parse(line).message));
    expect(messages).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `^data: not resuming the interrupted full backup of ${record.snapshot.name}: chunk 0's slice of the send stream differs .*; starting afresh$`,
        ),
      ),
    );
    expect(resumedBytesOf(result)).toBe(0);
    const manifest = host.manifest(host.current('data') ?? '');
    expect(manifest.snapshot.name).not.toBe(record.snapshot.name);
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).not.toContain(record.snapshot.name);
    expect(host.bucket.uploads.size).toBe(0);
    expect(await readResumeRecord(host.config.global.state_path, 'data')).toBeUndefined();
  });

  it('an interrupted backup older than s3.resume_max_age_hours is not resumed: its upload and snapshot are cleaned up', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const snapshotsBefore = host.world.snapshotsIn(host.config.snapshots.base_dir);
    host.advance(8 * DAY_MS);
    await stoppedAt('backup:first-part-uploaded');
    const interrupted = host.world.snapshotsIn(host.config.snapshots.base_dir).find((name) => !snapshotsBefore.includes(name));
    expect(host.bucket.uploads.size).toBe(1);

    host.advance(168 * HOUR_MS + 60_000);
    const result = await runBackup({ config: host.config, deps: host.deps() });
    expect(resumedBytesOf(result)).toBe(0);
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).not.toContain(interrupted);
    expect(host.bucket.uploads.size).toBe(0);
    expect(await readResumeRecord(host.config.global.state_path, 'data')).toBeUndefined();
  });

  it('a record naming a snapshot that is not ours is discarded, and that subvolume is never deleted', async () => {
    await stoppedAt('backup:chunk-completed');
    const path = resumeRecordPath(host.config.global.state_path, 'data');
    const record = JSON.parse(await readFile(path, 'utf8')) as ResumeRecord;
    await writeFile(path, JSON.stringify({ ...record, snapshot: { ...record.snapshot, path: '/srv/data' } }));

    host.advance(HOUR_MS);
    const result = await runBackup({ config: host.config, deps: host.deps() });
    expect(result.outcomes[0]?.result).toBe('published');
    expect(host.world.snapshotsIn('/srv')).toEqual(['data']);
    expect(await readResumeRecord(host.config.global.state_path, 'data')).toBeUndefined();
  });

  it('a recorded chunk the bucket no longer holds: says so, starts afresh and publishes', async () => {
    await stoppedAt('backup:chunk-completed');
    const read = await readResumeRecord(host.config.global.state_path, 'data');
    const record = read !== undefined && 'record' in read ? read.record : undefined;
    const lost = record?.chunks[0]?.key ?? '';
    host.bucket.objects.delete(lost);

    host.advance(HOUR_MS);
    const result = await runBackup({ config: host.config, deps: host.deps() });
    expect(resumedBytesOf(result)).toBe(0);
    expect(host.manifest(host.current('data') ?? '').snapshot.name).not.toBe(record?.snapshot.name);
    expect(await readResumeRecord(host.config.global.state_path, 'data')).toBeUndefined();
  });

  it('backup --no-resume discards the kept upload and snapshot and starts afresh', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const snapshotsBefore = host.world.snapshotsIn(host.config.snapshots.base_dir);
    host.advance(8 * DAY_MS);
    await stoppedAt('backup:first-part-uploaded');
    const interrupted = host.world.snapshotsIn(host.config.snapshots.base_dir).find((name) => !snapshotsBefore.includes(name));

    host.advance(HOUR_MS);
    const result = await runBackup({ config: host.config, deps: host.deps(), noResume: true });
    expect(resumedBytesOf(result)).toBe(0);
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).not.toContain(interrupted);
    expect(host.bucket.uploads.size).toBe(0);
  });
});

describe('runBackup failing after current.json names the new backup', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost();
  });
  afterEach(() => host.cleanup());

  it('keeps the snapshot current.json names, and the next run adopts it instead of starting over', async () => {
    host.failpoint = (at) => {
      if (at === 'backup:pointer-written') throw new Error('failed after publishing');
    };
    await expect(runBackup({ config: host.config, deps: host.deps() })).rejects.toBeInstanceOf(BackupFailedError);
    const published = host.manifest(host.current('data') ?? '');
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).toEqual([published.snapshot.name]);

    host.failpoint = () => undefined;
    host.advance(HOUR_MS);
    const result = await runBackup({ config: host.config, deps: host.deps() });

    expect(result.outcomes).toEqual([expect.objectContaining({ subvolume: 'data', result: 'not-due' })]);
    expect(host.state()?.subvolumes.data?.last_manifest).toBe(host.current('data'));
  });
});
