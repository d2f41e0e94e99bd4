import { BackupHost, DAY_MS, HOUR_MS } from './__fakes__/harness';
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

    const result = await runBackup({ config: host.config, deps: host.deps(), once: true, subvolumes: ['data'] });

    expect(result.outcomes.map((outcome) => outcome.result)).toEqual(['published']);
    expect(host.keys()).not.toContain(failed.data);
    expect(host.keys()).toContain(young); // within the grace period
    expect(host.keys()).toContain(failed.home); // home was not published by this run
    expect(host.keys()).toEqual(expect.arrayContaining([...reachable('data'), ...reachable('home')]));
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
});
