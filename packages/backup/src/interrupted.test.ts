import { BackupHost, DAY_MS, HOUR_MS } from './__fakes__/harness';
import { BackupFailedError, runBackup } from './index';

describe('runBackup stopped by its signal', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost();
  });
  afterEach(() => host.cleanup());

  it('rejects with the abort, aborts its open upload, deletes its snapshot and leaves the previous backup current', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const previous = {
      pointer: host.text(host.pointerKey('data')),
      state: host.state(),
      snapshots: host.world.snapshotsIn(host.config.snapshots.base_dir),
    };
    host.advance(8 * DAY_MS);
    const controller = new AbortController();
    host.failpoint = (at) => {
      if (at === 'backup:first-part-uploaded') controller.abort(new Error('stopped by the test'));
    };

    await expect(runBackup({ config: host.config, deps: host.deps(), signal: controller.signal })).rejects.toThrow('stopped by the test');

    expect(host.text(host.pointerKey('data'))).toBe(previous.pointer);
    expect(host.state()).toEqual(previous.state);
    expect(host.bucket.uploads.size).toBe(0);
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).toEqual(previous.snapshots);
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
