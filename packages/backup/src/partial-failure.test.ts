import { ExitCode } from '@org/btrfs-s3-core';
import { BackupHost, DAY_MS } from './__fakes__/harness';
import { BackupFailedError, runBackup } from './index';

/** runBackup's rejection, which each test here expects. */
async function failedRun(host: BackupHost): Promise<BackupFailedError> {
  const error: unknown = await runBackup({ config: host.config, deps: host.deps() }).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof BackupFailedError)) throw new Error(`expected BackupFailedError, got ${String(error)}`);
  return error;
}

describe('runBackup when a subvolume fails', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost({ subvolumes: ['data', 'home'] });
  });
  afterEach(() => host.cleanup());

  it('publishes the others and exits 4 (PartialFailure) when one btrfs send fails', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const before = { data: host.current('data'), home: host.text(host.pointerKey('home')), homeState: host.state()?.subvolumes.home };
    host.advance(8 * DAY_MS);
    host.world.failSendOf('home');

    const error = await failedRun(host);

    expect(error.exitCode).toBe(ExitCode.PartialFailure);
    expect(error.message).toBe('backup failed for home');
    expect(error.result.outcomes).toEqual([
      expect.objectContaining({ subvolume: 'data', result: 'published' }),
      expect.objectContaining({ subvolume: 'home', result: 'failed', kind: 'inc', error: expect.stringContaining('btrfs send failed') }),
    ]);
    expect(host.current('data')).not.toBe(before.data);
    expect(host.text(host.pointerKey('home'))).toBe(before.home);
    expect(host.state()?.subvolumes.home).toEqual(before.homeState);
  });

  it('leaves no open upload and no new snapshot of the subvolume that failed', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const homeSnapshots = host.world.snapshotsIn(host.config.snapshots.base_dir).filter((name) => name.startsWith('home__'));
    host.advance(8 * DAY_MS);
    host.world.failSendOf('home');

    await failedRun(host);

    expect(host.bucket.uploads.size).toBe(0);
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir).filter((name) => name.startsWith('home__'))).toEqual(homeSnapshots);
  });

  it('exits 1 (Fatal) when every due subvolume fails, publishing nothing', async () => {
    host.world.failSendOf('data');
    host.world.failSendOf('home');

    const error = await failedRun(host);

    expect(error.exitCode).toBe(ExitCode.Fatal);
    expect(error.result.outcomes.map((outcome) => [outcome.subvolume, outcome.result])).toEqual([
      ['data', 'failed'],
      ['home', 'failed'],
    ]);
    expect(host.keys().filter((key) => key.endsWith('/manifest.json') || key.endsWith('/current.json'))).toEqual([]);
    expect(host.state()?.subvolumes).toEqual({});
  });

  it('exits 1 when the only due subvolume fails and the other was not due', async () => {
    await runBackup({ config: host.config, deps: host.deps(), subvolumes: ['data'] });
    host.advance(DAY_MS);
    host.world.failSendOf('home');

    const error = await failedRun(host);

    expect(error.result.outcomes.map((outcome) => [outcome.subvolume, outcome.result])).toEqual([
      ['data', 'not-due'],
      ['home', 'failed'],
    ]);
    expect(error.exitCode).toBe(ExitCode.Fatal);
  });
});
