import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createLogger } from '@org/btrfs-s3-core';
import { s3Error } from '@org/btrfs-s3-store/testing';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { BackupHost, DAY_MS, HOUR_MS } from './__fakes__/harness';
import { DamagedBackupError, PruneFailedError } from '@org/btrfs-s3-bucket';
import { BackupFailedError, runBackup } from './index';

/**
 * Each test: a first run publishes both subvolumes, then each gets a failed run's
 * directory (chunks, no manifest) written at that time; prune_grace_hours is 1.
 */
describe('runBackup with s3.prune_after_backup', () => {
  let host: BackupHost;
  /** The failed runs' chunk keys, by subvolume. */
  let failed: { data: string; home: string };

  const setUp = async (pruneAfterBackup: boolean) => {
    host = new BackupHost({ subvolumes: ['data', 'home'], pruneAfterBackup, s3: 'prune_grace_hours = 1' });
    await runBackup({ config: host.config, deps: host.deps() });
    failed = {
      data: 'host1/subvol/data/full/20261130T000000Z/chunks/part-00000.bin',
      home: 'host1/subvol/home/full/20261130T000000Z/chunks/part-00000.bin',
    };
    for (const key of Object.values(failed)) host.bucket.put(key, Buffer.from('a killed run'), { lastModified: host.now });
  };
  afterEach(() => host.cleanup());

  /** Every object the subvolume's current.json reaches: the pointer, and each manifest of the chain with its chunks. */
  const reachable = (subvolume: string): string[] => {
    const keys = [host.pointerKey(subvolume)];
    for (let key: string | null | undefined = host.current(subvolume); key !== null && key !== undefined;) {
      const manifest = host.manifest(key);
      keys.push(key, ...manifest.chunks.map((chunk) => chunk.key));
      key = manifest.parent_manifest;
    }
    return keys;
  };

  it('deletes the aged failed-run objects of the subvolumes the run published, and of no other', async () => {
    await setUp(true);
    host.advance(2 * HOUR_MS);
    const young = 'host1/subvol/data/full/20261201T030000Z/chunks/part-00000.bin';
    host.bucket.put(young, Buffer.from('a run killed just now'), { lastModified: host.now });
    const before = host.bucket.commands.length;

    const result = await runBackup({ config: host.config, deps: host.deps(), once: true, subvolumes: ['data'] });

    expect(result.outcomes.map((outcome) => outcome.result)).toEqual(['published']);
    expect(host.keys()).not.toContain(failed.data);
    expect(host.keys()).toContain(young); // within the grace period
    expect(host.keys()).toContain(failed.home); // home was not published by this run
    expect(host.keys()).toEqual(expect.arrayContaining([...reachable('data'), ...reachable('home')]));
    // The proof before deleting took the chain's manifests as the prune had just read them: each was read once.
    const manifestReads = host.bucket.commands
      .slice(before)
      .flatMap((command) => (command instanceof GetObjectCommand ? [command.input.Key ?? ''] : []))
      .filter((key) => key.endsWith('/manifest.json'));
    expect(manifestReads.filter((key) => key === host.current('data'))).toHaveLength(1);
    expect(new Set(manifestReads).size).toBe(manifestReads.length);
  });

  it('prunes nothing of a subvolume whose new chain fails its proof (a chunk of its full is gone), and fails the run naming the chunk', async () => {
    await setUp(true);
    host.advance(2 * HOUR_MS);
    const full = host.current('data') ?? '';
    const lost = host.manifest(full).chunks[0]?.key ?? '';
    host.bucket.objects.delete(lost);

    const attempt = runBackup({ config: host.config, deps: host.deps(), once: true });

    await expect(attempt).rejects.toThrow(DamagedBackupError);
    await expect(attempt).rejects.toMatchObject({ exitCode: 1 });
    await expect(attempt).rejects.toThrow(/verify found 1 problem\(s\): data/);
    await expect(attempt).rejects.toMatchObject({
      report: { subvolumes: [{ subvolume: 'data', problems: [{ key: lost, problem: 'missing' }] }] },
    });
    expect(host.keys()).toContain(failed.data); // the proof failed: nothing of data was pruned
    expect(host.keys()).not.toContain(failed.home); // home's chain is whole: pruned as usual
  });

  it("in a versioned bucket proves the new chain with the backup's own reads: a manifest of it under a delete marker fails the proof, and nothing of that subvolume is pruned", async () => {
    await setUp(true);
    host.bucket.settings.versioning = 'Enabled';
    const full = host.current('data') ?? '';
    await runBackup({ config: host.config, deps: host.deps(), once: true, subvolumes: ['data'] }); // an incremental on the full
    host.bucket.versions.hide(full); // the prune reads through the marker; a restore of the chain would too
    host.advance(2 * HOUR_MS);

    const attempt = runBackup({ config: host.config, deps: host.deps(), once: true, subvolumes: ['data'] });

    const error: unknown = await attempt.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(PruneFailedError);
    expect(String((error as PruneFailedError).errors[0])).toContain(full);
    expect(host.keys()).toContain(failed.data);
  });

  it.each([
    ['deletes nothing (the failed runs are within their grace)', 0, false],
    ['deletes an aged failed run', 2 * HOUR_MS, true],
  ])('proves the new chain only when its plan deletes something: a plan that %s', async (_what, age, proven) => {
    await setUp(true);
    host.advance(age);
    const full = host.current('data') ?? '';
    const fullChunk = host.manifest(full).chunks[0]?.key ?? '';
    const headed: string[] = [];
    host.bucket.objectOps.hook = (command) => {
      if (command instanceof HeadObjectCommand) headed.push(command.input.Key ?? '');
    };

    const result = await runBackup({ config: host.config, deps: host.deps(), once: true, subvolumes: ['data'] });

    expect(result.outcomes.map((outcome) => outcome.result)).toEqual(['published']);
    // Only the proof checks the full's chunk: the new backup's own upload checks only its new chunk.
    expect(headed.includes(fullChunk)).toBe(proven);
    expect(host.keys().includes(failed.data)).toBe(!proven);
  });

  it('deletes nothing when s3.prune_after_backup is false', async () => {
    await setUp(false);
    host.advance(2 * HOUR_MS);
    const before = host.keys();

    await runBackup({ config: host.config, deps: host.deps(), once: true, subvolumes: ['data'] });

    expect(host.keys()).toEqual(expect.arrayContaining(before));
    expect(host.keys()).toContain(failed.data);
  });

  it('deletes nothing after a run in which a subvolume failed', async () => {
    await setUp(true);
    host.advance(8 * DAY_MS);
    host.world.failSendOf('home');

    await expect(runBackup({ config: host.config, deps: host.deps() })).rejects.toThrow(BackupFailedError);

    expect(host.keys()).toEqual(expect.arrayContaining([failed.data, failed.home]));
  });

  /** Runs a backup of data with a logger, and returns its result and the messages it logged. */
  const loggedRun = async () => {
    const stream = new PassThrough();
    const logger = createLogger({ level: 'warn', format: 'json', stream });
    const result = await runBackup({ config: host.config, deps: host.deps(), once: true, subvolumes: ['data'], logger });
    const written = text(stream);
    const flushed = once(logger, 'finish');
    logger.end();
    await flushed;
    stream.end();
    const messages = (await written)
      .split('\n')
      .filter(Boolean)
      .map((line) => String(JSON.parse(line).message));
    return { result, messages };
  };

  it.each([
    [
      'every key of its DeleteObjects',
      () => (host.bucket.objectOps.deleteErrorFor = () => ({ Code: 'AccessDenied', Message: 'Access Denied' })),
    ],
    [
      'the DeleteObjects request',
      () =>
        (host.bucket.objectOps.hook = (command) => {
          if (command instanceof DeleteObjectsCommand) throw s3Error('AccessDenied', 403);
        }),
    ],
  ])('warns instead of failing the run when the store refuses %s with AccessDenied (a backup-only credential)', async (_what, refuse) => {
    await setUp(true);
    host.advance(2 * HOUR_MS);
    refuse();

    const { result, messages } = await loggedRun();

    expect(result.outcomes.map((outcome) => outcome.result)).toEqual(['published']);
    expect(host.keys()).toContain(failed.data);
    expect(messages).toContainEqual(expect.stringContaining('the backup succeeded; pruning after it was refused (AccessDenied)'));
  });

  it('still fails the run when pruning after it fails for another reason', async () => {
    await setUp(true);
    host.advance(2 * HOUR_MS);
    host.bucket.objectOps.deleteErrorFor = () => ({ Code: 'NoSuchBucket', Message: 'gone' });

    await expect(runBackup({ config: host.config, deps: host.deps(), once: true, subvolumes: ['data'] })).rejects.toThrow(
      'prune failed for data',
    );

    // The backup itself was published: its metrics say so, beside the run's failure and the prune's.
    const textfile = host.textfile();
    expect(textfile.get('btrfs_to_s3_last_exit_code')).not.toBe(0);
    expect(textfile.get(`btrfs_to_s3_last_run_timestamp_seconds{subvolume="data",kind="inc"}`)).toBe(host.now.getTime() / 1000);
    expect(textfile.get(`btrfs_to_s3_last_run_success{subvolume="data",kind="inc"}`)).toBe(1);
  });
});
