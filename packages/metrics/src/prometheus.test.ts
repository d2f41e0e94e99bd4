import { renderPrometheusTextfile, type SubvolumeRunMetrics } from './prometheus';

const run: SubvolumeRunMetrics = {
  subvolume: 'data',
  kind: 'inc',
  ok: true,
  bytes: 1000,
  chunks: 1,
  parts: 2,
  retries: 3,
  elapsedSeconds: 4,
  finishedAt: 1_700_000_000,
};

describe('renderPrometheusTextfile', () => {
  it('writes HELP, TYPE and one labelled sample per subvolume for each metric', () => {
    const text = renderPrometheusTextfile([run, { ...run, subvolume: 'home', kind: 'full', ok: false }]);
    expect(text).toContain('# TYPE btrfs_to_s3_last_run_success gauge\n');
    expect(text).toContain('btrfs_to_s3_last_run_success{subvolume="data",kind="inc"} 1\n');
    expect(text).toContain('btrfs_to_s3_last_run_success{subvolume="home",kind="full"} 0\n');
    expect(text).toContain('btrfs_to_s3_last_run_throughput_bytes_per_second{subvolume="data",kind="inc"} 250\n');
    expect(text).toContain('btrfs_to_s3_last_run_timestamp_seconds{subvolume="data",kind="inc"} 1700000000\n');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('reports the last successful backup per subvolume for staleness alerts', () => {
    const text = renderPrometheusTextfile([], [{ subvolume: 'data', timestamp: 1_700_000_000 }]);
    expect(text).toContain('# TYPE btrfs_to_s3_last_success_timestamp_seconds gauge\n');
    expect(text).toContain('btrfs_to_s3_last_success_timestamp_seconds{subvolume="data"} 1700000000\n');
  });

  it('escapes label values', () => {
    expect(renderPrometheusTextfile([{ ...run, subvolume: 'a"b\\c' }])).toContain('subvolume="a\\"b\\\\c"');
  });
});
