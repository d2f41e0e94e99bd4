import { type BackupTextfile, renderPrometheusTextfile, type SubvolumeRunMetrics } from './prometheus';

const run: SubvolumeRunMetrics = {
  subvolume: 'data',
  kind: 'inc',
  ok: true,
  bytes: 1000,
  chunks: 1,
  parts: 2,
  retries: 3,
  resumedBytes: 0,
  elapsedSeconds: 4,
  finishedAt: 1_700_000_000,
};
const idle: BackupTextfile = { run: { inProgress: false, lastAttempt: 1_700_000_100, lastExitCode: 0 }, subvolumes: [], lastSuccess: [] };

describe('renderPrometheusTextfile', () => {
  it('writes HELP, TYPE and one labelled sample per subvolume for each metric', () => {
    const text = renderPrometheusTextfile({ ...idle, subvolumes: [run, { ...run, subvolume: 'home', kind: 'full', ok: false }] });
    expect(text).toContain('# TYPE btrfs_to_s3_last_run_success gauge\n');
    expect(text).toContain('btrfs_to_s3_last_run_success{subvolume="data",kind="inc"} 1\n');
    expect(text).toContain('btrfs_to_s3_last_run_success{subvolume="home",kind="full"} 0\n');
    expect(text).toContain('btrfs_to_s3_last_run_throughput_bytes_per_second{subvolume="data",kind="inc"} 250\n');
    expect(text).toContain('btrfs_to_s3_last_run_timestamp_seconds{subvolume="data",kind="inc"} 1700000000\n');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('reports the last successful backup per subvolume for staleness alerts', () => {
    const text = renderPrometheusTextfile({ ...idle, lastSuccess: [{ subvolume: 'data', timestamp: 1_700_000_000 }] });
    expect(text).toContain('# TYPE btrfs_to_s3_last_success_timestamp_seconds gauge\n');
    expect(text).toContain('btrfs_to_s3_last_success_timestamp_seconds{subvolume="data"} 1700000000\n');
  });

  it('reports the runs as a whole: in progress, last attempt and last exit code, unlabelled', () => {
    const running = renderPrometheusTextfile({ ...idle, run: { inProgress: true, lastAttempt: 1_700_000_200, lastExitCode: 4 } });
    expect(running).toContain('\nbtrfs_to_s3_run_in_progress 1\n');
    expect(running).toContain('\nbtrfs_to_s3_last_attempt_timestamp_seconds 1700000200\n');
    expect(running).toContain('\nbtrfs_to_s3_last_exit_code 4\n');
  });

  it('leaves out the attempt and exit code before the first run, keeping their HELP and TYPE', () => {
    const text = renderPrometheusTextfile({ ...idle, run: { inProgress: true, lastAttempt: null, lastExitCode: null } });
    expect(text).toContain('# TYPE btrfs_to_s3_last_exit_code gauge\n');
    expect(text).not.toMatch(/^btrfs_to_s3_last_exit_code /m);
    expect(text).not.toMatch(/^btrfs_to_s3_last_attempt_timestamp_seconds /m);
  });

  it('escapes label values', () => {
    expect(renderPrometheusTextfile({ ...idle, subvolumes: [{ ...run, subvolume: 'a"b\\c' }] })).toContain('subvolume="a\\"b\\\\c"');
  });
});
