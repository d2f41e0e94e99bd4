import { acquireLock, createLogger, ExitCode, InterruptedError } from '@org/btrfs-s3-core';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackupHost, DAY_MS, HOUR_MS, T0 } from './__fakes__/harness';
import { runBackup } from './index';
import { UNFINISHED_RUN_EXIT_CODE } from './run-record';

const seconds = (date: Date) => date.getTime() / 1000;
/** runBackup's rejection, or undefined when it resolved. */
const outcomeOf = (run: Promise<unknown>) =>
  run.then(
    () => undefined,
    (error: unknown) => error as { exitCode?: number },
  );

describe('the run record and textfile', () => {
  let host: BackupHost;
  beforeEach(() => {
    host = new BackupHost({ subvolumes: ['data', 'home'] });
  });
  afterEach(() => host.cleanup());

  it('shows the run in progress from its start, then its end: exit code 0, the attempt time, each subvolume', async () => {
    let during = new Map<string, number>();
    host.failpoint = (at) => {
      if (at === 'backup:snapshot-created' && during.size === 0) during = host.textfile();
    };

    await runBackup({ config: host.config, deps: host.deps() });

    expect(during.get('btrfs_to_s3_run_in_progress')).toBe(1);
    expect(during.get('btrfs_to_s3_last_attempt_timestamp_seconds')).toBe(seconds(T0));
    expect(during.has('btrfs_to_s3_last_exit_code')).toBe(false); // no run has ended yet
    const after = host.textfile();
    expect(after.get('btrfs_to_s3_run_in_progress')).toBe(0);
    expect(after.get('btrfs_to_s3_last_exit_code')).toBe(0);
    expect(after.get('btrfs_to_s3_last_attempt_timestamp_seconds')).toBe(seconds(T0));
    expect(after.get('btrfs_to_s3_last_run_success{subvolume="data",kind="full"}')).toBe(1);
    expect(after.get('btrfs_to_s3_last_success_timestamp_seconds{subvolume="home"}')).toBe(seconds(T0));
  });

  it("keeps each subvolume's last outcome through runs where it was not due, and records a partial failure's 4", async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    host.advance(HOUR_MS);
    await runBackup({ config: host.config, deps: host.deps() }); // nothing due
    expect(host.textfile().get('btrfs_to_s3_last_run_bytes{subvolume="data",kind="full"}')).toBeGreaterThan(0);

    host.advance(8 * DAY_MS);
    host.world.failSendOf('home');
    const error = await outcomeOf(runBackup({ config: host.config, deps: host.deps() }));

    expect(error?.exitCode).toBe(ExitCode.PartialFailure);
    const after = host.textfile();
    expect(after.get('btrfs_to_s3_last_exit_code')).toBe(ExitCode.PartialFailure);
    expect(after.get('btrfs_to_s3_last_run_success{subvolume="data",kind="inc"}')).toBe(1);
    expect(after.get('btrfs_to_s3_last_run_success{subvolume="home",kind="inc"}')).toBe(0);
    expect(after.get('btrfs_to_s3_last_success_timestamp_seconds{subvolume="home"}')).toBe(seconds(T0)); // the last published one
    expect(after.get('btrfs_to_s3_last_attempt_timestamp_seconds')).toBe(seconds(host.now));
  });

  it('records an interrupted run with the exit code of its signal, not in progress', async () => {
    const controller = new AbortController();
    host.failpoint = (at) => {
      if (at === 'backup:first-part-uploaded') controller.abort(new InterruptedError('SIGTERM'));
    };

    await outcomeOf(runBackup({ config: host.config, deps: host.deps(), signal: controller.signal }));

    expect(host.textfile().get('btrfs_to_s3_last_exit_code')).toBe(ExitCode.Terminated);
    expect(host.textfile().get('btrfs_to_s3_run_in_progress')).toBe(0);
  });

  it('records a run the record still shows in progress (a SIGKILL, a power cut) as exit code 137 at the next start, saying so', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const path = host.config.global.metrics_path;
    const record = JSON.parse(readFileSync(path, 'utf8')) as { run: { in_progress: boolean; pid: number } };
    writeFileSync(path, JSON.stringify({ ...record, run: { ...record.run, in_progress: true, pid: 999_999 } })); // as a killed run leaves it
    host.advance(8 * DAY_MS);
    let during = new Map<string, number>();
    host.failpoint = (at) => {
      if (at === 'backup:snapshot-created' && during.size === 0) during = host.textfile();
    };
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    const logger = createLogger({ level: 'warn', format: 'json', stream });

    await runBackup({ config: host.config, deps: host.deps(), logger });
    const flushed = once(logger, 'finish');
    logger.end();
    await flushed;

    expect(during.get('btrfs_to_s3_last_exit_code')).toBe(UNFINISHED_RUN_EXIT_CODE);
    expect(during.get('btrfs_to_s3_run_in_progress')).toBe(1);
    expect(lines.join('')).toContain('the previous backup run (PID 999999');
    expect(host.textfile().get('btrfs_to_s3_last_exit_code')).toBe(0);
  });

  it('records a run refused by the lock with exit code 3, leaving the backup that holds it in progress', async () => {
    await runBackup({ config: host.config, deps: host.deps() });
    const path = host.config.global.metrics_path;
    const record = JSON.parse(readFileSync(path, 'utf8')) as { run: Record<string, unknown> };
    writeFileSync(path, JSON.stringify({ ...record, run: { ...record.run, in_progress: true, pid: process.pid } })); // as its start wrote it
    const lock = await acquireLock(host.config.global.lock_path);
    try {
      const error = await outcomeOf(runBackup({ config: host.config, deps: host.deps() }));
      expect(error?.exitCode).toBe(ExitCode.LockBusy);
      expect(host.textfile().get('btrfs_to_s3_last_exit_code')).toBe(ExitCode.LockBusy);
      expect(host.textfile().get('btrfs_to_s3_run_in_progress')).toBe(1);
    } finally {
      await lock.release();
    }
  });

  it('shows no backup in progress when the lock is held by something else (a prune, a drill), and the next run finds no dead run', async () => {
    const lock = await acquireLock(host.config.global.lock_path);
    try {
      await outcomeOf(runBackup({ config: host.config, deps: host.deps() }));
      expect(host.textfile().get('btrfs_to_s3_last_exit_code')).toBe(ExitCode.LockBusy);
      expect(host.textfile().get('btrfs_to_s3_run_in_progress')).toBe(0);
    } finally {
      await lock.release();
    }
    let during = new Map<string, number>();
    host.failpoint = (at) => {
      if (at === 'backup:snapshot-created' && during.size === 0) during = host.textfile();
    };

    await runBackup({ config: host.config, deps: host.deps() });

    expect(during.get('btrfs_to_s3_last_exit_code')).toBe(ExitCode.LockBusy); // not 137: nothing died
    expect(host.textfile().get('btrfs_to_s3_last_exit_code')).toBe(0);
  });

  it('writes nothing for bad input, which fails before any side effect', async () => {
    const error = await outcomeOf(runBackup({ config: host.config, deps: host.deps(), subvolumes: ['nope'] }));

    expect(error?.exitCode).toBe(ExitCode.Usage);
    expect(existsSync(host.config.global.metrics_path)).toBe(false);
    expect(host.textfile().size).toBe(0);
  });

  it('refuses to start, naming the keys, when the textfile cannot be written, before any snapshot', async () => {
    mkdirSync(join(host.dir, 'textfile'));
    writeFileSync(join(host.dir, 'textfile', 'btrfs-to-s3.prom'), '');
    const blocked = {
      ...host.config,
      global: { ...host.config.global, prometheus_textfile: join(host.dir, 'textfile', 'btrfs-to-s3.prom', 'x.prom') },
    };

    const error = await outcomeOf(runBackup({ config: blocked, deps: host.deps() }));

    expect(error?.exitCode).toBe(ExitCode.Usage);
    expect(String(error)).toContain('global.prometheus_textfile');
    expect(host.world.snapshotsIn(host.config.snapshots.base_dir)).toEqual([]);
    expect(host.keys()).toEqual([]);
  });
});
